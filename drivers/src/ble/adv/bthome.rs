//! BTHome v2 (bthome.io/format): service data of 0xFCD2 — a device-information byte, then objects
//! `id, value` whose size and scale follow from the id.
//!
//! ```text
//! device info u8: bit0 encrypted · bit2 trigger-based · bits 5–7 version (2) · bits 1, 3, 4 reserved
//! objects: id u8 · value (little-endian, size by id; text/raw: length u8 + bytes)
//! ```
//! Encrypted frames need the device's bind key, which the gateway does not hold: they are
//! reported as unsupported. An unknown object id stops decoding (its size is unknown).

use serde::Serialize;

use super::to_hex;
use crate::ble::error::DecodeError;
use crate::ble::reader::Reader;

/// The BTHome service UUID (16-bit).
pub const SERVICE: u16 = 0xFCD2;
const WHAT: &str = "bthome";

/// How an object's value is encoded.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Unsigned little-endian integer of n bytes, divided by 10^decimals.
    U(usize, i32),
    /// Signed little-endian integer of n bytes, divided by 10^decimals.
    S(usize, i32),
    /// uint8 0/1.
    Binary,
    /// Button event code.
    Button,
    /// Dimmer event code and steps.
    Dimmer,
    /// Length-prefixed UTF-8.
    Text,
    /// Length-prefixed bytes.
    Raw,
}

/// (id, name, encoding, unit).
const OBJECTS: &[(u8, &str, Kind, &str)] = &[
    (0x00, "packet_id", Kind::U(1, 0), ""),
    (0x01, "battery", Kind::U(1, 0), "%"),
    (0x02, "temperature", Kind::S(2, 2), "°C"),
    (0x03, "humidity", Kind::U(2, 2), "%"),
    (0x04, "pressure", Kind::U(3, 2), "hPa"),
    (0x05, "illuminance", Kind::U(3, 2), "lx"),
    (0x06, "mass", Kind::U(2, 2), "kg"),
    (0x07, "mass", Kind::U(2, 2), "lb"),
    (0x08, "dewpoint", Kind::S(2, 2), "°C"),
    (0x09, "count", Kind::U(1, 0), ""),
    (0x0A, "energy", Kind::U(3, 3), "kWh"),
    (0x0B, "power", Kind::U(3, 2), "W"),
    (0x0C, "voltage", Kind::U(2, 3), "V"),
    (0x0D, "pm2_5", Kind::U(2, 0), "µg/m³"),
    (0x0E, "pm10", Kind::U(2, 0), "µg/m³"),
    (0x0F, "generic_boolean", Kind::Binary, ""),
    (0x10, "power_on", Kind::Binary, ""),
    (0x11, "opening", Kind::Binary, ""),
    (0x12, "co2", Kind::U(2, 0), "ppm"),
    (0x13, "tvoc", Kind::U(2, 0), "µg/m³"),
    (0x14, "moisture", Kind::U(2, 2), "%"),
    (0x15, "battery_low", Kind::Binary, ""),
    (0x16, "battery_charging", Kind::Binary, ""),
    (0x17, "carbon_monoxide", Kind::Binary, ""),
    (0x18, "cold", Kind::Binary, ""),
    (0x19, "connectivity", Kind::Binary, ""),
    (0x1A, "door", Kind::Binary, ""),
    (0x1B, "garage_door", Kind::Binary, ""),
    (0x1C, "gas", Kind::Binary, ""),
    (0x1D, "heat", Kind::Binary, ""),
    (0x1E, "light", Kind::Binary, ""),
    (0x1F, "lock", Kind::Binary, ""),
    (0x20, "moisture_detected", Kind::Binary, ""),
    (0x21, "motion", Kind::Binary, ""),
    (0x22, "moving", Kind::Binary, ""),
    (0x23, "occupancy", Kind::Binary, ""),
    (0x24, "plug", Kind::Binary, ""),
    (0x25, "presence", Kind::Binary, ""),
    (0x26, "problem", Kind::Binary, ""),
    (0x27, "running", Kind::Binary, ""),
    (0x28, "safety", Kind::Binary, ""),
    (0x29, "smoke", Kind::Binary, ""),
    (0x2A, "sound", Kind::Binary, ""),
    (0x2B, "tamper", Kind::Binary, ""),
    (0x2C, "vibration", Kind::Binary, ""),
    (0x2D, "window", Kind::Binary, ""),
    (0x2E, "humidity", Kind::U(1, 0), "%"),
    (0x2F, "moisture", Kind::U(1, 0), "%"),
    (0x3A, "button", Kind::Button, ""),
    (0x3C, "dimmer", Kind::Dimmer, ""),
    (0x3D, "count", Kind::U(2, 0), ""),
    (0x3E, "count", Kind::U(4, 0), ""),
    (0x3F, "rotation", Kind::S(2, 1), "°"),
    (0x40, "distance", Kind::U(2, 0), "mm"),
    (0x41, "distance", Kind::U(2, 1), "m"),
    (0x42, "duration", Kind::U(3, 3), "s"),
    (0x43, "current", Kind::U(2, 3), "A"),
    (0x44, "speed", Kind::U(2, 2), "m/s"),
    (0x45, "temperature", Kind::S(2, 1), "°C"),
    (0x46, "uv_index", Kind::U(1, 1), ""),
    (0x47, "volume", Kind::U(2, 1), "L"),
    (0x48, "volume", Kind::U(2, 0), "mL"),
    (0x49, "volume_flow_rate", Kind::U(2, 3), "m³/h"),
    (0x4A, "voltage", Kind::U(2, 1), "V"),
    (0x4B, "gas", Kind::U(3, 3), "m³"),
    (0x4C, "gas", Kind::U(4, 3), "m³"),
    (0x4D, "energy", Kind::U(4, 3), "kWh"),
    (0x4E, "volume", Kind::U(4, 3), "L"),
    (0x4F, "water", Kind::U(4, 3), "L"),
    (0x50, "timestamp", Kind::U(4, 0), "s"),
    (0x51, "acceleration", Kind::U(2, 3), "m/s²"),
    (0x52, "gyroscope", Kind::U(2, 3), "°/s"),
    (0x53, "text", Kind::Text, ""),
    (0x54, "raw", Kind::Raw, ""),
    (0xF0, "device_type_id", Kind::U(2, 0), ""),
    (0xF1, "firmware_version", Kind::U(4, 0), ""),
    (0xF2, "firmware_version", Kind::U(3, 0), ""),
];

