//! Telemetry leaves the box in batches: an uplink gets one message per driver and poll (Modbus)
//! or per driver and interval (drivers without polls), while local apps keep their per-device
//! topics on the embedded broker. Real peers: pymodbus as the room sensor, Mosquitto as the
//! institution's broker.

use std::time::{Duration, Instant};

use pingan_drivers::modbus::library;
use pingan_tests::pymodbus::{ModbusPeer, example_unit};
use pingan_tests::{
    Mosquitto, Subscriber, free_port, pingan, site_config, topic_json, wait_for_port,
};
use serde_json::json;

#[test]
fn an_uplink_gets_one_telemetry_batch_per_modbus_poll_and_local_apps_keep_per_device_topics() {
    let profile = library::builtin("room_th").unwrap().unwrap();
    let peer = ModbusPeer::tcp(json!({"3": example_unit(&profile)})).unwrap();
    let broker = Mosquitto::start();
    let institution = Subscriber::mosquitto_sub(broker.port, &["pingan/t/#"]);
    let dir = tempfile::tempdir().unwrap();
    let (mqtt, http) = (free_port(), free_port());
    let extra = format!(
        "[[drivers]]\nid = \"bus-1\"\ndriver = \"modbus\"\ntransport = \"tcp\"\nhost = \"{}\"\ntimeout = \"1s\"\n\
         [[drivers.devices]]\ndevice = \"th-0\"\nunit = 3\nprofile = \"room_th\"\npoll_interval = \"200ms\"\n\n\
         [[devices]]\nid = \"th-0\"\nmodel = \"room_sensor\"\ndriver = \"bus-1\"\nroom = \"0\"\n\n\
         [[uplinks]]\nid = \"institution\"\nurl = \"mqtt://127.0.0.1:{}\"\ntelemetry_interval = \"100ms\"\n",
        peer.address(),
        broker.port
    );
    let config = site_config(dir.path(), mqtt, http, 2, "", &extra);
    let log = dir.path().join("gw.log");
    let mut gw = pingan(&["run", "--config", config.to_str().unwrap()], &log);
    assert!(wait_for_port(mqtt, Duration::from_secs(20)));
    let local = Subscriber::mosquitto_sub(mqtt, &["pingan/t/readings/#"]);

    // Readings are due every 100 ms and the device is polled every 200 ms: each poll's readings
    // leave together when the poll ends, one message per poll.
    let mut batches = Vec::new();
    let mut lines = Vec::new();
    let mut per_reading_topics = 0;
    let start = Instant::now();
    while batches.len() < 5 && start.elapsed() < Duration::from_secs(15) {
        let Some(line) = institution.next(Duration::from_secs(1)) else {
            continue;
        };
        let Some((topic, v)) = topic_json(&line) else {
            continue;
        };
        if topic.starts_with("pingan/t/readings/") {
            per_reading_topics += 1;
        }
        if topic == "pingan/t/telemetry/bus-1" {
            batches.push(v);
            lines.push(line);
        }
    }
    assert!(
        batches.len() >= 5,
        "per-poll batches within 15 s; got {}; log:\n{}",
        batches.len(),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert_eq!(
        per_reading_topics, 0,
        "no per-reading messages on the uplink"
    );
    let per_poll = batches[0]["count"].clone();
    for b in &batches {
        assert_eq!(
            b["count"], per_poll,
            "every batch holds one poll's readings: {b}"
        );
        assert_eq!(b["v"], 1, "{b}");
        assert_eq!(b["driver"], "bus-1");
        let readings = b["readings"].as_array().unwrap();
        assert_eq!(b["count"].as_u64(), Some(readings.len() as u64));
        assert!(!readings.is_empty());
        assert!(
            readings
                .iter()
                .all(|r| r["device"] == "th-0" && r["v"] == 1),
            "{b}"
        );
    }
    pingan_tests::schema::assert_valid(&lines);
    // The embedded broker still carries the per-device topics for local apps.
    let line = local
        .until(Duration::from_secs(10), |l| {
            l.starts_with("pingan/t/readings/th-0 ")
        })
        .expect("per-device readings on the embedded broker");
    let (_, r) = topic_json(&line).unwrap();
    assert_eq!(r["device"], "th-0");
    gw.signal("TERM");
    assert_eq!(gw.wait_exit(Duration::from_secs(20)), Some(0));
}
