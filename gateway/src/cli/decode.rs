//! `pingan decode`: decode one BLE payload and print it as one JSON object.
//!
//! `pingan decode gatt <uuid> <hex>` decodes a characteristic value (`2a37`, `0x2A37` or a Pingan
//! wearable 128-bit UUID); `pingan decode adv <hex>` decodes raw advertising data. A valid payload
//! prints the decoded value and exits 0; anything else prints `{"error": "..."}` and exits 2.
//! Field names are documented in `docs/BLE.md`.

use std::process::ExitCode;

use pingan_drivers::ble::adv::{self, from_hex};
use pingan_drivers::ble::gatt::{decode_characteristic, parse_uuid};

/// Exit code of an invalid payload, UUID or hex string.
pub const EXIT_INVALID: u8 = 2;

/// The `decode` subcommands.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum DecodeCommand {
    /// Decode a GATT characteristic value, e.g. `pingan decode gatt 2a37 0648`.
    Gatt {
        /// Characteristic UUID: 16-bit form such as `2a37` (case-insensitive, optional `0x`),
        /// or a 128-bit Pingan wearable UUID.
        uuid: String,
        /// The value as hex without separators (may be empty).
        hex: String,
    },
    /// Decode raw advertising data (AD structures), e.g. `pingan decode adv 020106…`.
    Adv {
        /// The advertising data as hex without separators (may be empty).
        hex: String,
    },
}

/// Runs a decode command: the line to print on stdout and the process exit code.
pub fn run(cmd: &DecodeCommand) -> (String, ExitCode) {
    let (line, code) = output(cmd);
    (line, ExitCode::from(code))
}

/// Like [`run`] with the exit code as a number (0 or [`EXIT_INVALID`]).
pub fn output(cmd: &DecodeCommand) -> (String, u8) {
    match decode_json(cmd) {
        Ok(json) => (json, 0),
        Err(message) => (
            serde_json::json!({ "error": message }).to_string(),
            EXIT_INVALID,
        ),
    }
}

