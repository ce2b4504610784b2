//! Bad input that used to hang or slip through: a replay of readings at the ends of time, and
//! configs that would switch a safety feature off or expose the embedded broker.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pingan_tests::{Guard, pingan_bin, pingan_output, repo_root, write};

#[test]
fn replay_of_readings_at_the_ends_of_time_finishes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo_root().join("seeds/traces/config.toml"),
        dir.path().join("config.toml"),
    )
    .unwrap();
    let trace = dir.path().join("ends.jsonl");
    let (min, max) = (i64::MIN, i64::MAX);
    write(
        &trace,
        &format!(
            "{{\"device\":\"w-101\",\"at\":{min},\"kind\":\"heart_rate\",\"bpm\":77.0}}\n\
             {{\"device\":\"w-101\",\"at\":{min},\"kind\":\"button\",\"button\":\"sos\"}}\n\
             {{\"device\":\"w-101\",\"at\":0,\"kind\":\"spo2\",\"percent\":85.0}}\n\
             {{\"device\":\"w-101\",\"at\":{},\"kind\":\"button\",\"button\":\"sos\"}}\n\
             {{\"device\":\"w-101\",\"at\":{max},\"kind\":\"heart_rate\",\"bpm\":30.0}}\n\
             {{\"device\":\"w-101\",\"at\":{max},\"kind\":\"button\",\"button\":\"cancel\"}}\n",
            max - 1
        ),
    );
    let out = dir.path().join("out.jsonl");
    let child = Command::new(pingan_bin())
        .arg("replay")
        .arg(&trace)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut g = Guard { child };
    let started = Instant::now();
    let code = g.wait_exit(Duration::from_secs(60));
    assert_eq!(code, Some(0), "replay did not finish within 60 s");
    assert!(started.elapsed() < Duration::from_secs(60));
    let text = std::fs::read_to_string(&out).unwrap();
    let alerts: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON alert per line"))
        .collect();
    assert!(
        alerts
            .iter()
            .any(|a| a["kind"] == "sos" && a["raised_at"] == serde_json::json!(min)),
        "{text}"
    );
}

#[test]
fn check_config_refuses_zero_connections_absurd_durations_and_a_lan_broker() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[mqtt]\nmax_connections = 0\n", "mqtt.max_connections"),
        (
            "[alerts]\ncancel_window = \"1000d\"\n",
            "alerts.cancel_window",
        ),
        (
            "[storage]\nsweep_interval = \"1ms\"\n",
            "storage.sweep_interval",
        ),
        ("[mqtt]\nbind = \"0.0.0.0:1883\"\n", "mqtt.bind"),
    ];
    for (i, (toml, key)) in cases.iter().enumerate() {
        let p = dir.path().join(format!("c{i}.toml"));
        write(&p, &format!("[site]\nid = \"t\"\nname = \"T\"\n{toml}"));
        let (code, _, err) = pingan_output(&["check-config", p.to_str().unwrap()]);
        assert_eq!(code, 2, "{toml} was accepted");
        assert!(err.contains(key), "{toml}: {err}");
    }
    let p = dir.path().join("lan.toml");
    write(
        &p,
        "[site]\nid = \"t\"\nname = \"T\"\n[[uplinks]]\nid = \"lan\"\nurl = \"mqtt://192.168.1.2:1883\"\ncommands = true\n",
    );
    let (code, _, err) = pingan_output(&["check-config", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: uplinks[0].url") && err.contains("no TLS"),
        "{err}"
    );
    assert!(
        err.contains("warning: uplinks[0].command_identity"),
        "{err}"
    );
}
