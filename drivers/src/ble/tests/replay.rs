//! The replay radio driving [`BleDriver`] into a [`ReadingSink`]: a recorded session of a
//! wearable, a BTHome door sensor, an SOS pendant and a room beacon, with the repeats, gaps and
//! garbage real radios produce.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::ble::adv::to_hex;
use crate::ble::config::{BleConfig, BleDeviceConfig};
use crate::ble::driver::BleDriver;
use crate::ble::radio::{OpenRadio, Radio, RadioError, RadioEvent, ReplayRadio};
use crate::ble::wearable::encode_accel;
use crate::driver::{Driver, DriverEvent, HealthState, ReadingSink};
use crate::reading::{ButtonKind, DeviceId, Measurement, Reading, Timestamp};

const BASE: Timestamp = Timestamp(1_700_000_000_000);
const WEARABLE: &str = "C0:FF:EE:00:00:01";
const DOOR: &str = "C0:FF:EE:00:00:02";
const ACCEL: &str = "50a60002-9c6b-4d2e-8b3f-70696e67616e";

fn device(
    id: &str,
    address: Option<&str>,
    name: Option<&str>,
    beacon: Option<&str>,
    connect: bool,
) -> BleDeviceConfig {
    BleDeviceConfig {
        id: DeviceId::new(id),
        address: address.map(str::to_owned),
        name: name.map(str::to_owned),
        beacon: beacon.map(str::to_owned),
        connect: Some(connect),
    }
}

fn config() -> BleConfig {
    BleConfig {
        devices: vec![
            device("w-101a", Some(WEARABLE), None, None, true),
            device("door-1", Some(DOOR), None, None, false),
            device("p-7", None, Some("PA-Pendant-7"), None, false),
            device(
                "tag-101",
                None,
                None,
                Some("ibeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0:100:7"),
                false,
            ),
        ],
        ..BleConfig::default()
    }
}

fn line(t_ms: u64, address: &str, uuid: &str, hex: &str) -> String {
    format!(r#"{{"t_ms": {t_ms}, "address": "{address}", "uuid": "{uuid}", "hex": "{hex}"}}"#)
}

/// The recorded session (`session.jsonl`, usable as `replay = …` in a site config):
/// - wearable `w-101a` connects, reports battery 87 % and 72 bpm, sends accelerometer batches 7
///   and 8, repeats 8, loses 9–10, sends 11, one truncated heart-rate payload, an SOS (counter
///   42) re-sent once after a reconnection, a cancel, and disconnects at 14 s;
/// - BTHome door sensor `door-1`: the same "open" advert (packet 5) three times, then "closed"
///   (packet 6);
/// - pendant `p-7`, known only by name: its name advert, then an SOS press (packet 1) twice;
/// - a room iBeacon seen at 1 s, 2 s (throttled) and 12 s;
/// - a stranger's advert and notification, ignored.
fn trace() -> String {
    include_str!("session.jsonl").to_owned()
}

async fn run_driver<R: OpenRadio + 'static>(
    config: BleConfig,
    radio: Option<R>,
    until: Duration,
) -> Vec<DriverEvent> {
    let (sink, mut rx) = ReadingSink::channel(1024);
    let shutdown = CancellationToken::new();
    let task = match radio {
        Some(r) => tokio::spawn(BleDriver::with_radio(config, r).run(sink, shutdown.clone())),
        None => tokio::spawn(BleDriver::<R>::opening(config).run(sink, shutdown.clone())),
    };
    tokio::time::sleep(until).await;
    shutdown.cancel();
    task.await.unwrap().unwrap();
    let mut out = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        out.push(ev);
    }
    out
}

fn readings(events: &[DriverEvent]) -> Vec<Reading> {
    events
        .iter()
        .filter_map(|e| match e {
            DriverEvent::Reading(r) => Some(r.clone()),
            DriverEvent::Health { .. } | DriverEvent::PollEnd { .. } => None,
        })
        .collect()
}

fn health(events: &[DriverEvent]) -> Vec<(String, HealthState, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            DriverEvent::Health {
                device,
                state,
                detail,
                ..
            } => Some((device.to_string(), *state, detail.clone())),
            DriverEvent::Reading(_) | DriverEvent::PollEnd { .. } => None,
        })
        .collect()
}

fn at(ms: i64) -> Timestamp {
    Timestamp(BASE.0 + ms)
}

#[tokio::test(start_paused = true)]
async fn replayed_session_yields_exactly_the_expected_readings() {
    let radio = ReplayRadio::from_lines(&trace(), BASE, "trace").unwrap();
    let events = run_driver(config(), Some(radio), Duration::from_secs(20)).await;
    let motion = |ms: i64| {
        Reading::new(
            "w-101a",
            // two samples at 50 Hz: the batch began 40 ms before it was notified
            at(ms - 40),
            Measurement::Motion {
                samples: vec![[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]],
                hz: 50.0,
            },
        )
    };
    let expected = vec![
        Reading::new("w-101a", at(10), Measurement::Battery { percent: 87.0 }),
        Reading::new("w-101a", at(20), Measurement::HeartRate { bpm: 72.0 }),
        motion(40),
        motion(80),
        motion(200),
        Reading::new(
            "w-101a",
            at(400),
            Measurement::Button {
                button: ButtonKind::Sos,
            },
        ),
        Reading::new(
            "w-101a",
            at(420),
            Measurement::Button {
                button: ButtonKind::Cancel,
            },
        ),
        Reading::new("door-1", at(500), Measurement::Door { open: true }),
        Reading::new("door-1", at(900), Measurement::Door { open: false }),
        Reading::new(
            "p-7",
            at(960),
            Measurement::Button {
                button: ButtonKind::Sos,
            },
        ),
        Reading::new(
            "tag-101",
            at(1000),
            Measurement::Presence {
                beacon: "ibeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0:100:7".into(),
                rssi: -61,
            },
        ),
        Reading::new(
            "tag-101",
            at(12000),
            Measurement::Presence {
                beacon: "ibeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0:100:7".into(),
                rssi: -58,
            },
        ),
    ];
    assert_eq!(readings(&events), expected);
    let h = health(&events);
    assert!(
        h.contains(&("w-101a".into(), HealthState::Online, "connected".into())),
        "{h:?}"
    );
    assert!(h.contains(&("door-1".into(), HealthState::Online, "advertising".into())));
    assert!(h.contains(&("p-7".into(), HealthState::Online, "advertising".into())));
    assert!(h.contains(&(
        "w-101a".into(),
        HealthState::Offline,
        "replayed disconnection".into()
    )));
}