/// A decoded object value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// A whole number (objects without decimals: counts, percentages, ids).
    Integer(i64),
    /// A scaled number.
    Number(f64),
    /// A binary sensor state.
    Bool(bool),
    /// An event name (button, dimmer) or text.
    Text(String),
}

/// One BTHome object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Object {
    /// The object id.
    pub id: u8,
    /// Its name (e.g. "temperature", "door", "button").
    pub name: &'static str,
    /// Its value.
    pub value: Value,
    /// Unit of a number ("" when none).
    #[serde(skip_serializing_if = "str::is_empty")]
    pub unit: &'static str,
}

/// A decoded BTHome v2 frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BtHome {
    /// Format version (2).
    pub version: u8,
    /// The device sends on events rather than at a fixed interval.
    pub trigger_based: bool,
    /// The packet id object, used to drop repeated advertisements.
    pub packet_id: Option<u8>,
    /// Objects in order of appearance (packet id included).
    pub objects: Vec<Object>,
}

impl BtHome {
    /// The first number of object `name`.
    pub fn number(&self, name: &str) -> Option<f64> {
        self.objects.iter().find_map(|o| match o.value {
            Value::Number(v) if o.name == name => Some(v),
            #[allow(clippy::cast_precision_loss)]
            Value::Integer(v) if o.name == name => Some(v as f64),
            _ => None,
        })
    }

    /// The first binary state of object `name`.
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.objects.iter().find_map(|o| match o.value {
            Value::Bool(v) if o.name == name => Some(v),
            _ => None,
        })
    }

    /// Button events in order (one per button of a multi-button device).
    pub fn buttons(&self) -> impl Iterator<Item = &str> {
        self.objects.iter().filter_map(|o| match &o.value {
            Value::Text(t) if o.id == 0x3A => Some(t.as_str()),
            _ => None,
        })
    }
}

