//! Temperature Measurement (0x2A1C), GATT Specification Supplement / Health Thermometer Service.
//!
//! ```text
//! flags u8: bit0 unit (0 = °C, 1 = °F) · bit1 time stamp · bit2 temperature type · bits 3–7 reserved
//! temperature FLOAT · time stamp (7)? · temperature type u8?
//! ```

use serde::Serialize;

use crate::ble::error::DecodeError;
use crate::ble::ieee11073::{DATE_TIME_LEN, DateTime, MedFloat, read_float};
use crate::ble::reader::Reader;

const WHAT: &str = "temperature measurement";
const RESERVED: u8 = 0xF8;

/// Temperature unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TemperatureUnit {
    /// Degrees Celsius.
    #[serde(rename = "C")]
    Celsius,
    /// Degrees Fahrenheit.
    #[serde(rename = "F")]
    Fahrenheit,
}

/// Where the temperature was taken (Temperature Type, 0x2A1D).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TemperatureType {
    /// 1: armpit.
    Armpit,
    /// 2: body (general).
    Body,
    /// 3: ear (usually earlobe).
    Ear,
    /// 4: finger.
    Finger,
    /// 5: gastrointestinal tract.
    GastrointestinalTract,
    /// 6: mouth.
    Mouth,
    /// 7: rectum.
    Rectum,
    /// 8: toe.
    Toe,
    /// 9: tympanum (ear drum).
    Tympanum,
}

impl TemperatureType {
    /// The type for its code; `None` for reserved codes (0, 10–255).
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => Self::Armpit,
            2 => Self::Body,
            3 => Self::Ear,
            4 => Self::Finger,
            5 => Self::GastrointestinalTract,
            6 => Self::Mouth,
            7 => Self::Rectum,
            8 => Self::Toe,
            9 => Self::Tympanum,
            _ => return None,
        })
    }
}

/// A decoded Temperature Measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TemperatureMeasurement {
    /// The temperature in `unit`.
    pub temperature: MedFloat,
    /// Celsius or Fahrenheit.
    pub unit: TemperatureUnit,
    /// The device's time of measurement.
    pub timestamp: Option<DateTime>,
    /// Where it was taken.
    pub temperature_type: Option<TemperatureType>,
}

impl TemperatureMeasurement {
    /// The temperature in °C; `None` for special values.
    pub fn celsius(&self) -> Option<f64> {
        let t = self.temperature.to_f64()?;
        Some(match self.unit {
            TemperatureUnit::Celsius => t,
            TemperatureUnit::Fahrenheit => (t - 32.0) * 5.0 / 9.0,
        })
    }
}

/// Decodes a Temperature Measurement.
pub fn decode(bytes: &[u8]) -> Result<TemperatureMeasurement, DecodeError> {
    let mut r = Reader::new(WHAT, bytes);
    let flags = r.flags()?;
    if flags & RESERVED != 0 {
        return Err(DecodeError::ReservedFlags {
            what: WHAT,
            flags,
            reserved: flags & RESERVED,
        });
    }
    let has_time = flags & 0x02 != 0;
    let has_type = flags & 0x04 != 0;
    r.require(1 + 4 + if has_time { DATE_TIME_LEN } else { 0 } + usize::from(has_type))?;
    let temperature = read_float(&mut r, "temperature")?;
    let timestamp = if has_time {
        Some(DateTime::read(&mut r)?)
    } else {
        None
    };
    let temperature_type = if has_type {
        let code = r.u8()?;
        Some(
            TemperatureType::from_code(code).ok_or(DecodeError::InvalidValue {
                what: WHAT,
                field: "temperature type",
                value: code.into(),
                expected: "1-9",
            })?,
        )
    } else {
        None
    };
    r.finish()?;
    Ok(TemperatureMeasurement {
        temperature,
        unit: if flags & 0x01 != 0 {
            TemperatureUnit::Fahrenheit
        } else {
            TemperatureUnit::Celsius
        },
        timestamp,
        temperature_type,
    })
}
