//! Glucose Measurement (0x2A18), GATT Specification Supplement / Glucose Service 1.0.
//!
//! ```text
//! flags u8: bit0 time offset · bit1 concentration, type and sample location ·
//!           bit2 concentration unit (0 = kg/L, 1 = mol/L) · bit3 sensor status annunciation ·
//!           bit4 context information follows · bits 5–7 reserved
//! sequence number u16 · base time (7) · time offset s16 minutes? ·
//! concentration SFLOAT + type (low nibble) / sample location (high nibble) u8? · status u16?
//! ```

use serde::Serialize;

use crate::ble::error::DecodeError;
use crate::ble::ieee11073::{DATE_TIME_LEN, DateTime, MedFloat, read_sfloat};
use crate::ble::reader::Reader;

const WHAT: &str = "glucose measurement";
const RESERVED: u8 = 0xE0;

const TYPES: [&str; 10] = [
    "capillary_whole_blood",
    "capillary_plasma",
    "venous_whole_blood",
    "venous_plasma",
    "arterial_whole_blood",
    "arterial_plasma",
    "undetermined_whole_blood",
    "undetermined_plasma",
    "interstitial_fluid",
    "control_solution",
];

const STATUS: [&str; 12] = [
    "device_battery_low",
    "sensor_malfunction",
    "sample_size_insufficient",
    "strip_insertion_error",
    "strip_type_incorrect",
    "result_higher_than_device_can_process",
    "result_lower_than_device_can_process",
    "temperature_too_high",
    "temperature_too_low",
    "read_interrupted",
    "general_device_fault",
    "time_fault",
];

/// Concentration unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GlucoseUnit {
    /// Kilograms per litre (devices use exponent -5 for mg/dL).
    #[serde(rename = "kg/L")]
    KgPerL,
    /// Moles per litre (devices use exponent -3 for mmol/L).
    #[serde(rename = "mol/L")]
    MolPerL,
}

/// A decoded Glucose Measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GlucoseMeasurement {
    /// The meter's record sequence number.
    pub sequence_number: u16,
    /// Base time of the measurement (add `time_offset_minutes`).
    pub timestamp: DateTime,
    /// Minutes to add to the base time.
    pub time_offset_minutes: Option<i16>,
    /// Glucose concentration in `unit`.
    pub glucose_concentration: Option<MedFloat>,
    /// kg/L or mol/L; `None` when no concentration is present.
    pub unit: Option<GlucoseUnit>,
    /// Sample type (e.g. "capillary_whole_blood").
    #[serde(rename = "type")]
    pub sample_type: Option<&'static str>,
    /// Sample location ("finger", "alternate_site_test", "earlobe", "control_solution",
    /// "not_available").
    pub sample_location: Option<&'static str>,
    /// Names of the Sensor Status Annunciation bits that are set.
    pub sensor_status: Option<Vec<&'static str>>,
    /// A Glucose Measurement Context follows with the same sequence number.
    pub context_follows: bool,
}

/// Decodes a Glucose Measurement.
pub fn decode(bytes: &[u8]) -> Result<GlucoseMeasurement, DecodeError> {
    let mut r = Reader::new(WHAT, bytes);
    let flags = r.flags()?;
    if flags & RESERVED != 0 {
        return Err(DecodeError::ReservedFlags {
            what: WHAT,
            flags,
            reserved: flags & RESERVED,
        });
    }
    let has_offset = flags & 0x01 != 0;
    let has_conc = flags & 0x02 != 0;
    let has_status = flags & 0x08 != 0;
    r.require(
        1 + 2
            + DATE_TIME_LEN
            + if has_offset { 2 } else { 0 }
            + if has_conc { 3 } else { 0 }
            + if has_status { 2 } else { 0 },
    )?;
    let sequence_number = r.u16()?;
    let timestamp = DateTime::read(&mut r)?;
    let time_offset_minutes = if has_offset { Some(r.i16()?) } else { None };
    let (glucose_concentration, sample_type, sample_location) = if has_conc {
        let c = read_sfloat(&mut r, "glucose concentration")?;
        let ts = r.u8()?;
        (
            Some(c),
            Some(sample_type(ts & 0x0F)?),
            Some(location(ts >> 4)?),
        )
    } else {
        (None, None, None)
    };
    let sensor_status = if has_status {
        let raw = r.u16()?;
        if raw & 0xF000 != 0 {
            return Err(DecodeError::InvalidValue {
                what: WHAT,
                field: "sensor status annunciation",
                value: raw.into(),
                expected: "bits 12-15 reserved (0)",
            });
        }
        Some(
            STATUS
                .iter()
                .enumerate()
                .filter(|(i, _)| raw & (1 << i) != 0)
                .map(|(_, n)| *n)
                .collect(),
        )
    } else {
        None
    };
    r.finish()?;
    Ok(GlucoseMeasurement {
        sequence_number,
        timestamp,
        time_offset_minutes,
        glucose_concentration,
        unit: has_conc.then_some(if flags & 0x04 != 0 {
            GlucoseUnit::MolPerL
        } else {
            GlucoseUnit::KgPerL
        }),
        sample_type,
        sample_location,
        sensor_status,
        context_follows: flags & 0x10 != 0,
    })
}

fn sample_type(code: u8) -> Result<&'static str, DecodeError> {
    usize::from(code)
        .checked_sub(1)
        .and_then(|i| TYPES.get(i))
        .copied()
        .ok_or(DecodeError::InvalidValue {
            what: WHAT,
            field: "type",
            value: code.into(),
            expected: "1-10",
        })
}

fn location(code: u8) -> Result<&'static str, DecodeError> {
    Ok(match code {
        1 => "finger",
        2 => "alternate_site_test",
        3 => "earlobe",
        4 => "control_solution",
        15 => "not_available",
        _ => {
            return Err(DecodeError::InvalidValue {
                what: WHAT,
                field: "sample location",
                value: code.into(),
                expected: "1-4 or 15",
            });
        }
    })
}