/// Decodes BTHome service data.
pub fn decode(data: &[u8]) -> Result<BtHome, DecodeError> {
    let mut r = Reader::new(WHAT, data);
    let info = r.flags()?;
    let version = info >> 5;
    if version != 2 {
        return Err(DecodeError::Unsupported {
            what: WHAT,
            detail: format!("version {version} (only BTHome v2 is supported)"),
        });
    }
    if info & 0x1A != 0 {
        return Err(DecodeError::ReservedFlags {
            what: WHAT,
            flags: info,
            reserved: info & 0x1A,
        });
    }
    if info & 0x01 != 0 {
        return Err(DecodeError::Unsupported {
            what: WHAT,
            detail: "encrypted frame (the gateway holds no bind keys)".to_owned(),
        });
    }
    let mut objects = Vec::new();
    while r.remaining() > 0 {
        let id = r.u8()?;
        let &(_, name, kind, unit) =
            OBJECTS
                .iter()
                .find(|o| o.0 == id)
                .ok_or_else(|| DecodeError::Unsupported {
                    what: WHAT,
                    detail: format!("unknown object id 0x{id:02x}"),
                })?;
        let value = read_value(&mut r, kind)?;
        objects.push(Object {
            id,
            name,
            value,
            unit,
        });
    }
    let packet_id = objects.iter().find_map(|o| match o.value {
        Value::Integer(v) if o.id == 0x00 => u8::try_from(v).ok(),
        _ => None,
    });
    Ok(BtHome {
        version,
        trigger_based: info & 0x04 != 0,
        packet_id,
        objects,
    })
}

fn read_value(r: &mut Reader<'_>, kind: Kind) -> Result<Value, DecodeError> {
    Ok(match kind {
        Kind::U(n, dec) => {
            let b = r.take(n)?;
            let mut a = [0u8; 8];
            for (d, s) in a.iter_mut().zip(b) {
                *d = *s;
            }
            let v = u64::from_le_bytes(a);
            number(i64::try_from(v).unwrap_or(i64::MAX), dec)
        }
        Kind::S(n, dec) => {
            let b = r.take(n)?;
            let negative = b.last().is_some_and(|m| m & 0x80 != 0);
            let mut a = [if negative { 0xFF } else { 0 }; 8];
            for (d, s) in a.iter_mut().zip(b) {
                *d = *s;
            }
            number(i64::from_le_bytes(a), dec)
        }
        Kind::Binary => match r.u8()? {
            0 => Value::Bool(false),
            1 => Value::Bool(true),
            other => {
                return Err(DecodeError::InvalidValue {
                    what: WHAT,
                    field: "binary sensor",
                    value: other.into(),
                    expected: "0 or 1",
                });
            }
        },
        Kind::Button => {
            let code = r.u8()?;
            let name = match code {
                0x00 => "none",
                0x01 => "press",
                0x02 => "double_press",
                0x03 => "triple_press",
                0x04 => "long_press",
                0x05 => "long_double_press",
                0x06 => "long_triple_press",
                0x80 => "hold_press",
                _ => {
                    return Err(DecodeError::InvalidValue {
                        what: WHAT,
                        field: "button event",
                        value: code.into(),
                        expected: "0x00-0x06 or 0x80",
                    });
                }
            };
            Value::Text(name.to_owned())
        }
        Kind::Dimmer => {
            let code = r.u8()?;
            let steps = r.u8()?;
            Value::Text(match code {
                0 => "none".to_owned(),
                1 => format!("rotate_left_{steps}"),
                2 => format!("rotate_right_{steps}"),
                _ => {
                    return Err(DecodeError::InvalidValue {
                        what: WHAT,
                        field: "dimmer event",
                        value: code.into(),
                        expected: "0-2",
                    });
                }
            })
        }
        Kind::Text => {
            let n = usize::from(r.u8()?);
            Value::Text(String::from_utf8_lossy(r.take(n)?).into_owned())
        }
        Kind::Raw => {
            let n = usize::from(r.u8()?);
            Value::Text(to_hex(r.take(n)?))
        }
    })
}

/// A raw integer with `decimals` implied decimals: whole numbers stay integers; others are
/// divided by an exact power of ten so 2506 with 2 decimals prints as 25.06.
fn number(raw: i64, decimals: i32) -> Value {
    if decimals == 0 {
        Value::Integer(raw)
    } else {
        #[allow(clippy::cast_precision_loss)]
        Value::Number(raw as f64 / 10f64.powi(decimals))
    }
}
