//! Uplinks as a platform runs them: TLS with a client certificate, credentials, a refusing
//! broker, an unreadable certificate, the contracted alert fields.

use super::*;

#[test]
fn tls_uplink_with_a_test_ca_and_a_client_certificate_delivers_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sh = |args: &str| {
        let ok = std::process::Command::new("sh")
            .arg("-c")
            .arg(args)
            .current_dir(d)
            .status()
            .unwrap();
        assert!(ok.success(), "{args}");
    };
    sh(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pingan-test-ca -keyout ca.key -out ca.pem 2>/dev/null",
    );
    sh(
        "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr 2>/dev/null",
    );
    sh(
        "printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > ext.cnf && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out server.pem 2>/dev/null",
    );
    sh(
        "openssl req -newkey rsa:2048 -nodes -subj /CN=pingan-gateway -keyout client.key -out client.csr 2>/dev/null && printf 'basicConstraints=CA:FALSE\\nextendedKeyUsage=clientAuth\\n' > client.cnf && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile client.cnf -out client.pem 2>/dev/null",
    );
    // Two TLS listeners on one broker: the nurse station's, and the gateway's that requires a
    // client certificate (mutual TLS).
    let port = free_port();
    let mtls_port = free_port();
    let listener = format!(
        "listener {port} 127.0.0.1\ncafile {0}/ca.pem\ncertfile {0}/server.pem\nkeyfile {0}/server.key\n\
         listener {mtls_port} 127.0.0.1\ncafile {0}/ca.pem\ncertfile {0}/server.pem\nkeyfile {0}/server.key\nrequire_certificate true\n",
        d.display()
    );
    let broker = Mosquitto::start_with(port, &listener);
    let ca = d.join("ca.pem");
    let station = Subscriber::paho(&[
        "--port",
        &broker.port.to_string(),
        "--topic",
        "pingan/t/alerts/#",
        "--cafile",
        ca.to_str().unwrap(),
        "--site",
        "t",
    ]);
    assert!(
        station
            .until(Duration::from_secs(10), |l| l == "#connected")
            .is_some()
    );
    let (mqtt, http) = (free_port(), free_port());
    let extra = format!(
        "[[uplinks]]\nid = \"institution\"\nurl = \"mqtts://127.0.0.1:{mtls_port}\"\nca_file = \"{}\"\n\
         client_cert = \"{1}/client.pem\"\nclient_key = \"{1}/client.key\"\nalerts = true\n",
        ca.display(),
        d.display()
    );
    let config = site_config(d, mqtt, http, 2, &sos_scenario(&[(0, 1000)]), &extra);
    let log = d.join("gw.log");
    let mut gw = run_gateway(&config, &log, mqtt);
    let got = station.until(Duration::from_secs(20), |l| l.contains("\"kind\":\"sos\""));
    assert!(got.is_some(), "no alert over TLS; log:\n{}", read_log(&log));
    gw.signal("TERM");
    assert_eq!(gw.wait_exit(Duration::from_secs(20)), Some(0));
}

#[test]
fn demo_with_an_uplink_publishes_the_contracted_alert_fields_there() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Mosquitto::start();
    let institution = Subscriber::mosquitto_sub(broker.port, &["pingan/demo-home/alerts/#"]);
    let (mqtt, http) = (free_port(), free_port());
    let log = dir.path().join("demo.log");
    let data = dir.path().join("data");
    let uplink = format!("mqtt://127.0.0.1:{}", broker.port);
    let _gw = pingan(
        &[
            "demo",
            "--mqtt-port",
            &mqtt.to_string(),
            "--http-port",
            &http.to_string(),
            "--data-dir",
            data.to_str().unwrap(),
            "--uplink",
            &uplink,
        ],
        &log,
    );
    let line = institution
        .until(Duration::from_secs(30), |l| l.contains("\"kind\":\"sos\""))
        .unwrap_or_else(|| {
            panic!(
                "no alert on the institution broker; log:\n{}",
                read_log(&log)
            )
        });
    let (topic, a) = topic_json(&line).unwrap();
    assert_eq!(
        topic,
        format!("pingan/demo-home/alerts/{}", a["id"].as_str().unwrap())
    );
    for field in [
        "id",
        "revision",
        "kind",
        "priority",
        "state",
        "resident",
        "room",
        "raised_at",
    ] {
        assert!(!a[field].is_null(), "{field} missing in {a}");
    }
    assert_eq!(a["resident"], "R0007");
    let raised = a["raised_at"].as_str().unwrap();
    assert!(chrono_like(raised), "RFC 3339: {raised}");
    pingan_tests::schema::assert_valid(&[line]);
}

