//! Every flag combination of every flagged characteristic: for each of the 256 flag values a
//! payload with exactly the fields the flags announce either decodes with exactly those fields
//! present, or — when a reserved bit is set — fails with `ReservedFlags`. Every truncation of a
//! valid payload fails with `Truncated`, and one extra byte fails with `TrailingBytes`.

use serde_json::Value;

use crate::ble::error::DecodeError;
use crate::ble::gatt::decode;

/// One optional field group: (flag bit, bytes it adds, JSON fields that must be non-null).
type Group = (u8, &'static [u8], &'static [&'static str]);

struct Layout {
    uuid: u16,
    reserved: u8,
    /// Bytes after the flags that are always present.
    fixed: &'static [u8],
    /// Optional groups in wire order.
    groups: &'static [Group],
}

const TIME: &[u8] = &[0xE8, 0x07, 0x0B, 0x17, 0x0D, 0x1E, 0x00];

const LAYOUTS: &[Layout] = &[
    Layout {
        uuid: 0x2A35,
        reserved: 0xE0,
        fixed: &[0x78, 0x00, 0x50, 0x00, 0x5D, 0x00],
        groups: &[
            (0x02, TIME, &["timestamp"]),
            (0x04, &[0x48, 0x00], &["pulse_rate_bpm"]),
            (0x08, &[0x01], &["user_id"]),
            (0x10, &[0x00, 0x00], &["measurement_status"]),
        ],
    },
    Layout {
        uuid: 0x2A36,
        reserved: 0xE0,
        fixed: &[0x8C, 0x00, 0xFF, 0x07, 0xFF, 0x07],
        groups: &[
            (0x02, TIME, &["timestamp"]),
            (0x04, &[0x48, 0x00], &["pulse_rate_bpm"]),
            (0x08, &[0x01], &["user_id"]),
            (0x10, &[0x00, 0x00], &["measurement_status"]),
        ],
    },
    Layout {
        uuid: 0x2A1C,
        reserved: 0xF8,
        fixed: &[0x6C, 0x01, 0x00, 0xFF],
        groups: &[
            (0x02, TIME, &["timestamp"]),
            (0x04, &[0x02], &["temperature_type"]),
        ],
    },
    Layout {
        uuid: 0x2A5E,
        reserved: 0xE0,
        fixed: &[0x62, 0x00, 0x48, 0x00],
        groups: &[
            (0x01, TIME, &["timestamp"]),
            (0x02, &[0x80, 0x00], &["measurement_status"]),
            (0x04, &[0x00, 0x00, 0x00], &["device_and_sensor_status"]),
            (0x08, &[0x19, 0xF0], &["pulse_amplitude_index_percent"]),
        ],
    },
    Layout {
        uuid: 0x2A5F,
        reserved: 0xE0,
        fixed: &[0x62, 0x00, 0x48, 0x00],
        groups: &[
            (
                0x01,
                &[0x61, 0x00, 0x49, 0x00],
                &["spo2_fast_percent", "pulse_rate_fast_bpm"],
            ),
            (
                0x02,
                &[0x60, 0x00, 0x47, 0x00],
                &["spo2_slow_percent", "pulse_rate_slow_bpm"],
            ),
            (0x04, &[0x80, 0x00], &["measurement_status"]),
            (0x08, &[0x00, 0x00, 0x00], &["device_and_sensor_status"]),
            (0x10, &[0x19, 0xF0], &["pulse_amplitude_index_percent"]),
        ],
    },
    Layout {
        uuid: 0x2A9D,
        reserved: 0xF0,
        fixed: &[0x14, 0x37],
        groups: &[
            (0x02, TIME, &["timestamp"]),
            (0x04, &[0x02], &["user_id"]),
            (0x08, &[0xE1, 0x00, 0xEA, 0x06], &["bmi", "height"]),
        ],
    },
    Layout {
        uuid: 0x2A18,
        reserved: 0xE0,
        fixed: &[0x01, 0x00, 0xE8, 0x07, 0x0B, 0x17, 0x0D, 0x1E, 0x00],
        groups: &[
            (0x01, &[0xFB, 0xFF], &["time_offset_minutes"]),
            (
                0x02,
                &[0x1E, 0xB0, 0x11],
                &["glucose_concentration", "unit", "type", "sample_location"],
            ),
            (0x08, &[0x01, 0x00], &["sensor_status"]),
        ],
    },
    Layout {
        uuid: 0x2A37,
        reserved: 0xE0,
        fixed: &[],
        groups: &[
            // bit 0 (uint16 value) is handled below; RR intervals are the last group
            (0x08, &[0x10, 0x00], &["energy_expended_kj"]),
            (0x10, &[0x00, 0x04, 0x00, 0x02], &["rr_intervals_s"]),
        ],
    },
];

fn payload(l: &Layout, flags: u8) -> Vec<u8> {
    let mut out = vec![flags];
    out.extend_from_slice(l.fixed);
    if l.uuid == 0x2A37 {
        if flags & 0x01 != 0 {
            out.extend_from_slice(&[0x2C, 0x01]);
        } else {
            out.push(72);
        }
    }
    for (bit, bytes, _) in l.groups {
        if flags & bit != 0 {
            out.extend_from_slice(bytes);
        }
    }
    out
}

#[test]
fn every_flag_combination_decodes_exactly_the_announced_fields() {
    for l in LAYOUTS {
        for flags in 0..=u8::MAX {
            let bytes = payload(l, flags);
            let result = decode(l.uuid, &bytes);
            if flags & l.reserved != 0 {
                assert_eq!(
                    result.unwrap_err(),
                    DecodeError::ReservedFlags {
                        what: reserved_what(l.uuid),
                        flags,
                        reserved: flags & l.reserved
                    },
                    "uuid {:04x} flags {flags:02x}",
                    l.uuid
                );
                continue;
            }
            let v = serde_json::to_value(
                result.unwrap_or_else(|e| panic!("uuid {:04x} flags {flags:02x}: {e}", l.uuid)),
            )
            .unwrap();
            for (bit, _, fields) in l.groups {
                for f in *fields {
                    let present = !matches!(v.get(*f), None | Some(Value::Null));
                    assert_eq!(
                        present,
                        flags & bit != 0,
                        "uuid {:04x} flags {flags:02x} field {f}: {v}",
                        l.uuid
                    );
                }
            }
        }
    }
}

fn reserved_what(uuid: u16) -> &'static str {
    match uuid {
        0x2A35 => "blood pressure measurement",
        0x2A36 => "intermediate cuff pressure",
        0x2A1C => "temperature measurement",
        0x2A5E => "plx spot-check measurement",
        0x2A5F => "plx continuous measurement",
        0x2A9D => "weight measurement",
        0x2A18 => "glucose measurement",
        _ => "heart rate measurement",
    }
}

#[test]
fn every_truncation_of_every_valid_layout_is_an_error() {
    for l in LAYOUTS {
        for flags in (0..=u8::MAX).filter(|f| f & l.reserved == 0) {
            let bytes = payload(l, flags);
            // RR intervals may stop after any whole interval, so only cut inside the fixed part
            // for heart rate.
            let min_ok = if l.uuid == 0x2A37 && flags & 0x10 != 0 {
                bytes.len() - 2
            } else {
                bytes.len()
            };
            for cut in 0..min_ok {
                let r = decode(l.uuid, &bytes[..cut]);
                assert!(
                    matches!(
                        r,
                        Err(DecodeError::Truncated { .. } | DecodeError::TrailingBytes { .. })
                    ),
                    "uuid {:04x} flags {flags:02x} cut {cut}: {r:?}",
                    l.uuid
                );
            }
            let mut long = bytes.clone();
            long.push(0);
            assert!(
                decode(l.uuid, &long).is_err(),
                "uuid {:04x} flags {flags:02x}: extra byte accepted",
                l.uuid
            );
        }
    }
}

#[test]
fn heart_rate_contact_bits_follow_the_spec() {
    // bits 1–2: 0b00 and 0b01 not supported, 0b10 supported but no contact, 0b11 contact
    for (flags, expected) in [
        (0x00, Value::Null),
        (0x02, Value::Null),
        (0x04, Value::Bool(false)),
        (0x06, Value::Bool(true)),
    ] {
        let v = serde_json::to_value(decode(0x2A37, &[flags, 60]).unwrap()).unwrap();
        assert_eq!(v["sensor_contact"], expected, "flags {flags:02x}");
    }
}
