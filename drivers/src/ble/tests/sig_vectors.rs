//! Vectors from the specifications and from independent open-source implementations' test
//! suites, each with its source. "Nordic" is NordicSemiconductor/Android-BLE-Common-Library,
//! `ble-common/src/test/java/no/nordicsemi/android/ble/common/callback/…`.

use serde_json::{Value, json};

use crate::ble::error::DecodeError;
use crate::ble::gatt::decode;

fn ok(uuid: u16, bytes: &[u8]) -> Value {
    serde_json::to_value(decode(uuid, bytes).unwrap()).unwrap()
}

fn err(uuid: u16, bytes: &[u8]) -> DecodeError {
    decode(uuid, bytes).unwrap_err()
}

#[test]
fn heart_rate_uint8_without_contact_feature() {
    // Nordic hr/HeartRateMeasurementDataCallbackTest.onHeartRateMeasurementReceived_simple
    assert_eq!(
        ok(0x2A37, &[0, 85]),
        json!({"heart_rate_bpm": 85, "sensor_contact": null, "energy_expended_kj": null,
               "rr_intervals_s": null})
    );
}

#[test]
fn heart_rate_contact_supported_but_not_detected() {
    // Nordic …onHeartRateMeasurementReceived_noContact
    let v = ok(0x2A37, &[0x04, 0xFF]);
    assert_eq!(v["heart_rate_bpm"], 255);
    assert_eq!(v["sensor_contact"], false);
}

#[test]
fn heart_rate_uint8_with_energy_and_rr() {
    // Nordic …onHeartRateMeasurementReceived_uint8: flags 0b11110, 85 bpm, 50 kJ, RR 33/1024 s
    assert_eq!(
        ok(0x2A37, &[0b11110, 85, 50, 0, 33, 0]),
        json!({"heart_rate_bpm": 85, "sensor_contact": true, "energy_expended_kj": 50,
               "rr_intervals_s": [33.0 / 1024.0]})
    );
}

#[test]
fn heart_rate_uint16_with_three_rr_intervals() {
    // Nordic …onHeartRateMeasurementReceived_uint16: 257 bpm, 306 kJ, RR 1, 258, 65535 (1/1024 s)
    assert_eq!(
        ok(0x2A37, &[0b11111, 1, 1, 50, 1, 1, 0, 2, 1, 0xFF, 0xFF]),
        json!({"heart_rate_bpm": 257, "sensor_contact": true, "energy_expended_kj": 306,
               "rr_intervals_s": [1.0 / 1024.0, 258.0 / 1024.0, 65535.0 / 1024.0]})
    );
}

#[test]
fn heart_rate_truncated_is_rejected() {
    // Nordic …onInvalidDataReceived: flags 0b10111 with only 2 more bytes
    assert_eq!(
        err(0x2A37, &[0b10111, 1, 1]),
        DecodeError::Truncated {
            what: "heart rate measurement",
            len: 3,
            flags: Some(0x17),
            need: 5
        }
    );
}

#[test]
fn heart_rate_odd_rr_byte_is_rejected() {
    assert!(matches!(
        err(0x2A37, &[0x10, 60, 1, 2, 3]),
        DecodeError::TrailingBytes { .. }
    ));
}

#[test]
fn blood_pressure_full_with_unknown_year() {
    // Nordic bps/BloodPressureMeasurementDataCallbackTest.onBloodPressureMeasurementReceived_full:
    // 138/88 mmHg, MAP 120, year 0 (unknown), April 17 20:41:59, pulse 60, user 1, status 0b100111
    let bytes = [
        0x1E, 0x8A, 0x00, 0x58, 0x00, 0x78, 0x00, 0x00, 0x00, 0x04, 0x11, 0x14, 0x29, 0x3B, 0x3C,
        0x00, 0x01, 0x27, 0x00,
    ];
    assert_eq!(
        ok(0x2A35, &bytes),
        json!({"systolic": 138, "diastolic": 88, "mean_arterial_pressure": 120, "unit": "mmHg",
               "pulse_rate_bpm": 60, "user_id": 1, "timestamp": "0000-04-17T20:41:59",
               "measurement_status": {"body_movement_detected": true, "cuff_too_loose": true,
                   "irregular_pulse_detected": true, "pulse_rate_range": "within",
                   "improper_measurement_position": true}})
    );
}

#[test]
fn blood_pressure_kpa_with_pulse_and_status() {
    // Nordic …onBloodPressureMeasurementReceived_some: 18.9/11 kPa, MAP 15.9, pulse 60,
    // status: cuff too loose, pulse below lower limit
    let bytes = [
        0x15, 0xBD, 0xF0, 0x0B, 0x00, 0x9F, 0xF0, 0x3C, 0x00, 0x12, 0x00,
    ];
    let v = ok(0x2A35, &bytes);
    assert_eq!(v["systolic"], 18.9);
    assert_eq!(v["diastolic"], 11);
    assert_eq!(v["mean_arterial_pressure"], 15.9);
    assert_eq!(v["unit"], "kPa");
    assert_eq!(v["user_id"], Value::Null);
    assert_eq!(v["timestamp"], Value::Null);
    assert_eq!(
        v["measurement_status"]["pulse_rate_range"],
        "below_lower_limit"
    );
    assert_eq!(v["measurement_status"]["cuff_too_loose"], true);
}

