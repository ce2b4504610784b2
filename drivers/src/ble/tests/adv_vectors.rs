//! Advertisement vectors. "ble_monitor" is custom-components/ble_monitor,
//! `custom_components/ble_monitor/test/…`; its HCI reports are cut to the AD structures (the
//! HCI header before them and the RSSI byte after them are not advertising data).

use serde_json::json;

use crate::ble::adv::bthome::{self, Value};
use crate::ble::adv::eddystone::{self, Eddystone};
use crate::ble::adv::{self, AdvData, from_hex};
use crate::ble::error::DecodeError;
use crate::ble::measurements::from_bthome;
use crate::reading::{ButtonKind, Measurement};

fn adv_hex(hex: &str) -> adv::Advertisement {
    adv::decode(&from_hex(hex).unwrap()).unwrap()
}

#[test]
fn bthome_packet_id_and_battery() {
    // ble_monitor test_bthome_v2.py::test_bthome_v2_packet_and_battery: packet 9, battery 97 %
    let a = adv_hex("0201060816d2fc4000090161");
    let b = a.bthome.unwrap();
    assert_eq!(b.packet_id, Some(9));
    assert_eq!(b.number("battery"), Some(97.0));
    assert_eq!(a.data.flags, Some(0x06));
}

#[test]
fn bthome_temperature_and_humidity() {
    // ble_monitor …::test_bhtome_v2_temperature_and_humidity: 25.06 °C, 50.55 %
    let b = adv_hex("0201060a16d2fc4002ca0903bf13").bthome.unwrap();
    assert_eq!(b.number("temperature"), Some(25.06));
    assert_eq!(b.number("humidity"), Some(50.55));
    assert_eq!(b.packet_id, None);
    assert_eq!(
        from_bthome(&b),
        vec![Measurement::Environment {
            temperature: 25.06,
            humidity: 50.55,
            co2: None
        }]
    );
}

#[test]
fn bthome_numeric_objects_scale_exactly() {
    // ble_monitor test_bthome_v2.py: pressure (packet 12), illuminance, weight, dewpoint, energy,
    // power, voltage, PM, CO2, TVOC, moisture, counts
    let cases: &[(&str, &str, f64)] = &[
        ("40000c04138a01", "pressure", 1008.83),
        ("4005138a14", "illuminance", 13460.67),
        ("40065e1f", "mass", 80.3),
        ("4008ca06", "dewpoint", 17.38),
        ("400a138a14", "energy", 1346.067),
        ("400b021b00", "power", 69.14),
        ("400c020c", "voltage", 3.074),
        ("400d120c0e021c", "pm2_5", 3090.0),
        ("400d120c0e021c", "pm10", 7170.0),
        ("4012e204", "co2", 1250.0),
        ("40133301", "tvoc", 307.0),
        ("40143301", "moisture", 3.07),
        ("402e33", "humidity", 51.0),
        ("402f33", "moisture", 51.0),
        ("403d3321", "count", 8499.0),
        ("403e33ae3221", "count", 556_969_523.0),
    ];
    for (hex, name, value) in cases {
        let b = bthome::decode(&from_hex(hex).unwrap()).unwrap();
        assert_eq!(b.number(name), Some(*value), "{hex} {name}");
    }
}

#[test]
fn bthome_binary_sensors_map_to_measurements() {
    // ble_monitor …::test_bthome_v2_door (0x1A = 1), …_smoke (0x29 = 1), …_opening (0x11 = 0),
    // …_motion (0x21 = 1)
    let door = bthome::decode(&from_hex("401a01").unwrap()).unwrap();
    assert_eq!(from_bthome(&door), vec![Measurement::Door { open: true }]);
    let smoke = bthome::decode(&from_hex("402901").unwrap()).unwrap();
    assert_eq!(
        from_bthome(&smoke),
        vec![Measurement::Smoke { alarm: true }]
    );
    let opening = bthome::decode(&from_hex("401100").unwrap()).unwrap();
    assert_eq!(
        from_bthome(&opening),
        vec![Measurement::Door { open: false }]
    );
    let motion = bthome::decode(&from_hex("402101").unwrap()).unwrap();
    assert_eq!(motion.flag("motion"), Some(true));
    assert!(matches!(
        bthome::decode(&from_hex("402102").unwrap()),
        Err(DecodeError::InvalidValue { .. })
    ));
}

#[test]
fn bthome_button_events_are_sos_or_cancel() {
    // bthome.io/format: 0x3A button, 0x01 press, 0x02 double press, 0x04 long press, 0x00 none
    let sos = bthome::decode(&from_hex("4000013a01").unwrap()).unwrap();
    assert_eq!(sos.packet_id, Some(1));
    assert_eq!(
        from_bthome(&sos),
        vec![Measurement::Button {
            button: ButtonKind::Sos
        }]
    );
    let cancel = bthome::decode(&from_hex("3a02".replace("3a", "403a").as_str()).unwrap()).unwrap();
    assert_eq!(
        from_bthome(&cancel),
        vec![Measurement::Button {
            button: ButtonKind::Cancel
        }]
    );
    let none = bthome::decode(&from_hex("403a00").unwrap()).unwrap();
    assert!(from_bthome(&none).is_empty());
    assert!(bthome::decode(&from_hex("403a07").unwrap()).is_err());
}

