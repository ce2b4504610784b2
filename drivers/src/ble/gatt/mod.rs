//! Pure decoders for the Bluetooth SIG health characteristics: bytes in, a typed value or a
//! [`DecodeError`] out. Each characteristic has its own module and struct; the structs serialize
//! to the JSON `pingan decode gatt` prints (field names are a contract, see `docs/BLE.md`).

pub mod battery;
pub mod blood_pressure;
pub mod glucose;
pub mod heart_rate;
pub mod pulse_oximeter;
pub mod thermometer;
pub mod weight;

use serde::Serialize;

use super::error::DecodeError;
use super::wearable;

/// Heart Rate Measurement.
pub const HEART_RATE_MEASUREMENT: u16 = 0x2A37;
/// Blood Pressure Measurement.
pub const BLOOD_PRESSURE_MEASUREMENT: u16 = 0x2A35;
/// Intermediate Cuff Pressure.
pub const INTERMEDIATE_CUFF_PRESSURE: u16 = 0x2A36;
/// Temperature Measurement.
pub const TEMPERATURE_MEASUREMENT: u16 = 0x2A1C;
/// PLX Spot-check Measurement.
pub const PLX_SPOT_CHECK: u16 = 0x2A5E;
/// PLX Continuous Measurement.
pub const PLX_CONTINUOUS: u16 = 0x2A5F;
/// Weight Measurement.
pub const WEIGHT_MEASUREMENT: u16 = 0x2A9D;
/// Glucose Measurement.
pub const GLUCOSE_MEASUREMENT: u16 = 0x2A18;
/// Battery Level.
pub const BATTERY_LEVEL: u16 = 0x2A19;

/// Every 16-bit characteristic [`decode`] understands.
pub const SUPPORTED: [u16; 9] = [
    HEART_RATE_MEASUREMENT,
    BLOOD_PRESSURE_MEASUREMENT,
    INTERMEDIATE_CUFF_PRESSURE,
    TEMPERATURE_MEASUREMENT,
    PLX_SPOT_CHECK,
    PLX_CONTINUOUS,
    WEIGHT_MEASUREMENT,
    GLUCOSE_MEASUREMENT,
    BATTERY_LEVEL,
];

/// The Bluetooth Base UUID; a 16-bit UUID `xxxx` is `0000xxxx-0000-1000-8000-00805f9b34fb`.
pub const BASE_UUID: u128 = 0x0000_0000_0000_1000_8000_0080_5f9b_34fb;

/// The 128-bit form of a 16-bit SIG UUID.
pub const fn uuid16(short: u16) -> u128 {
    BASE_UUID | ((short as u128) << 96)
}

/// The 16-bit form of a SIG UUID, if it is one.
pub fn short_uuid(uuid: u128) -> Option<u16> {
    const MASK: u128 = 0xFFFF_0000_FFFF_FFFF_FFFF_FFFF_FFFF_FFFF;
    if uuid & MASK == BASE_UUID {
        u16::try_from(uuid >> 96).ok()
    } else {
        None
    }
}

/// A decoded characteristic value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Decoded {
    /// 0x2A37.
    HeartRate(heart_rate::HeartRateMeasurement),
    /// 0x2A35.
    BloodPressure(blood_pressure::BloodPressureMeasurement),
    /// 0x2A36.
    IntermediateCuffPressure(blood_pressure::IntermediateCuffPressure),
    /// 0x2A1C.
    Temperature(thermometer::TemperatureMeasurement),
    /// 0x2A5E.
    PlxSpotCheck(pulse_oximeter::PlxSpotCheck),
    /// 0x2A5F.
    PlxContinuous(pulse_oximeter::PlxContinuous),
    /// 0x2A9D.
    Weight(weight::WeightMeasurement),
    /// 0x2A18.
    Glucose(glucose::GlucoseMeasurement),
    /// 0x2A19.
    Battery(battery::BatteryLevel),
    /// Pingan wearable accelerometer batch.
    Accelerometer(wearable::AccelBatch),
    /// Pingan wearable button event.
    Button(wearable::ButtonEvent),
}