#[test]
fn blood_pressure_minimal_and_too_short() {
    // Nordic …_minimal, …onInvalidDataReceived_toShort, …onInvalidDataReceived_noTimestamp
    let v = ok(0x2A35, &[0x00, 0xBD, 0xF0, 0x0B, 0x00, 0x9F, 0xF0]);
    assert_eq!(v["systolic"], 18.9);
    assert_eq!(v["pulse_rate_bpm"], Value::Null);
    assert!(matches!(
        err(0x2A35, &[1, 2, 3, 4, 5, 6]),
        DecodeError::Truncated { need: 7, .. }
    ));
    assert!(matches!(
        err(0x2A35, &[3, 2, 3, 4, 5, 6, 7]),
        DecodeError::Truncated { need: 14, .. }
    ));
}

#[test]
fn intermediate_cuff_pressure_reports_current_pressure() {
    // Same layout as 0x2A35 (Blood Pressure Service 1.1 §3.2): systolic = cuff pressure,
    // diastolic and MAP unused (NaN).
    let v = ok(0x2A36, &[0x00, 0x8A, 0x00, 0xFF, 0x07, 0xFF, 0x07]);
    assert_eq!(v["cuff_pressure"], 138);
    assert_eq!(v["systolic"], 138);
    assert_eq!(v["diastolic"], "NaN");
    assert_eq!(v["mean_arterial_pressure"], "NaN");
}

#[test]
fn temperature_with_time_and_finger_type() {
    // Nordic ht/TemperatureMeasurementDataCallbackTest.onTemperatureMeasurementReceived:
    // 37.60 °C (mantissa 3760, exponent -2), 2012-12-05 11:50:27, type 4 (finger)
    let bytes = [
        0x06, 0xB0, 0x0E, 0x00, 0xFE, 0xDC, 0x07, 0x0C, 0x05, 0x0B, 0x32, 0x1B, 0x04,
    ];
    assert_eq!(
        ok(0x2A1C, &bytes),
        json!({"temperature": 37.6, "unit": "C", "timestamp": "2012-12-05T11:50:27",
               "temperature_type": "finger"})
    );
    // Nordic …onInvalidDataReceived: the type byte is missing
    assert!(matches!(
        err(0x2A1C, &bytes[..12]),
        DecodeError::Truncated { need: 13, .. }
    ));
}

#[test]
fn temperature_fahrenheit_and_special_values() {
    let v = ok(0x2A1C, &[0x01, 0xA7, 0x03, 0x00, 0xFF]); // 93.5 °F
    assert_eq!(v["temperature"], 93.5);
    assert_eq!(v["unit"], "F");
    assert_eq!(
        ok(0x2A1C, &[0x00, 0xFF, 0xFF, 0x7F, 0x00])["temperature"],
        "NaN"
    );
    assert_eq!(
        ok(0x2A1C, &[0x00, 0x00, 0x00, 0x80, 0x00])["temperature"],
        "NRes"
    );
    assert_eq!(
        ok(0x2A1C, &[0x00, 0xFE, 0xFF, 0x7F, 0x00])["temperature"],
        "+INF"
    );
    assert_eq!(
        ok(0x2A1C, &[0x00, 0x02, 0x00, 0x80, 0x00])["temperature"],
        "-INF"
    );
    assert_eq!(
        err(0x2A1C, &[0x00, 0x01, 0x00, 0x80, 0x00]),
        DecodeError::ReservedFloat {
            what: "temperature measurement",
            field: "temperature"
        }
    );
    assert!(matches!(
        err(0x2A1C, &[0x04, 0x6C, 0x01, 0x00, 0xFF, 10]),
        DecodeError::InvalidValue {
            field: "temperature type",
            ..
        }
    ));
}

#[test]
fn glucose_measurement_with_all_fields() {
    // Nordic glucose/GlucoseMeasurementDataCallbackTest.onGlucoseMeasurementReceived:
    // seq 1, 2019-02-27 11:10:30, offset -5 min, 30.0 kg/L (SFLOAT 0x001E), capillary plasma,
    // finger, status 0x0105, context follows
    let bytes = [
        0b011011, 1, 0, 0xE3, 0x07, 2, 27, 11, 10, 30, 0xFB, 0xFF, 30, 0, 0x12, 0b101, 0b1,
    ];
    assert_eq!(
        ok(0x2A18, &bytes),
        json!({"sequence_number": 1, "timestamp": "2019-02-27T11:10:30", "time_offset_minutes": -5,
               "glucose_concentration": 30, "unit": "kg/L", "type": "capillary_plasma",
               "sample_location": "finger",
               "sensor_status": ["device_battery_low", "sample_size_insufficient", "temperature_too_low"],
               "context_follows": true})
    );
    // Nordic …onInvalidDataReceived: the time offset is missing
    let short = [
        0b011011, 0, 0, 0xE2, 0x07, 4, 26, 11, 9, 30, 30, 0, 0x12, 0b101, 0b1,
    ];
    assert!(matches!(
        err(0x2A18, &short),
        DecodeError::Truncated { need: 17, .. }
    ));
}