#[test]
fn bthome_rejects_encrypted_reserved_unknown_and_truncated() {
    // ble_monitor …::test_bthome_v2_temperature_and_humidity_encrypted: device info 0x41
    let e = adv::decode(&from_hex("0201061216d2fc41a47266c95f730011223378237214").unwrap())
        .unwrap_err();
    assert!(matches!(e, DecodeError::Unsupported { .. }), "{e}");
    assert!(matches!(
        bthome::decode(&[0x42]),
        Err(DecodeError::ReservedFlags { .. })
    ));
    assert!(matches!(
        bthome::decode(&[0x20, 0x01, 0x50]),
        Err(DecodeError::Unsupported { .. })
    ));
    assert!(matches!(
        bthome::decode(&[0x40, 0xEE, 0x01]),
        Err(DecodeError::Unsupported { .. })
    ));
    assert!(matches!(
        bthome::decode(&[0x40, 0x02, 0xCA]),
        Err(DecodeError::Truncated { .. })
    ));
    assert!(matches!(
        bthome::decode(&[]),
        Err(DecodeError::Truncated { .. })
    ));
}

#[test]
fn bthome_signed_temperature() {
    // -5.5 °C as sint16 0.01: -550 = 0xFDDA
    let b = bthome::decode(&[0x40, 0x02, 0xDA, 0xFD]).unwrap();
    assert_eq!(b.objects[0].value, Value::Number(-5.5));
}

#[test]
fn ibeacon_identity() {
    // ble_monitor test_ibeacon_parser.py::test_ibeacon_sensor: uuid e2c56db5-…, major 100,
    // minor 0, measured power -59
    let a = adv_hex("02011a1aff4c000215e2c56db5dffb48d2b060d0f5a71096e000640000c5");
    let b = a.ibeacon.unwrap();
    assert_eq!(
        serde_json::to_value(&b).unwrap(),
        json!({"uuid": "e2c56db5-dffb-48d2-b060-d0f5a71096e0", "major": 100, "minor": 0,
               "measured_power_dbm": -59})
    );
    assert_eq!(
        b.beacon_id(),
        "ibeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0:100:0"
    );
}

#[test]
fn apple_adverts_that_are_not_ibeacons_are_ignored() {
    // ble_monitor …::test_ibeacon_iphone_ble_packet_var_1: Apple nearby-info data, no iBeacon
    let a = adv_hex("02011a020a0c0fff4c000f06a033bd08c5001002440c");
    assert!(a.ibeacon.is_none());
    assert_eq!(a.data.tx_power_dbm, Some(12));
}

#[test]
fn eddystone_tlm_telemetry() {
    // ble_monitor test_eddystone_tlm_parser.py::test_eddystone_tlm: 3183 mV, 30.0 °C,
    // 131181 adverts
    let a = adv_hex("0201060303aafe1116aafe20000c6f1e000002006d41db9ab6");
    assert_eq!(
        a.eddystone,
        Some(Eddystone::Tlm {
            battery_mv: Some(3183),
            temperature_c: Some(30.0),
            adv_count: 131_181,
            uptime_s: 110_491_103.0, // 0x41DB9AB6 × 0.1 s
        })
    );
    // …::test_eddystone_tlm_unsupported_readings: 0 mV and 0x8000 mean "not supported"
    let a = adv_hex("0201060303aafe1116aafe2000000080000002006d41db9ab6");
    assert!(matches!(
        a.eddystone,
        Some(Eddystone::Tlm {
            battery_mv: None,
            temperature_c: None,
            ..
        })
    ));
}

#[test]
fn eddystone_uid_and_url() {
    // Eddystone-UID spec layout: tx -20 dBm, namespace 10 bytes, instance 6 bytes, 2 RFU
    let uid =
        eddystone::decode(&from_hex("00ecedd1ebeac04e5defa0171234567890ab0000").unwrap()).unwrap();
    assert_eq!(
        uid.beacon_id().unwrap(),
        "eddystone:edd1ebeac04e5defa017:1234567890ab"
    );
    assert_eq!(uid.tx_power_dbm(), Some(-20));
    // Eddystone-URL spec example: "https://goo.gl/S6zT6P" = 03 676f6f2e676c 2f 53367a54 3650
    let url = eddystone::decode(&from_hex("10eb03676f6f2e676c2f53367a543650").unwrap()).unwrap();
    assert_eq!(
        url,
        Eddystone::Url {
            tx_power_dbm: -21,
            url: "https://goo.gl/S6zT6P".into()
        }
    );
    // expansion code 0x07 = ".com"
    let url = eddystone::decode(&from_hex("10000165786d706c6507").unwrap()).unwrap();
    assert!(matches!(url, Eddystone::Url { url, .. } if url == "https://www.exmple.com"));
    assert!(eddystone::decode(&from_hex("100004").unwrap()).is_err());
    assert!(eddystone::decode(&from_hex("2001").unwrap()).is_err());
}

#[test]
fn ad_structures_with_padding_and_overruns() {
    // a zero length ends the data (the rest is padding)
    let a = AdvData::parse(&from_hex("0201060000000000").unwrap()).unwrap();
    assert_eq!(a.flags, Some(6));
    // a length beyond the end is an error, not a panic
    assert!(matches!(
        AdvData::parse(&from_hex("05ff4c00").unwrap()),
        Err(DecodeError::Truncated { .. })
    ));
    let a = AdvData::parse(&from_hex("0a0950696e67616e2d3031").unwrap()).unwrap();
    assert_eq!(a.local_name.as_deref(), Some("Pingan-01"));
    assert!(AdvData::parse(&[]).unwrap().flags.is_none());
}
