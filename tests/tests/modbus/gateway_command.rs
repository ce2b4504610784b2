//! Device commands through the running gateway to a pymodbus device.

use super::*;

#[test]
fn silence_command_over_mqtt_writes_the_profile_coil_through_the_gateway() {
    use pingan_tests::{Subscriber, free_port, pingan, site_config, wait_for_port};
    let mut peer = ModbusPeer::tcp(json!({"2": example_unit(&builtin("smoke_detector"))})).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mqtt, http) = (free_port(), free_port());
    let extra = format!(
        "[[drivers]]\nid = \"bus-1\"\ndriver = \"modbus\"\ntransport = \"tcp\"\nhost = \"{}\"\ntimeout = \"1s\"\n\
         [[drivers.devices]]\ndevice = \"smoke-2f\"\nunit = 2\nprofile = \"smoke_detector\"\npoll_interval = \"200ms\"\n\n\
         [[devices]]\nid = \"smoke-2f\"\nmodel = \"smoke_detector\"\ndriver = \"bus-1\"\nroom = \"0\"\n",
        peer.address()
    );
    let config = site_config(dir.path(), mqtt, http, 2, "", &extra);
    let log = dir.path().join("gw.log");
    let mut gw = pingan(&["run", "--config", config.to_str().unwrap()], &log);
    assert!(wait_for_port(mqtt, Duration::from_secs(20)));
    let results = Subscriber::mosquitto_sub(
        mqtt,
        &["pingan/t/devices/+/commands/#", "pingan/t/devices/+/health"],
    );
    let mut seen: Vec<String> = Vec::new();
    std::thread::sleep(Duration::from_millis(500));
    assert_ne!(
        peer.command("get 2 coil 0").unwrap()["value"],
        json!(true),
        "not silenced yet"
    );
    let publish = |topic: &str| {
        pingan_tests::mosquitto_pub(mqtt, topic, "{\"by\":\"Guard Wu\"}");
    };
    publish("pingan/t/cmd/devices/smoke-2f/silence");
    let line = results
        .until(Duration::from_secs(15), |l| {
            seen.push(l.to_owned());
            l.contains("/smoke-2f/commands/silence")
        })
        .unwrap_or_else(|| {
            panic!(
                "no command result; log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
    let result: Value = serde_json::from_str(line.split_once(' ').unwrap().1).unwrap();
    assert_eq!(result["ok"], json!(true), "{result}");
    assert_eq!(result["by"], "Guard Wu");
    assert_eq!(
        peer.command("get 2 coil 0").unwrap()["value"],
        json!(true),
        "the sounder coil was written"
    );
    publish("pingan/t/cmd/devices/smoke-2f/explode");
    let line = results
        .until(Duration::from_secs(15), |l| {
            seen.push(l.to_owned());
            l.contains("/commands/explode")
        })
        .expect("a result for the unknown command");
    let result: Value = serde_json::from_str(line.split_once(' ').unwrap().1).unwrap();
    assert_eq!(result["ok"], json!(false));
    assert!(
        result["error"].as_str().unwrap().contains("explode"),
        "{result}"
    );
    // The device goes away: its health is published as offline.
    drop(peer);
    let offline = results.until(Duration::from_secs(15), |l| {
        seen.push(l.to_owned());
        l.contains("/smoke-2f/health") && l.contains("\"offline\"")
    });
    assert!(offline.is_some(), "offline health; seen {seen:?}");
    gw.signal("TERM");
    assert_eq!(gw.wait_exit(Duration::from_secs(20)), Some(0));
    // Every command result and health message matches its schema (docs/schema/).
    let checked = pingan_tests::schema::assert_valid(&seen);
    assert!(
        checked.contains_key("device-command-result") && checked.contains_key("device-health"),
        "{checked:?}"
    );
}
