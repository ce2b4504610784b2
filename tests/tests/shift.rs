//! The shift pages end to end against the real `pingan` binary and real peers: device commands
//! from the dashboard reach a pymodbus smoke detector and are recorded with the logged-in person
//! (and with the MQTT sender for MQTT commands); the handover made on demand arrives on the
//! embedded broker (retained, without names); and `pingan report` gives the same figures while
//! the gateway runs (through its REST API) and after it stopped (from the store).

use std::time::{Duration, Instant};

use pingan_tests::http::Session;
use pingan_tests::pymodbus::{ModbusPeer, example_unit};
use pingan_tests::{
    Subscriber, add_user, free_port, mosquitto_pub, pingan, pingan_output, site_config,
    sos_scenario, topic_json, wait_for_port,
};
use serde_json::{Value, json};

const USER: &str = "li.na";
const PASSWORD: &str = "night shift passphrase";

/// Polls `f` until it returns `Some` (at most `within`).
fn eventually<T>(within: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_device_command_from_the_dashboard_silences_the_detector_and_is_recorded_with_the_person() {
    let profile = pingan_drivers::modbus::library::builtin("smoke_detector")
        .unwrap()
        .unwrap();
    let mut peer = ModbusPeer::tcp(json!({ "2": example_unit(&profile) })).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mqtt, http) = (free_port(), free_port());
    let extra = format!(
        "[[drivers]]\nid = \"bus-1\"\ndriver = \"modbus\"\ntransport = \"tcp\"\nhost = \"{}\"\ntimeout = \"1s\"\n\
         [[drivers.devices]]\ndevice = \"smoke-2f\"\nunit = 2\nprofile = \"smoke_detector\"\npoll_interval = \"200ms\"\n\n\
         [[devices]]\nid = \"smoke-2f\"\nmodel = \"smoke_detector\"\ndriver = \"bus-1\"\nroom = \"0\"\n",
        peer.address()
    );
    let config = site_config(dir.path(), mqtt, http, 2, "", &extra);
    add_user(&dir.path().join("data"), USER, PASSWORD);
    let log = dir.path().join("gw.log");
    let mut gw = pingan(&["run", "--config", config.to_str().unwrap()], &log);
    assert!(wait_for_port(http, Duration::from_secs(20)), "dashboard up");
    let results = Subscriber::mosquitto_sub(mqtt, &["pingan/t/devices/+/commands/#"]);
    let s = Session::login(http, USER, PASSWORD);
    let devices = s.get("/api/v1/devices").json();
    let smoke = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "smoke-2f")
        .expect("the detector is listed");
    let names: Vec<&str> = smoke["commands"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(names.contains(&"silence"), "{smoke}");
    assert_ne!(peer.command("get 2 coil 0").unwrap()["value"], json!(true));

    let r = s.post(
        "/api/v1/devices/smoke-2f/commands/silence",
        r#"{"name": "Guard Wu", "note": "toast in the kitchen"}"#,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let rec = r.json();
    assert_eq!(rec["ok"], true, "{rec}");
    assert_eq!(rec["by"], format!("Guard Wu ({USER})"));
    assert_eq!(rec["via"], "http");
    assert_eq!(
        peer.command("get 2 coil 0").unwrap()["value"],
        json!(true),
        "the sounder coil was written"
    );
    let line = results
        .until(Duration::from_secs(15), |l| {
            l.contains("/smoke-2f/commands/silence")
        })
        .expect("the result on MQTT");
    assert_eq!(
        topic_json(&line).unwrap().1["by"],
        format!("Guard Wu ({USER})")
    );

    // The same command over MQTT is recorded too, with the sender's name.
    mosquitto_pub(
        mqtt,
        "pingan/t/cmd/devices/smoke-2f/reset",
        r#"{"by": "Guard Zhao"}"#,
    );
    let list = eventually(Duration::from_secs(15), || {
        let list = s.get("/api/v1/devices/smoke-2f/actions").json();
        (list.as_array().map_or(0, Vec::len) == 2).then_some(list)
    })
    .expect("both commands recorded");
    assert_eq!(
        (list[0]["command"].as_str(), list[0]["via"].as_str()),
        (Some("reset"), Some("mqtt"))
    );
    assert_eq!(list[0]["by"], "Guard Zhao");
    assert_eq!(list[1]["note"], "toast in the kitchen");

    // A command the profile does not have is refused before it reaches the bus.
    assert_eq!(
        s.post("/api/v1/devices/smoke-2f/commands/explode", "{}")
            .status,
        404
    );
    gw.signal("TERM");
    assert_eq!(gw.wait_exit(Duration::from_secs(20)), Some(0));
}

fn report(data: &str, from: i64, to: i64, extra: &[&str]) -> (i32, String, String) {
    let (from, to) = (from.to_string(), to.to_string());
    let mut args = vec!["report", "--from", &from, "--to", &to, "--data-dir", data];
    args.extend_from_slice(extra);
    pingan_output(&args)
}

#[test]
fn the_handover_and_the_report_work_with_the_gateway_running_and_after_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let (mqtt, http) = (free_port(), free_port());
    let config = site_config(
        dir.path(),
        mqtt,
        http,
        2,
        &sos_scenario(&[(0, 500), (1, 1500)]),
        "",
    );
    let data = dir.path().join("data");
    add_user(&data, USER, PASSWORD);
    let log = dir.path().join("gw.log");
    let mut gw = pingan(&["run", "--config", config.to_str().unwrap()], &log);
    assert!(wait_for_port(mqtt, Duration::from_secs(20)));
    assert!(wait_for_port(http, Duration::from_secs(20)));
    let started = pingan_drivers::Timestamp::now().millis();
    let alerts = Subscriber::mosquitto_sub(mqtt, &["pingan/t/alerts/#"]);
    let found = alerts.first_of_each(
        Duration::from_secs(30),
        &["\"resident\":\"R0\"", "\"resident\":\"R1\""],
    );
    let first: Value = topic_json(found[0].as_ref().expect("R0's SOS")).unwrap().1;
    assert!(found[1].is_some(), "R1's SOS");
    let s = Session::login(http, USER, PASSWORD);
    let id = first["id"].as_str().unwrap();
    assert_eq!(
        s.post(
            &format!("/api/v1/alerts/{id}/ack"),
            r#"{"note":"Resident 0 is fine"}"#
        )
        .status,
        200
    );

    // On demand: recorded and published, retained, pseudonymous, without notes.
    let made = s.post("/api/v1/handover", "{}");
    assert_eq!(made.status, 200, "{}", String::from_utf8_lossy(&made.body));
    let made = made.json();
    assert_eq!(made["events"].as_array().unwrap().len(), 2);
    assert_eq!(
        made["events"][0]["note"], "Resident 0 is fine",
        "the dashboard sees the note"
    );
    let late = Subscriber::mosquitto_sub(mqtt, &["pingan/t/handover"]);
    let line = late
        .until(Duration::from_secs(15), |l| {
            l.starts_with("pingan/t/handover ")
        })
        .expect("the retained handover reaches a subscriber that comes later");
    let h = topic_json(&line).unwrap().1;
    assert_eq!(
        (h["v"].as_u64(), h["trigger"].as_str(), h["by"].as_str()),
        (Some(1), Some("on_demand"), Some(USER))
    );
    let outcomes: Vec<&str> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["outcome"].as_str())
        .collect();
    assert_eq!(outcomes, ["acknowledged", "open"]);
    assert_eq!(h["open"].as_array().unwrap().len(), 2);
    assert!(
        !line.contains("Resident 0"),
        "no names or notes on MQTT: {line}"
    );
    assert_eq!(
        s.get("/api/v1/handovers").json()[0]["made_at"],
        made["made_at"]
    );

    // The report while the gateway holds the database: through its REST API.
    let data_s = data.to_str().unwrap();
    let (from, to) = (started - 3_600_000, started + 3_600_000);
    let (code, out, err) = report(data_s, from, to, &["--json"]);
    assert_eq!(code, 0, "{err}");
    let running: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (
            running["total"]["alerts"].as_u64(),
            running["total"]["acknowledged"].as_u64()
        ),
        (Some(2), Some(1))
    );
    let (code, csv, _) = report(data_s, from, to, &["--csv", "--lang", "en"]);
    assert_eq!(code, 0);
    assert!(csv.starts_with("Shift,Alert kind,"), "{csv}");
    assert!(csv.contains("All,SOS call,High,2,1,"), "{csv}");
    let (code, table, _) = report(data_s, from, to, &["--lang", "zh-CN"]);
    assert_eq!(code, 0);
    assert!(table.starts_with("响应时间报告"), "{table}");

    gw.signal("TERM");
    assert_eq!(gw.wait_exit(Duration::from_secs(20)), Some(0));
    // Stopped: from the store, with the settings the gateway ran with.
    let (code, out, err) = report(data_s, from, to, &["--json"]);
    assert_eq!(code, 0, "{err}");
    let stopped: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        stopped["total"], running["total"],
        "the same figures either way"
    );
    assert_eq!(stopped["by_shift"], running["by_shift"]);
    let (code, _, err) = report(data_s, to, from, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("after its start"), "{err}");
    let missing = dir.path().join("no-such-dir");
    let (code, _, err) = report(missing.to_str().unwrap(), from, to, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("no gateway database"), "{err}");
    assert!(!missing.exists(), "a mistyped directory is not created");
}
