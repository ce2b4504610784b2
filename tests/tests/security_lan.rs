//! The LAN deployment of docs/SECURITY.md as an attacker meets it: a real Mosquitto started from
//! the files `pingan mosquitto` writes, the gateway as its uplink with
//! `command_identity = "topic"`, staff and a platform as `mosquitto_pub`/`mosquitto_sub`
//! clients. Strangers are refused, staff cannot forge snapshots or status or act under another
//! name, and the audit trail names the MQTT user who acted.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use pingan_tests::{
    Mosquitto, Subscriber, free_port, pingan, pingan_output, site_config, sos_scenario, topic_json,
    wait_for_port,
};
use serde_json::Value;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// `mosquitto_pub` at QoS 1 as `user`; returns whether the broker let the client connect.
fn publish(port: u16, user: &str, password: &str, topic: &str, body: &str, retain: bool) -> bool {
    let mut c = Command::new("mosquitto_pub");
    c.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1"])
        .args(["-u", user, "-P", password, "-t", topic, "-m", body]);
    if retain {
        c.arg("-r");
    }
    c.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether a subscription attempt with these credentials is refused at CONNECT.
fn connect_refused(port: u16, login: Option<(&str, &str)>) -> bool {
    let mut c = Command::new("mosquitto_sub");
    c.args([
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-t",
        "pingan/#",
        "-C",
        "1",
        "-W",
        "5",
    ]);
    if let Some((u, p)) = login {
        c.args(["-u", u, "-P", p]);
    }
    let out = c.output().expect("mosquitto_sub");
    let err = String::from_utf8_lossy(&out.stderr);
    !out.status.success() && err.contains("not authorised")
}

#[test]
fn lan_broker_refuses_strangers_forgeries_and_impersonation_and_the_audit_names_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let (mqtt, http, lan) = (free_port(), free_port(), free_port());
    let broker_dir = dir.path().join("broker");
    let uplink = format!(
        "[[uplinks]]\nid = \"lan\"\nurl = \"mqtt://127.0.0.1:{lan}\"\nusername = \"pingan-t\"\n\
         password_file = \"{}\"\nalerts = true\ncommands = true\ncommand_identity = \"topic\"\n",
        broker_dir.join("gateway.password").display()
    );
    let config = site_config(
        dir.path(),
        mqtt,
        http,
        2,
        &sos_scenario(&[(0, 4000)]),
        &uplink,
    );
    let (code, out, err) = pingan_output(&[
        "mosquitto",
        "--config",
        config.to_str().unwrap(),
        "--out",
        broker_dir.to_str().unwrap(),
        "--staff",
        "li.na",
        "--staff",
        "wang",
        "--observer",
        "platform",
        "--listen",
        &format!("127.0.0.1:{lan}"),
    ]);
    assert_eq!(code, 0, "{err}");
    let password = |user: &str| -> String {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{user}\t")))
            .and_then(|l| l.rsplit('\t').next())
            .unwrap_or_else(|| panic!("no password for {user} in:\n{out}"))
            .to_owned()
    };
    let (li, wang, platform) = (password("li.na"), password("wang"), password("platform"));
    let _broker = Mosquitto::start_conf(lan, &read(&broker_dir.join("mosquitto.conf")));

    assert!(connect_refused(lan, None), "anonymous clients are refused");
    assert!(
        connect_refused(lan, Some(("li.na", "wrong-password"))),
        "a wrong password is refused"
    );
    assert!(
        connect_refused(lan, Some(("nobody", &li))),
        "an unknown user is refused"
    );

    let observer = Subscriber::mosquitto_sub_auth(
        lan,
        "platform",
        &platform,
        &["pingan/t/alerts/#", "pingan/t/status"],
    );
    let log = dir.path().join("gw.log");
    let mut gw = pingan(&["run", "--config", config.to_str().unwrap()], &log);
    assert!(
        wait_for_port(mqtt, Duration::from_secs(20)),
        "{}",
        read(&log)
    );
    let first = observer
        .until(Duration::from_secs(30), |l| l.contains("\"kind\":\"sos\""))
        .unwrap_or_else(|| panic!("the SOS never reached the platform; log:\n{}", read(&log)));
    let (_, snap) = topic_json(&first).unwrap();
    let id = snap["id"].as_str().unwrap().to_owned();

    // A stranger's acknowledgement, as in the original report: refused at CONNECT.
    let anonymous = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &lan.to_string(), "-q", "1"])
        .args([
            "-t",
            &format!("pingan/t/cmd/alerts/{id}/ack"),
            "-m",
            r#"{"by":"护士 李娜 Nurse Li"}"#,
        ])
        .output()
        .expect("mosquitto_pub");
    assert!(!anonymous.status.success(), "an anonymous client got in");
    // The attacks, each from a logged-in staff account, all before the real acknowledgement.
    let forged =
        serde_json::json!({"v": 1, "id": id, "revision": 9999, "state": "resolved", "kind": "sos"});
    assert!(publish(
        lan,
        "li.na",
        &li,
        &format!("pingan/t/alerts/{id}"),
        &forged.to_string(),
        false
    ));
    assert!(publish(
        lan,
        "li.na",
        &li,
        "pingan/t/status",
        r#"{"v":1,"site":"t","status":"offline"}"#,
        true
    ));
    assert!(publish(
        lan,
        "wang",
        &wang,
        &format!("pingan/t/cmd/users/li.na/alerts/{id}/resolve"),
        r#"{"note":"pretending to be li.na"}"#,
        false
    ));
    assert!(publish(
        lan,
        "li.na",
        &li,
        &format!("pingan/t/cmd/alerts/{id}/resolve"),
        r#"{"by":"wang"}"#,
        false
    ));
    // The real one: li.na acknowledges under her own name, typing her full name beside it.
    assert!(publish(
        lan,
        "li.na",
        &li,
        &format!("pingan/t/cmd/users/li.na/alerts/{id}/ack"),
        r#"{"by":"护士 李娜 Nurse Li","note":"on my way"}"#,
        false
    ));
    let mut seen: Vec<Value> = Vec::new();
    let acked = observer.until(Duration::from_secs(20), |l| {
        if let Some((topic, v)) = topic_json(l) {
            let done = v["state"] == "acknowledged";
            seen.push(serde_json::json!({"topic": topic, "payload": v}));
            done
        } else {
            false
        }
    });
    assert!(
        acked.is_some(),
        "no acknowledgement; saw {seen:?}; log:\n{}",
        read(&log)
    );
    let (_, ack) = topic_json(&acked.unwrap()).unwrap();
    assert_eq!(ack["acknowledged_by"], "护士 李娜 Nurse Li (li.na)");
    for m in &seen {
        let p = &m["payload"];
        assert_ne!(
            p["revision"], 9999,
            "a forged snapshot reached the platform: {m}"
        );
        assert_ne!(
            p["state"], "resolved",
            "an impersonated resolve took effect: {m}"
        );
        assert_ne!(
            p["status"], "offline",
            "a forged status reached the platform: {m}"
        );
    }
    let status = Subscriber::mosquitto_sub_auth(lan, "platform", &platform, &["pingan/t/status"]);
    let retained = status.next(Duration::from_secs(10)).unwrap_or_default();
    assert!(
        retained.contains("\"online\""),
        "retained status: {retained}"
    );

    // The audit trail records the ACL-enforced user as the account.
    gw.signal("TERM");
    assert_eq!(
        gw.wait_exit(Duration::from_secs(20)),
        Some(0),
        "{}",
        read(&log)
    );
    let (code, audit, err) = pingan_output(&[
        "alerts",
        "audit",
        &id,
        "--json",
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let entries: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ack = entries
        .iter()
        .find(|e| e["action"] == "acknowledged")
        .unwrap_or_else(|| panic!("no acknowledgement in {entries:?}"));
    assert_eq!(ack["account"], "li.na");
    assert_eq!(ack["via"], "mqtt");
    assert_eq!(ack["by"], "护士 李娜 Nurse Li (li.na)");
    assert!(
        !entries.iter().any(|e| e["action"] == "resolved"),
        "{entries:?}"
    );
}
