//! Weight Measurement (0x2A9D), GATT Specification Supplement / Weight Scale Service 1.0.
//!
//! ```text
//! flags u8: bit0 units (0 = SI kg/m, 1 = imperial lb/in) · bit1 time stamp · bit2 user id ·
//!           bit3 BMI and height · bits 4–7 reserved
//! weight u16 (SI 0.005 kg, imperial 0.01 lb; 0xFFFF = measurement unsuccessful) ·
//! time stamp (7)? · user id u8? · BMI u16 (0.1 kg/m²)? · height u16 (SI 0.001 m, imperial 0.1 in)?
//! ```

use serde::Serialize;

use crate::ble::error::DecodeError;
use crate::ble::ieee11073::{DATE_TIME_LEN, DateTime};
use crate::ble::reader::Reader;

const WHAT: &str = "weight measurement";
const RESERVED: u8 = 0xF0;
const UNSUCCESSFUL: u16 = 0xFFFF;

/// Weight unit (the height unit follows it: metres or inches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum WeightUnit {
    /// Kilograms (height in metres).
    #[serde(rename = "kg")]
    Kg,
    /// Pounds (height in inches).
    #[serde(rename = "lb")]
    Lb,
}

/// A decoded Weight Measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightMeasurement {
    /// The weight in `unit`; `None` when the scale reports the measurement unsuccessful.
    pub weight: Option<f64>,
    /// kg or lb.
    pub unit: WeightUnit,
    /// The scale reported 0xFFFF: measurement unsuccessful.
    pub measurement_unsuccessful: bool,
    /// Body-mass index in kg/m².
    pub bmi: Option<f64>,
    /// Height in `height_unit`.
    pub height: Option<f64>,
    /// "m" or "in".
    pub height_unit: &'static str,
    /// The scale's user index (255 = unknown user).
    pub user_id: Option<u8>,
    /// The scale's time of measurement.
    pub timestamp: Option<DateTime>,
}

/// Decodes a Weight Measurement.
pub fn decode(bytes: &[u8]) -> Result<WeightMeasurement, DecodeError> {
    let mut r = Reader::new(WHAT, bytes);
    let flags = r.flags()?;
    if flags & RESERVED != 0 {
        return Err(DecodeError::ReservedFlags {
            what: WHAT,
            flags,
            reserved: flags & RESERVED,
        });
    }
    let imperial = flags & 0x01 != 0;
    let has_time = flags & 0x02 != 0;
    let has_user = flags & 0x04 != 0;
    let has_bmi = flags & 0x08 != 0;
    r.require(
        1 + 2
            + if has_time { DATE_TIME_LEN } else { 0 }
            + usize::from(has_user)
            + if has_bmi { 4 } else { 0 },
    )?;
    let raw = r.u16()?;
    // Divide by exact integers so 0.005-kg steps print as 70.005, not 70.00500000000001.
    let weight =
        (raw != UNSUCCESSFUL).then(|| f64::from(raw) / if imperial { 100.0 } else { 200.0 });
    let timestamp = if has_time {
        Some(DateTime::read(&mut r)?)
    } else {
        None
    };
    let user_id = if has_user { Some(r.u8()?) } else { None };
    let (bmi, height) = if has_bmi {
        let bmi = f64::from(r.u16()?) / 10.0;
        let h = f64::from(r.u16()?) / if imperial { 10.0 } else { 1000.0 };
        (Some(bmi), Some(h))
    } else {
        (None, None)
    };
    r.finish()?;
    Ok(WeightMeasurement {
        weight,
        unit: if imperial {
            WeightUnit::Lb
        } else {
            WeightUnit::Kg
        },
        measurement_unsuccessful: raw == UNSUCCESSFUL,
        bmi,
        height,
        height_unit: if imperial { "in" } else { "m" },
        user_id,
        timestamp,
    })
}
