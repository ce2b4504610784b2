//! The driver's pure bookkeeping and the value → measurement mapping, event by event.

use crate::ble::adv::AdvData;
use crate::ble::config::{BleConfig, BleDeviceConfig};
use crate::ble::gatt::{decode, uuid16};
use crate::ble::measurements::from_decoded;
use crate::ble::radio::RadioEvent;
use crate::ble::state::{BleState, Output};
use crate::driver::HealthState;
use crate::reading::{Measurement, Timestamp};

fn named_wearable() -> BleState {
    let cfg = BleConfig {
        devices: vec![BleDeviceConfig {
            id: "w-9".into(),
            address: None,
            name: Some("PA-W-9".into()),
            beacon: None,
            connect: None,
        }],
        ..BleConfig::default()
    };
    BleState::new(&cfg).unwrap()
}

fn notification(address: &str, uuid: u16, value: &[u8]) -> RadioEvent {
    RadioEvent::Notification {
        at: Timestamp(5),
        address: address.into(),
        uuid: uuid16(uuid),
        value: value.to_vec(),
    }
}

#[test]
fn device_known_by_name_is_bound_to_its_current_address() {
    let mut s = named_wearable();
    let mut out = Vec::new();
    // before its advertisement the address means nothing
    s.on_event(
        notification("AA:00:00:00:00:09", 0x2A37, &[0x00, 70]),
        &mut out,
    );
    assert!(out.is_empty());
    s.on_event(
        RadioEvent::Advert {
            at: Timestamp(1),
            address: "AA:00:00:00:00:09".into(),
            name: Some("PA-W-9".into()),
            rssi: Some(-50),
            data: AdvData::default(),
        },
        &mut out,
    );
    s.on_event(
        RadioEvent::Connected {
            at: Timestamp(2),
            address: "AA:00:00:00:00:09".into(),
        },
        &mut out,
    );
    s.on_event(
        notification("AA:00:00:00:00:09", 0x2A37, &[0x00, 70]),
        &mut out,
    );
    assert!(
        matches!(&out[0], Output::Health { state: HealthState::Online, detail, .. } if detail == "connected")
    );
    assert!(
        matches!(&out[1], Output::Reading(r) if r.measurement == Measurement::HeartRate { bpm: 70.0 } && r.device.as_str() == "w-9")
    );
    assert_eq!(out.len(), 2);
}

#[test]
fn undecodable_payload_is_counted_and_warned_not_fatal() {
    let mut s = named_wearable();
    let mut out = Vec::new();
    s.on_event(
        RadioEvent::Advert {
            at: Timestamp(1),
            address: "AA:00:00:00:00:09".into(),
            name: Some("PA-W-9".into()),
            rssi: None,
            data: AdvData::default(),
        },
        &mut out,
    );
    out.clear();
    s.on_event(
        notification("AA:00:00:00:00:09", 0x2A35, &[0x00, 1]),
        &mut out,
    );
    assert_eq!(s.counters().bad_payloads, 1);
    assert!(
        matches!(&out[..], [Output::Warning { detail, .. }] if detail.starts_with("0x2a35: blood pressure measurement: payload is 2 bytes"))
    );
}

#[test]
fn no_skin_contact_yields_no_heart_rate() {
    let d = decode(0x2A37, &[0x04, 0]).unwrap();
    assert!(from_decoded(&d).is_empty());
    let d = decode(0x2A37, &[0x06, 64]).unwrap();
    assert_eq!(from_decoded(&d), vec![Measurement::HeartRate { bpm: 64.0 }]);
}

#[test]
fn kpa_blood_pressure_becomes_mmhg() {
    // 16 kPa / 10.7 kPa, MAP NaN
    let d = decode(0x2A35, &[0x01, 0x10, 0x00, 0x6B, 0xF0, 0xFF, 0x07]).unwrap();
    let m = from_decoded(&d);
    let [
        Measurement::BloodPressure {
            systolic,
            diastolic,
            map,
        },
    ] = m.as_slice()
    else {
        panic!("{m:?}");
    };
    assert!((systolic - 120.01).abs() < 0.01, "{systolic}");
    assert!((diastolic - 80.26).abs() < 0.01, "{diastolic}");
    assert_eq!(*map, None);
}

#[test]
fn unfit_oximeter_values_never_become_readings() {
    // measurement status "invalid measurement detected" (bit 15)
    let d = decode(0x2A5E, &[0x02, 85, 0, 120, 0, 0x00, 0x80]).unwrap();
    assert!(from_decoded(&d).is_empty());
    // device status "sensor disconnected" (bit 15)
    let d = decode(0x2A5F, &[0x08, 85, 0, 120, 0, 0x00, 0x80, 0x00]).unwrap();
    assert!(from_decoded(&d).is_empty());
    // special values: NaN SpO2, valid pulse rate
    let d = decode(0x2A5E, &[0x00, 0xFF, 0x07, 72, 0]).unwrap();
    assert_eq!(from_decoded(&d), vec![Measurement::HeartRate { bpm: 72.0 }]);
    // a validated reading
    let d = decode(0x2A5E, &[0x02, 97, 0, 72, 0, 0x80, 0x00]).unwrap();
    assert_eq!(
        from_decoded(&d),
        vec![
            Measurement::SpO2 { percent: 97.0 },
            Measurement::HeartRate { bpm: 72.0 }
        ]
    );
}

#[test]
fn fahrenheit_temperature_becomes_celsius() {
    let d = decode(0x2A1C, &[0x01, 0x8A, 0x03, 0x00, 0xFF]).unwrap(); // 90.6 °F
    let m = from_decoded(&d);
    let [Measurement::BodyTemperature { celsius }] = m.as_slice() else {
        panic!("{m:?}");
    };
    assert!((celsius - 32.555_557).abs() < 1e-4, "{celsius}");
}

#[test]
fn radio_down_reports_each_device_once() {
    let mut s = named_wearable();
    let mut out = Vec::new();
    s.radio_down("no Bluetooth: no Bluetooth adapter found", &mut out);
    s.radio_down("no Bluetooth: no Bluetooth adapter found", &mut out);
    assert_eq!(out.len(), 1);
}
