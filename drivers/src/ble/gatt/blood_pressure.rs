//! Blood Pressure Measurement (0x2A35) and Intermediate Cuff Pressure (0x2A36), GATT Specification
//! Supplement / Blood Pressure Service 1.1. Both share one layout:
//!
//! ```text
//! flags u8: bit0 unit (0 = mmHg, 1 = kPa) · bit1 time stamp · bit2 pulse rate · bit3 user id ·
//!           bit4 measurement status · bits 5–7 reserved
//! systolic SFLOAT · diastolic SFLOAT · mean arterial pressure SFLOAT · time stamp (7)? ·
//! pulse rate SFLOAT? · user id u8? · measurement status u16?
//! ```
//! In Intermediate Cuff Pressure the systolic field carries the current cuff pressure and the
//! other two are unused (NaN).

use serde::Serialize;

use crate::ble::error::DecodeError;
use crate::ble::ieee11073::{DATE_TIME_LEN, DateTime, MedFloat, read_sfloat};
use crate::ble::reader::Reader;

const RESERVED: u8 = 0xE0;
const STATUS_RESERVED: u16 = 0xFFC0;

/// Pressure unit of the three pressure fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PressureUnit {
    /// Millimetres of mercury.
    #[serde(rename = "mmHg")]
    MmHg,
    /// Kilopascal.
    #[serde(rename = "kPa")]
    KPa,
}

/// Pulse rate relative to the device's limits (status bits 3–4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PulseRateRange {
    /// Within range.
    Within,
    /// Above the upper limit.
    ExceedsUpperLimit,
    /// Below the lower limit.
    BelowLowerLimit,
}

/// The Blood Pressure Measurement Status field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MeasurementStatus {
    /// Body movement during the measurement.
    pub body_movement_detected: bool,
    /// The cuff fits too loosely.
    pub cuff_too_loose: bool,
    /// Irregular pulse detected.
    pub irregular_pulse_detected: bool,
    /// Pulse rate against the device's limits.
    pub pulse_rate_range: PulseRateRange,
    /// The measurement position was improper.
    pub improper_measurement_position: bool,
}

/// A decoded Blood Pressure Measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BloodPressureMeasurement {
    /// Systolic pressure.
    pub systolic: MedFloat,
    /// Diastolic pressure.
    pub diastolic: MedFloat,
    /// Mean arterial pressure.
    pub mean_arterial_pressure: MedFloat,
    /// Unit of the three pressures.
    pub unit: PressureUnit,
    /// Pulse rate in beats per minute.
    pub pulse_rate_bpm: Option<MedFloat>,
    /// The device's user index (255 = unknown user).
    pub user_id: Option<u8>,
    /// The device's time of measurement (local time of the device, no zone).
    pub timestamp: Option<DateTime>,
    /// Quality flags of the measurement.
    pub measurement_status: Option<MeasurementStatus>,
}

/// A decoded Intermediate Cuff Pressure: the same fields plus `cuff_pressure`, the current
/// pressure (the systolic field of the layout).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntermediateCuffPressure {
    /// Current cuff pressure.
    pub cuff_pressure: MedFloat,
    /// The layout's fields as received (diastolic and mean arterial pressure are unused).
    #[serde(flatten)]
    pub fields: BloodPressureMeasurement,
}

/// Decodes a Blood Pressure Measurement.
pub fn decode_measurement(bytes: &[u8]) -> Result<BloodPressureMeasurement, DecodeError> {
    decode_layout("blood pressure measurement", bytes)
}

/// Decodes an Intermediate Cuff Pressure.
pub fn decode_intermediate(bytes: &[u8]) -> Result<IntermediateCuffPressure, DecodeError> {
    let fields = decode_layout("intermediate cuff pressure", bytes)?;
    Ok(IntermediateCuffPressure {
        cuff_pressure: fields.systolic,
        fields,
    })
}

fn decode_layout(
    what: &'static str,
    bytes: &[u8],
) -> Result<BloodPressureMeasurement, DecodeError> {
    let mut r = Reader::new(what, bytes);
    let flags = r.flags()?;
    if flags & RESERVED != 0 {
        return Err(DecodeError::ReservedFlags {
            what,
            flags,
            reserved: flags & RESERVED,
        });
    }
    let has_time = flags & 0x02 != 0;
    let has_pulse = flags & 0x04 != 0;
    let has_user = flags & 0x08 != 0;
    let has_status = flags & 0x10 != 0;
    let need = 1
        + 6
        + if has_time { DATE_TIME_LEN } else { 0 }
        + if has_pulse { 2 } else { 0 }
        + usize::from(has_user)
        + if has_status { 2 } else { 0 };
    r.require(need)?;
    let systolic = read_sfloat(&mut r, "systolic")?;
    let diastolic = read_sfloat(&mut r, "diastolic")?;
    let mean_arterial_pressure = read_sfloat(&mut r, "mean arterial pressure")?;
    let timestamp = if has_time {
        Some(DateTime::read(&mut r)?)
    } else {
        None
    };
    let pulse_rate_bpm = if has_pulse {
        Some(read_sfloat(&mut r, "pulse rate")?)
    } else {
        None
    };
    let user_id = if has_user { Some(r.u8()?) } else { None };
    let measurement_status = if has_status {
        Some(status(what, r.u16()?)?)
    } else {
        None
    };
    r.finish()?;
    Ok(BloodPressureMeasurement {
        systolic,
        diastolic,
        mean_arterial_pressure,
        unit: if flags & 0x01 != 0 {
            PressureUnit::KPa
        } else {
            PressureUnit::MmHg
        },
        pulse_rate_bpm,
        user_id,
        timestamp,
        measurement_status,
    })
}

fn status(what: &'static str, raw: u16) -> Result<MeasurementStatus, DecodeError> {
    if raw & STATUS_RESERVED != 0 {
        return Err(DecodeError::InvalidValue {
            what,
            field: "measurement status",
            value: raw.into(),
            expected: "bits 6-15 reserved (0)",
        });
    }
    let pulse_rate_range = match (raw >> 3) & 0x03 {
        0 => PulseRateRange::Within,
        1 => PulseRateRange::ExceedsUpperLimit,
        2 => PulseRateRange::BelowLowerLimit,
        _ => {
            return Err(DecodeError::InvalidValue {
                what,
                field: "pulse rate range detection",
                value: 3,
                expected: "0-2",
            });
        }
    };
    Ok(MeasurementStatus {
        body_movement_detected: raw & 0x01 != 0,
        cuff_too_loose: raw & 0x02 != 0,
        irregular_pulse_detected: raw & 0x04 != 0,
        pulse_rate_range,
        improper_measurement_position: raw & 0x20 != 0,
    })
}