#[test]
fn glucose_mmol_per_litre() {
    // 5.5 mmol/L is sent as 0.0055 mol/L: mantissa 55, exponent -4 (0xC037)
    let bytes = [0x06, 7, 0, 0xE8, 0x07, 1, 2, 3, 4, 5, 0x37, 0xC0, 0xF1];
    let v = ok(0x2A18, &bytes);
    assert_eq!(v["glucose_concentration"], 0.0055);
    assert_eq!(v["unit"], "mol/L");
    assert_eq!(v["sample_location"], "not_available");
    assert_eq!(v["time_offset_minutes"], Value::Null);
}

#[test]
fn plx_spot_check_with_every_field() {
    // Pulse Oximeter Service 1.0 layout: SpO2 98 %, PR 72, 2021-06-01 08:00:00, measurement status
    // "validated data" (bit 7), device status "low perfusion" (bit 5), PAI 2.5 % (0xF019)
    let bytes = [
        0x0F, 98, 0, 72, 0, 0xE5, 0x07, 6, 1, 8, 0, 0, 0x80, 0x00, 0x20, 0x00, 0x00, 0x19, 0xF0,
    ];
    assert_eq!(
        ok(0x2A5E, &bytes),
        json!({"spo2_percent": 98, "pulse_rate_bpm": 72, "pulse_amplitude_index_percent": 2.5,
               "timestamp": "2021-06-01T08:00:00", "device_clock_not_set": false,
               "measurement_status": ["validated_data"],
               "device_and_sensor_status": ["low_perfusion_detected"]})
    );
}

#[test]
fn plx_status_reserved_bits_are_rejected() {
    assert!(matches!(
        err(0x2A5E, &[0x02, 98, 0, 72, 0, 0x01, 0x00]),
        DecodeError::InvalidValue { .. }
    ));
    assert!(matches!(
        err(0x2A5F, &[0x08, 98, 0, 72, 0, 0, 0, 0x01]),
        DecodeError::InvalidValue { .. }
    ));
}

#[test]
fn plx_continuous_fast_and_slow() {
    let bytes = [0x03, 97, 0, 70, 0, 96, 0, 71, 0, 0xFF, 0x07, 0xFF, 0x07];
    let v = ok(0x2A5F, &bytes);
    assert_eq!(v["spo2_percent"], 97);
    assert_eq!(v["spo2_fast_percent"], 96);
    assert_eq!(v["pulse_rate_fast_bpm"], 71);
    assert_eq!(v["spo2_slow_percent"], "NaN");
    assert_eq!(v["pulse_rate_slow_bpm"], "NaN");
    assert_eq!(v["measurement_status"], Value::Null);
}

#[test]
fn weight_si_with_bmi_and_height() {
    // Weight Scale Service 1.0: 70.5 kg (14100 × 0.005), user 2, BMI 22.5 (225 × 0.1),
    // height 1.77 m (1770 × 0.001)
    let bytes = [0x0C, 0x14, 0x37, 0x02, 0xE1, 0x00, 0xEA, 0x06];
    assert_eq!(
        ok(0x2A9D, &bytes),
        json!({"weight": 70.5, "unit": "kg", "measurement_unsuccessful": false, "bmi": 22.5,
               "height": 1.77, "height_unit": "m", "user_id": 2, "timestamp": null})
    );
}

#[test]
fn weight_imperial_and_unsuccessful() {
    let v = ok(0x2A9D, &[0x01, 0x6C, 0x3D]); // 15724 × 0.01 lb
    assert_eq!(v["weight"], 157.24);
    assert_eq!(v["unit"], "lb");
    let v = ok(0x2A9D, &[0x00, 0xFF, 0xFF]);
    assert_eq!(v["weight"], Value::Null);
    assert_eq!(v["measurement_unsuccessful"], true);
}

#[test]
fn battery_level_range() {
    // GATT Specification Supplement, Battery Level: uint8 0–100 %, 101–255 reserved
    assert_eq!(ok(0x2A19, &[0x55]), json!({"battery_percent": 85}));
    assert_eq!(ok(0x2A19, &[100]), json!({"battery_percent": 100}));
    assert!(matches!(
        err(0x2A19, &[101]),
        DecodeError::InvalidValue { .. }
    ));
    assert!(matches!(err(0x2A19, &[]), DecodeError::Truncated { .. }));
    assert!(matches!(
        err(0x2A19, &[1, 2]),
        DecodeError::TrailingBytes { .. }
    ));
}