/// A radio that cannot open: no adapter on this box.
#[derive(Debug)]
struct NoAdapter;

impl Radio for NoAdapter {
    async fn next_event(&mut self) -> Result<Option<RadioEvent>, RadioError> {
        Ok(None)
    }
}

impl OpenRadio for NoAdapter {
    async fn open(_: &BleConfig) -> Result<Self, RadioError> {
        Err(RadioError::Unavailable("no Bluetooth adapter found".into()))
    }
}

#[tokio::test(start_paused = true)]
async fn missing_adapter_marks_devices_offline_and_keeps_running() {
    let events = run_driver::<NoAdapter>(config(), None, Duration::from_secs(95)).await;
    let h = health(&events);
    // each device is reported once, with the reason, although the driver retried every 30 s
    assert_eq!(h.len(), 4, "{h:?}");
    for (_, state, detail) in &h {
        assert_eq!(*state, HealthState::Offline);
        assert_eq!(detail, "no Bluetooth: no Bluetooth adapter found");
    }
    assert!(readings(&events).is_empty());
}

#[tokio::test(start_paused = true)]
async fn silent_advertising_device_goes_offline() {
    // the door advertises once; a stranger's late advert keeps the replay open meanwhile
    let trace = format!(
        "{}\n{}",
        line(0, DOOR, "adv", "0201060816d2fc4000051a01"),
        line(200_000, "AA:AA:AA:AA:AA:AA", "adv", "")
    );
    let radio = ReplayRadio::from_lines(&trace, BASE, "trace").unwrap();
    let mut cfg = config();
    cfg.devices.truncate(2);
    cfg.offline_after = Duration::from_secs(60);
    let events = run_driver(cfg, Some(radio), Duration::from_secs(120)).await;
    let h = health(&events);
    assert_eq!(
        h.first(),
        Some(&("door-1".into(), HealthState::Online, "advertising".into())),
        "{h:?}"
    );
    assert!(
        h.iter().any(|(d, s, detail)| d == "door-1"
            && *s == HealthState::Offline
            && detail == "not heard for 1m"),
        "{h:?}"
    );
    assert!(
        h.iter().any(|(d, s, detail)| d == "w-101a"
            && *s == HealthState::Offline
            && detail == "never heard in 1m"),
        "{h:?}"
    );
}

#[test]
fn replay_file_errors_name_the_line() {
    let e = ReplayRadio::from_lines(
        "\n{\"t_ms\": 0, \"address\": \"x\", \"uuid\": \"adv\"}",
        BASE,
        "t.jsonl",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "replay file t.jsonl: line 2: address \"x\" is not a Bluetooth address"
    );
}

#[test]
fn recorded_accelerometer_batches_follow_the_wearable_profile() {
    let expected = to_hex(&encode_accel(7, 50, 8, &[[0, 0, 4096], [0, 0, 4096]]));
    let line = trace()
        .lines()
        .find(|l| l.contains(ACCEL))
        .map(str::to_owned)
        .unwrap();
    assert!(line.contains(&format!(r#""hex": "{expected}""#)), "{line}");
}

#[test]
fn replay_files_are_checked_without_replaying() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.jsonl");
    std::fs::write(&good, trace()).unwrap();
    assert_eq!(
        ReplayRadio::check_file(&good).unwrap(),
        trace().lines().count()
    );
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        format!(
            "{}\n{}",
            line(0, WEARABLE, "2a37", "0648"),
            line(1, WEARABLE, "2a37", "0g")
        ),
    )
    .unwrap();
    let e = ReplayRadio::check_file(&bad).unwrap_err().to_string();
    assert!(
        e.ends_with("line 2: invalid hex: non-hex digit at position 0"),
        "{e}"
    );
    assert!(ReplayRadio::check_file(&dir.path().join("missing.jsonl")).is_err());
}

#[tokio::test]
async fn btleplug_without_bluetooth_is_a_clear_error() {
    use crate::ble::radio::BtleplugRadio;
    // This machine has no Bluetooth (no adapter, no bluetoothd): opening must fail cleanly.
    let r = tokio::time::timeout(Duration::from_secs(20), BtleplugRadio::open(&config())).await;
    match r {
        Ok(Err(e)) => {
            eprintln!("{e}");
            assert!(e.to_string().starts_with("no Bluetooth: "), "{e}");
        }
        Ok(Ok(_)) => eprintln!("a Bluetooth adapter is present; nothing to check"),
        Err(_) => panic!("opening the radio hung"),
    }
}