fn decode_json(cmd: &DecodeCommand) -> Result<String, String> {
    let json = match cmd {
        DecodeCommand::Gatt { uuid, hex } => {
            let uuid = parse_uuid(uuid)?;
            let bytes = from_hex(hex)?;
            let value = decode_characteristic(uuid, &bytes).map_err(|e| e.to_string())?;
            serde_json::to_string(&value)
        }
        DecodeCommand::Adv { hex } => {
            let bytes = from_hex(hex)?;
            let value = adv::decode(&bytes).map_err(|e| e.to_string())?;
            serde_json::to_string(&value)
        }
    };
    json.map_err(|e| format!("cannot encode the result as JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn gatt(uuid: &str, hex: &str) -> (Value, u8) {
        let (line, code) = output(&DecodeCommand::Gatt {
            uuid: uuid.into(),
            hex: hex.into(),
        });
        assert!(!line.contains('\n'), "one line: {line}");
        (serde_json::from_str(&line).unwrap(), code)
    }

    fn adv(hex: &str) -> (Value, u8) {
        let (line, code) = output(&DecodeCommand::Adv { hex: hex.into() });
        (serde_json::from_str(&line).unwrap(), code)
    }

    #[test]
    fn heart_rate_prints_contract_fields() {
        // flags 0x16: uint8 value, contact supported and detected (0x06), RR present (0x10);
        // 72 bpm, one RR interval of 1024/1024 s
        let (v, code) = gatt("2a37", "16480004");
        assert_eq!(code, 0);
        assert_eq!(
            v,
            json!({"heart_rate_bpm": 72, "sensor_contact": true, "energy_expended_kj": null,
                   "rr_intervals_s": [1.0]})
        );
    }

    #[test]
    fn uuid_is_case_insensitive_with_optional_0x() {
        for u in [
            "2A37",
            "0x2a37",
            "0X2A37",
            "00002a37",
            "00002a37-0000-1000-8000-00805f9b34fb",
        ] {
            let (v, code) = gatt(u, "0048");
            assert_eq!(code, 0, "{u}");
            assert_eq!(v["heart_rate_bpm"], 72);
            assert_eq!(v["sensor_contact"], Value::Null);
        }
    }

    #[test]
    fn invalid_payload_prints_error_and_exits_2() {
        let (v, code) = gatt("2a37", "01");
        assert_eq!(code, EXIT_INVALID);
        assert_eq!(
            v,
            json!({"error": "heart rate measurement: payload is 1 byte, flags 0x01 need at least 3"})
        );
    }

    #[test]
    fn empty_hex_is_an_empty_payload() {
        let (v, code) = gatt("2a19", "");
        assert_eq!(code, EXIT_INVALID);
        assert!(v["error"].as_str().unwrap().contains("0 bytes"));
    }

    #[test]
    fn bad_hex_and_unknown_uuid_are_errors() {
        assert_eq!(gatt("2a37", "0g").1, EXIT_INVALID);
        assert_eq!(gatt("2a37", "004").1, EXIT_INVALID);
        let (v, code) = gatt("2a00", "00");
        assert_eq!(code, EXIT_INVALID);
        assert_eq!(v, json!({"error": "unsupported characteristic 0x2a00"}));
        assert_eq!(gatt("zz", "00").1, EXIT_INVALID);
    }

    #[test]
    fn blood_pressure_special_values_print_as_strings() {
        // flags 0x1E: mmHg, time, pulse, user, status. 120/80 mmHg, MAP NaN, 2020-01-02 03:04:05,
        // pulse 70, user 1, status: body movement.
        let (v, code) = gatt(
            "2a35",
            "1e78005000ff07e407010203040546000101 00"
                .replace(' ', "")
                .as_str(),
        );
        assert_eq!(code, 0, "{v}");
        assert_eq!(
            v,
            json!({"systolic": 120, "diastolic": 80, "mean_arterial_pressure": "NaN", "unit": "mmHg",
                   "pulse_rate_bpm": 70, "user_id": 1, "timestamp": "2020-01-02T03:04:05",
                   "measurement_status": {"body_movement_detected": true, "cuff_too_loose": false,
                       "irregular_pulse_detected": false, "pulse_rate_range": "within",
                       "improper_measurement_position": false}})
        );
    }

    #[test]
    fn temperature_spo2_weight_battery_field_names() {
        let (v, _) = gatt("2a1c", "046c0100ff01");
        assert_eq!(
            v,
            json!({"temperature": 36.4, "unit": "C", "timestamp": null, "temperature_type": "armpit"})
        );
        let (v, _) = gatt("2a5e", "0061004800");
        assert_eq!(v["spo2_percent"], 97);
        assert_eq!(v["pulse_rate_bpm"], 72);
        assert_eq!(v["pulse_amplitude_index_percent"], Value::Null);
        let (v, _) = gatt("2a9d", "0070 36".replace(' ', "").as_str());
        assert_eq!(v["weight"], 69.68); // 0x3670 = 13936 × 0.005 kg
        assert_eq!(v["unit"], "kg");
        assert_eq!(v["bmi"], Value::Null);
        assert_eq!(v["height"], Value::Null);
        let (v, _) = gatt("2a19", "57");
        assert_eq!(v, json!({"battery_percent": 87}));
    }

    #[test]
    fn adv_decodes_bthome_frame() {
        // custom-components/ble_monitor test_bthome_v2.py::test_bhtome_v2_temperature_and_humidity
        let (v, code) = adv("0201060a16d2fc4002ca0903bf13");
        assert_eq!(code, 0, "{v}");
        assert_eq!(v["bthome"]["objects"][0]["name"], "temperature");
        assert_eq!(v["bthome"]["objects"][0]["value"], 25.06);
        assert_eq!(v["bthome"]["objects"][1]["value"], 50.55);
        assert_eq!(v["flags"], 6);
    }

    #[test]
    fn adv_whole_numbers_print_as_integers() {
        // BTHome packet id 1, button press: an SOS pendant's advert
        let (v, code) = adv("0201060816d2fc4000013a01");
        assert_eq!(code, 0);
        assert_eq!(
            v["bthome"]["objects"],
            json!([{"id": 0, "name": "packet_id", "value": 1},
                   {"id": 58, "name": "button", "value": "press"}])
        );
        assert_eq!(v["bthome"]["packet_id"], 1);
    }

    #[test]
    fn adv_with_truncated_structure_exits_2() {
        let (v, code) = adv("0516d2fc");
        assert_eq!(code, EXIT_INVALID);
        assert!(v["error"].as_str().unwrap().starts_with("advertisement:"));
    }

    #[test]
    fn wearable_profile_examples_from_the_docs() {
        let (v, code) = gatt(
            "50a60002-9c6b-4d2e-8b3f-70696e67616e",
            "010832000700000000000010",
        );
        assert_eq!(code, 0, "{v}");
        assert_eq!(
            v,
            json!({"sequence": 7, "sample_rate_hz": 50, "range_g": 8, "samples_g": [[0.0, 0.0, 1.0]]})
        );
        let (v, _) = gatt("50A60003-9C6B-4D2E-8B3F-70696E67616E", "012a00");
        assert_eq!(v, json!({"button": "sos", "counter": 42}));
    }

    #[test]
    fn adv_example_from_the_docs_is_exact() {
        let (line, code) = output(&DecodeCommand::Adv {
            hex: "0201060a16d2fc4002ca0903bf13".into(),
        });
        assert_eq!(code, 0);
        assert_eq!(
            line,
            concat!(
                r#"{"flags":6,"local_name":null,"tx_power_dbm":null,"service_uuids":[],"#,
                r#""service_data":[{"uuid":"0xfcd2","data":"4002ca0903bf13"}],"manufacturer_data":[],"#,
                r#""ibeacon":null,"eddystone":null,"#,
                r#""bthome":{"version":2,"trigger_based":false,"packet_id":null,"objects":["#,
                r#"{"id":2,"name":"temperature","value":25.06,"unit":"°C"},"#,
                r#"{"id":3,"name":"humidity","value":50.55,"unit":"%"}]}}"#
            )
        );
    }

    #[test]
    fn gatt_examples_from_the_docs_are_exact() {
        let cases = [
            (
                "2a1c",
                "06b00e00fedc070c050b321b04",
                r#"{"temperature":37.6,"unit":"C","timestamp":"2012-12-05T11:50:27","temperature_type":"finger"}"#,
            ),
            (
                "2a1c",
                "00ffff7f00",
                r#"{"temperature":"NaN","unit":"C","timestamp":null,"temperature_type":null}"#,
            ),
            (
                "2a9d",
                "0c143702e100ea06",
                r#"{"weight":70.5,"unit":"kg","measurement_unsuccessful":false,"bmi":22.5,"height":1.77,"height_unit":"m","user_id":2,"timestamp":null}"#,
            ),
            ("2a19", "57", r#"{"battery_percent":87}"#),
            (
                "2a37",
                "16480004",
                r#"{"heart_rate_bpm":72,"sensor_contact":true,"energy_expended_kj":null,"rr_intervals_s":[1.0]}"#,
            ),
        ];
        for (uuid, hex, expected) in cases {
            let (line, code) = output(&DecodeCommand::Gatt {
                uuid: uuid.into(),
                hex: hex.into(),
            });
            assert_eq!((line.as_str(), code), (expected, 0), "{uuid} {hex}");
        }
    }
}