/// Decodes a SIG characteristic given its 16-bit UUID.
pub fn decode(uuid: u16, bytes: &[u8]) -> Result<Decoded, DecodeError> {
    Ok(match uuid {
        HEART_RATE_MEASUREMENT => Decoded::HeartRate(heart_rate::decode(bytes)?),
        BLOOD_PRESSURE_MEASUREMENT => {
            Decoded::BloodPressure(blood_pressure::decode_measurement(bytes)?)
        }
        INTERMEDIATE_CUFF_PRESSURE => {
            Decoded::IntermediateCuffPressure(blood_pressure::decode_intermediate(bytes)?)
        }
        TEMPERATURE_MEASUREMENT => Decoded::Temperature(thermometer::decode(bytes)?),
        PLX_SPOT_CHECK => Decoded::PlxSpotCheck(pulse_oximeter::decode_spot_check(bytes)?),
        PLX_CONTINUOUS => Decoded::PlxContinuous(pulse_oximeter::decode_continuous(bytes)?),
        WEIGHT_MEASUREMENT => Decoded::Weight(weight::decode(bytes)?),
        GLUCOSE_MEASUREMENT => Decoded::Glucose(glucose::decode(bytes)?),
        BATTERY_LEVEL => Decoded::Battery(battery::decode(bytes)?),
        other => return Err(DecodeError::UnknownCharacteristic(format!("0x{other:04x}"))),
    })
}

/// Decodes any characteristic the gateway knows, SIG or Pingan wearable, by its 128-bit UUID.
pub fn decode_characteristic(uuid: u128, bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if let Some(short) = short_uuid(uuid) {
        return decode(short, bytes);
    }
    match uuid {
        wearable::ACCELEROMETER_UUID => Ok(Decoded::Accelerometer(wearable::decode_accel(bytes)?)),
        wearable::BUTTON_UUID => Ok(Decoded::Button(wearable::decode_button(bytes)?)),
        other => Err(DecodeError::UnknownCharacteristic(format_uuid(other))),
    }
}

/// Whether the gateway subscribes to this characteristic on a connected device.
pub fn is_known(uuid: u128) -> bool {
    short_uuid(uuid).is_some_and(|s| SUPPORTED.contains(&s))
        || uuid == wearable::ACCELEROMETER_UUID
        || uuid == wearable::BUTTON_UUID
}

/// Parses a UUID as users type it: `2a37`, `0x2A37`, `00002a37` or the full 128-bit form with or
/// without dashes.
pub fn parse_uuid(text: &str) -> Result<u128, String> {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let hex: String = t.chars().filter(|c| *c != '-').collect();
    if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("invalid UUID {text:?}: expected hex such as 2a37"));
    }
    let v = u128::from_str_radix(&hex, 16).map_err(|e| format!("invalid UUID {text:?}: {e}"))?;
    match hex.len() {
        1..=4 => Ok(uuid16(u16::try_from(v).unwrap_or(0))),
        5..=8 => Ok(BASE_UUID | (v << 96)),
        32 => Ok(v),
        n => Err(format!(
            "invalid UUID {text:?}: {n} hex digits, expected 4, 8 or 32"
        )),
    }
}

/// The canonical text of a UUID: 16-bit SIG UUIDs as `0x2a37`, others in the dashed form.
pub fn format_uuid(uuid: u128) -> String {
    match short_uuid(uuid) {
        Some(s) => format!("0x{s:04x}"),
        None => dashed_uuid(uuid),
    }
}

/// The dashed lower-case 128-bit form, `8-4-4-4-12`.
pub fn dashed_uuid(uuid: u128) -> String {
    let b = uuid.to_be_bytes();
    let hex = |r: std::ops::Range<usize>| super::adv::to_hex(b.get(r).unwrap_or(&[]));
    format!(
        "{}-{}-{}-{}-{}",
        hex(0..4),
        hex(4..6),
        hex(6..8),
        hex(8..10),
        hex(10..16)
    )
}