fn chrono_like(s: &str) -> bool {
    // YYYY-MM-DDTHH:MM:SS(.fff)Z
    let b = s.as_bytes();
    s.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && s.ends_with('Z')
}

#[test]
fn uplink_credentials_are_used_and_a_refusing_broker_leaves_the_rest_running() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pw = d.join("passwords");
    let ok = std::process::Command::new("mosquitto_passwd")
        .args(["-b", "-c"])
        .arg(&pw)
        .args(["pingan", "s3cret-nursing"])
        .status()
        .unwrap();
    assert!(ok.success());
    let port = free_port();
    let broker = Mosquitto::start_with(
        port,
        &format!(
            "listener {port} 127.0.0.1\npassword_file {}\n",
            pw.display()
        ),
    );
    // The same broker twice: once with the right password, once with a wrong one.
    write_secret(&d.join("good.pw"), "s3cret-nursing\n");
    write_secret(&d.join("bad.pw"), "wrong\n");
    let station = Subscriber::mosquitto_sub_auth(
        broker.port,
        "pingan",
        "s3cret-nursing",
        &["pingan/t/alerts/#"],
    );
    let extra = format!(
        "[[uplinks]]\nid = \"institution\"\nurl = \"mqtt://127.0.0.1:{port}\"\nusername = \"pingan\"\npassword_file = \"{}\"\nalerts = true\n\n\
         [[uplinks]]\nid = \"stale\"\nurl = \"mqtt://127.0.0.1:{port}\"\nusername = \"pingan\"\npassword_file = \"{}\"\nalerts = true\n",
        d.join("good.pw").display(),
        d.join("bad.pw").display()
    );
    let (mqtt, http) = (free_port(), free_port());
    let config = site_config(d, mqtt, http, 2, &sos_scenario(&[(0, 1500)]), &extra);
    let log = d.join("gw.log");
    let mut gw = run_gateway(&config, &log, mqtt);
    let got = station.until(Duration::from_secs(20), |l| l.contains("\"kind\":\"sos\""));
    assert!(
        got.is_some(),
        "no alert with credentials; log:\n{}",
        read_log(&log)
    );
    gw.signal("TERM");
    assert_eq!(gw.wait_exit(Duration::from_secs(20)), Some(0));
    let text = read_log(&log);
    let refusal = text
        .lines()
        .find(|l| l.contains("cannot connect") && l.contains("stale"));
    assert!(
        refusal.is_some_and(|l| l.contains("NotAuthorized")),
        "the refusal is logged:\n{text}"
    );
    drop(broker);
}

fn write_secret(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn an_uplink_with_an_unreadable_certificate_is_a_technical_alert_not_a_dead_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let (mqtt, http) = (free_port(), free_port());
    let extra = "[[uplinks]]\nid = \"institution\"\nurl = \"mqtts://127.0.0.1:1\"\nca_file = \"/nonexistent/ca.pem\"\nalerts = true\n";
    let config = site_config(
        dir.path(),
        mqtt,
        http,
        2,
        &sos_scenario(&[(0, 1500)]),
        extra,
    );
    let log = dir.path().join("gw.log");
    let mut gw = run_gateway(&config, &log, mqtt);
    let watch = Subscriber::mosquitto_sub(mqtt, &["pingan/t/alerts/#"]);
    let sos = watch.until(Duration::from_secs(60), |l| l.contains("\"kind\":\"sos\""));
    assert!(
        sos.is_some(),
        "local alerting works; log:\n{}",
        read_log(&log)
    );
    gw.signal("TERM");
    assert_eq!(gw.wait_exit(Duration::from_secs(20)), Some(0));
    let t = stored_technical(&dir.path().join("data"), "uplink:institution");
    assert!(
        t["detail"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/ca.pem"),
        "{t}"
    );
}
