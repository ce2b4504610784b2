//! The foundation end to end: `pingan demo` with its embedded broker, a real `mosquitto_sub`,
//! graceful shutdown, and the CLI's config checks.

use std::time::Duration;

use pingan_tests::{
    Subscriber, free_port, http_get, pingan, pingan_output, repo_root, topic_json, wait_for_port,
    write,
};

#[test]
fn demo_sos_reaches_mosquitto_sub_and_sigterm_shuts_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mqtt, http) = (free_port(), free_port());
    let log = dir.path().join("pingan.log");
    let mut gw = pingan(
        &[
            "demo",
            "--mqtt-port",
            &mqtt.to_string(),
            "--http-port",
            &http.to_string(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &log,
    );
    assert!(
        wait_for_port(mqtt, Duration::from_secs(20)),
        "embedded broker did not listen"
    );
    // The same process (the PID the test started) runs with one malloc arena (cli/memory.rs),
    // unless the environment chose otherwise.
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let environ = std::fs::read(format!("/proc/{}/environ", gw.pid())).unwrap();
        assert!(
            environ
                .split(|b| *b == 0)
                .any(|v| v == b"MALLOC_ARENA_MAX=1"),
            "pingan demo re-executed itself with MALLOC_ARENA_MAX=1"
        );
    }
    let sub = Subscriber::mosquitto_sub(
        mqtt,
        &["pingan/demo-home/alerts/#", "pingan/demo-home/status"],
    );
    let sos = sub
        .until(Duration::from_secs(30), |l| {
            l.contains("/alerts/") && l.contains("\"kind\":\"sos\"")
        })
        .unwrap_or_else(|| {
            panic!(
                "no SOS alert; log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
    let (topic, alert) = topic_json(&sos).unwrap();
    let id = alert["id"].as_str().unwrap().to_owned();
    assert_eq!(topic, format!("pingan/demo-home/alerts/{id}"));
    assert_eq!(alert["v"], 2, "alert snapshot v2 (docs/MQTT.md)");
    assert_eq!(alert["priority"], "high");
    assert_eq!(alert["resident"], "R0007");
    assert_eq!(alert["room"], "104");
    assert!(alert["raised_at"].as_str().unwrap().ends_with('Z'));
    assert!(alert["revision"].as_u64().unwrap() >= 1);

    gw.signal("TERM");
    assert_eq!(
        gw.wait_exit(Duration::from_secs(20)),
        Some(0),
        "exit code after SIGTERM"
    );
    let offline = sub.until(Duration::from_secs(5), |l| {
        l.contains("/status") && l.contains("\"offline\"")
    });
    assert!(offline.is_some(), "status did not go offline");
    pingan_tests::schema::assert_valid(&[sos.clone(), offline.unwrap_or_default()]);

    let text = std::fs::read_to_string(&log).unwrap();
    let summary = text
        .lines()
        .find(|l| l.contains("stopped after"))
        .expect("summary line");
    let num = |label: &str| -> u64 {
        let at = summary
            .find(label)
            .unwrap_or_else(|| panic!("{label} in {summary}"))
            + label.len();
        summary[at..]
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (received, stored, thinned, shed) = (
        num("readings received"),
        num("stored"),
        num("downsampled"),
        num("shed"),
    );
    assert!(received > 100, "{summary}");
    assert_eq!(shed, 0, "{summary}");
    assert_eq!(
        received,
        stored + thinned,
        "every buffered reading was stored or thinned by design: {summary}"
    );

    let (code, out, err) = pingan_output(&[
        "alerts",
        "list",
        "--json",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines().any(|l| l.contains(&id)),
        "alert {id} not in the store:\n{out}"
    );
}

#[test]
fn check_config_accepts_every_seed_config() {
    let seeds = repo_root().join("seeds");
    let mut files = Vec::new();
    for entry in walk(&seeds) {
        if entry.extension().is_some_and(|e| e == "toml")
            && std::fs::read_to_string(&entry).is_ok_and(|t| t.contains("[site]"))
        {
            files.push(entry);
        }
    }
    assert!(!files.is_empty());
    for f in files {
        let (code, out, err) = pingan_output(&["check-config", f.to_str().unwrap()]);
        assert_eq!(code, 0, "{}: {out}{err}", f.display());
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

#[test]
fn check_config_prints_every_problem_with_file_line_column_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    write(
        &bad,
        "[site]\nid = \"home\"\nname = \"H\"\n\n[[rooms]]\nid = \"1\"\nfloor = \"nowhere\"\n\n[[devices]]\nid = \"w\"\nmodel = \"wristband\"\ndriver = \"none\"\nresident = \"ghost\"\n",
    );
    let (code, _, err) = pingan_output(&["check-config", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    let f = bad.display();
    assert!(
        err.contains(&format!(
            "{f}:7:9: rooms[0].floor: unknown floor \"nowhere\""
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{f}:12:10: devices[0].driver: unknown driver \"none\""
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{f}:13:12: devices[0].resident: unknown resident \"ghost\""
        )),
        "{err}"
    );

    write(&bad, "[site]\nid = \"home\"\nname = 5\n");
    let (code, _, err) = pingan_output(&["check-config", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        format!("{f}:3:8: site.name: invalid type: integer `5`, expected a string")
    );
}

#[test]
fn default_config_printed_by_the_cli_passes_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = pingan_output(&["print-default-config"]);
    assert_eq!(code, 0);
    let f = dir.path().join("default.toml");
    write(&f, &out);
    let (code, out, err) = pingan_output(&["check-config", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
}

/// The models are plain Rust: fall detection runs in a checkout without any inference library
/// (an `ORT_DYLIB_PATH` pointing nowhere changes nothing), and none is mapped into the process.
#[test]
fn the_demo_runs_fall_detection_without_any_inference_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let (mqtt, http) = (free_port(), free_port());
    let log = dir.path().join("pingan.log");
    let data = dir.path().join("data");
    let mut gw = pingan_tests::pingan_env(
        &[
            "demo",
            "--mqtt-port",
            &mqtt.to_string(),
            "--http-port",
            &http.to_string(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &log,
        &[("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")],
    );
    assert!(wait_for_port(http, Duration::from_secs(30)));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let health = loop {
        let report = http_get(http, "/healthz", &[])
            .ok()
            .and_then(|(_, body)| serde_json::from_str::<serde_json::Value>(&body).ok());
        if let Some(r) = report.filter(|r| r["models"]["fall_detection"] == true) {
            break r;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "fall detection never reported running; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(health["models"]["fall_needed"], true, "{health}");
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", gw.pid())).unwrap();
    assert!(
        !maps.contains("onnxruntime"),
        "an inference library is mapped:\n{}",
        maps.lines()
            .filter(|l| l.contains("onnxruntime"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    gw.signal("TERM");
    assert_eq!(gw.wait_exit(Duration::from_secs(60)), Some(0), "clean stop");
}

#[test]
fn replay_cli_prints_the_expected_alerts_of_every_recorded_trace() {
    let traces = repo_root().join("seeds/traces");
    let mut checked = 0;
    for e in std::fs::read_dir(&traces).unwrap().flatten() {
        let p = e.path();
        let name = p.file_name().unwrap().to_str().unwrap().to_owned();
        if !name.ends_with(".jsonl") || name.ends_with(".expected.jsonl") {
            continue;
        }
        let (code, out, err) = pingan_output(&["replay", p.to_str().unwrap()]);
        assert_eq!(code, 0, "{name}: {err}");
        let got: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let expected_text =
            std::fs::read_to_string(traces.join(name.replace(".jsonl", ".expected.jsonl")))
                .unwrap();
        let expected: Vec<serde_json::Value> = expected_text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let key = |v: &serde_json::Value| {
            (
                v["kind"].to_string(),
                v["subject"].to_string(),
                v["priority"].to_string(),
            )
        };
        let mut g: Vec<_> = got.iter().map(key).collect();
        let mut x: Vec<_> = expected.iter().map(key).collect();
        g.sort();
        x.sort();
        assert_eq!(g, x, "{name}");
        checked += 1;
    }
    assert!(checked >= 5);
    let (code, _, err) = pingan_output(&["replay", "/nonexistent/trace.jsonl"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/trace.jsonl"), "{err}");
}

/// The BLE radio cannot run here: a replay radio plays a recorded session (a wearable, a door
/// sensor, an SOS pendant, a beacon) through the real pipeline into the store and the alert engine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ble_replay_flows_through_the_pipeline_into_the_store_and_raises_the_sos() {
    use pingan_gateway::config::Config;
    use pingan_gateway::service::{Gateway, StartOptions};
    let dir = tempfile::tempdir().unwrap();
    let session = repo_root().join("drivers/src/ble/tests/session.jsonl");
    let (mqtt, http) = (free_port(), free_port());
    let text = format!(
        "[site]\nid = \"t\"\nname = \"T\"\n[storage]\ndata_dir = \"{data}\"\ndownsample = \"0s\"\n\
         [mqtt]\nbind = \"127.0.0.1:{mqtt}\"\n[http]\nbind = \"127.0.0.1:{http}\"\n\
         [[drivers]]\nid = \"ble-1\"\ndriver = \"ble\"\nreplay = \"{session}\"\n\
         [[drivers.devices]]\nid = \"w-101a\"\naddress = \"C0:FF:EE:00:00:01\"\n\
         [[drivers.devices]]\nid = \"door-1\"\naddress = \"C0:FF:EE:00:00:02\"\nconnect = false\n\
         [[drivers.devices]]\nid = \"p-7\"\nname = \"PA-Pendant-7\"\nconnect = false\n\
         [[floors]]\nid = \"1F\"\n[[rooms]]\nid = \"101\"\nfloor = \"1F\"\n\
         [[residents]]\nid = \"R1\"\nname = \"A\"\nbirth_year = 1940\nsex = \"female\"\nroom = \"101\"\n\
         [[residents]]\nid = \"R2\"\nname = \"B\"\nbirth_year = 1941\nsex = \"male\"\nroom = \"101\"\n\
         [[devices]]\nid = \"w-101a\"\nmodel = \"wristband\"\ndriver = \"ble-1\"\nresident = \"R1\"\n\
         [[devices]]\nid = \"door-1\"\nmodel = \"door_contact\"\ndriver = \"ble-1\"\nroom = \"101\"\n\
         [[devices]]\nid = \"p-7\"\nmodel = \"pendant\"\ndriver = \"ble-1\"\nresident = \"R2\"\n",
        data = dir.path().join("data").display(),
        session = session.display(),
    );
    let config = Config::parse(&text, "ble.toml").unwrap_or_else(|e| panic!("{e}"));
    let gw = Gateway::start(StartOptions::new(config, dir.path()))
        .await
        .unwrap();
    let mut changes = gw.changes.subscribe();
    // The wearable's SOS button and the pendant's SOS both raise alerts for their residents.
    let mut sos = std::collections::HashMap::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        while sos.len() < 2 {
            if let Ok(a) = changes.recv().await {
                if a.kind == pingan_gateway::alert::AlertKind::Sos {
                    sos.insert(a.resident.clone().unwrap_or_default(), a.id);
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("SOS alerts from both residents; got {sos:?}"));
    assert!(sos.contains_key("R1") && sos.contains_key("R2"), "{sos:?}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let store = gw.store.clone();
    gw.shutdown().await;
    let all = pingan_drivers::Timestamp(i64::MIN);
    let end = pingan_drivers::Timestamp(i64::MAX);
    let wearable = store.readings(&"w-101a".into(), all, end).unwrap();
    assert!(
        wearable.iter().any(|r| r.value["kind"] == "heart_rate"),
        "{wearable:?}"
    );
    assert!(
        wearable.iter().any(|r| r.value["kind"] == "battery"),
        "{wearable:?}"
    );
    let door = store.readings(&"door-1".into(), all, end).unwrap();
    assert!(door.iter().any(|r| r.value["kind"] == "door"), "{door:?}");
    let stored: Vec<_> = store.alerts().unwrap().into_iter().map(|a| a.id).collect();
    assert!(sos.values().all(|id| stored.contains(id)));
}
