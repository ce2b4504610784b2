//! PLX Spot-check Measurement (0x2A5E) and PLX Continuous Measurement (0x2A5F), GATT Specification
//! Supplement / Pulse Oximeter Service 1.0.
//!
//! ```text
//! spot-check flags u8: bit0 time stamp · bit1 measurement status · bit2 device and sensor status ·
//!                      bit3 pulse amplitude index · bit4 device clock not set · bits 5–7 reserved
//! SpO2 SFLOAT · PR SFLOAT · time stamp (7)? · measurement status u16? · device and sensor status
//! u24? · pulse amplitude index SFLOAT?
//!
//! continuous flags u8: bit0 SpO2PR-Fast · bit1 SpO2PR-Slow · bit2 measurement status ·
//!                      bit3 device and sensor status · bit4 pulse amplitude index · bits 5–7 reserved
//! SpO2 SFLOAT · PR SFLOAT · fast SpO2, PR? · slow SpO2, PR? · measurement status u16? ·
//! device and sensor status u24? · pulse amplitude index SFLOAT?
//! ```

use serde::Serialize;

use crate::ble::error::DecodeError;
use crate::ble::ieee11073::{DATE_TIME_LEN, DateTime, MedFloat, read_sfloat};
use crate::ble::reader::Reader;

const RESERVED: u8 = 0xE0;

/// Measurement Status bit names (bits 0–4 are reserved).
const MEASUREMENT_STATUS: [(u16, &str); 11] = [
    (1 << 5, "measurement_ongoing"),
    (1 << 6, "early_estimated_data"),
    (1 << 7, "validated_data"),
    (1 << 8, "fully_qualified_data"),
    (1 << 9, "data_from_measurement_storage"),
    (1 << 10, "data_for_demonstration"),
    (1 << 11, "data_for_testing"),
    (1 << 12, "calibration_ongoing"),
    (1 << 13, "measurement_unavailable"),
    (1 << 14, "questionable_measurement_detected"),
    (1 << 15, "invalid_measurement_detected"),
];

/// Device and Sensor Status bit names (bits 16–23 are reserved).
const DEVICE_STATUS: [(u32, &str); 16] = [
    (1 << 0, "extended_display_update_ongoing"),
    (1 << 1, "equipment_malfunction_detected"),
    (1 << 2, "signal_processing_irregularity_detected"),
    (1 << 3, "inadequate_signal_detected"),
    (1 << 4, "poor_signal_detected"),
    (1 << 5, "low_perfusion_detected"),
    (1 << 6, "erratic_signal_detected"),
    (1 << 7, "nonpulsatile_signal_detected"),
    (1 << 8, "questionable_pulse_detected"),
    (1 << 9, "signal_analysis_ongoing"),
    (1 << 10, "sensor_interference_detected"),
    (1 << 11, "sensor_unconnected_to_user"),
    (1 << 12, "unknown_sensor_connected"),
    (1 << 13, "sensor_displaced"),
    (1 << 14, "sensor_malfunctioning"),
    (1 << 15, "sensor_disconnected"),
];

/// Measurement-status flags that make a value unfit for clinical rules.
const UNFIT: [&str; 6] = [
    "data_for_demonstration",
    "data_for_testing",
    "calibration_ongoing",
    "measurement_unavailable",
    "questionable_measurement_detected",
    "invalid_measurement_detected",
];

/// A decoded PLX Spot-check Measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlxSpotCheck {
    /// Oxygen saturation in percent.
    pub spo2_percent: MedFloat,
    /// Pulse rate in beats per minute.
    pub pulse_rate_bpm: MedFloat,
    /// Pulse amplitude index in percent.
    pub pulse_amplitude_index_percent: Option<MedFloat>,
    /// The device's time of measurement.
    pub timestamp: Option<DateTime>,
    /// The device's clock was not set (its timestamp is meaningless).
    pub device_clock_not_set: bool,
    /// Names of the Measurement Status bits that are set.
    pub measurement_status: Option<Vec<&'static str>>,
    /// Names of the Device and Sensor Status bits that are set.
    pub device_and_sensor_status: Option<Vec<&'static str>>,
}

/// A decoded PLX Continuous Measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlxContinuous {
    /// Oxygen saturation in percent (normal averaging).
    pub spo2_percent: MedFloat,
    /// Pulse rate in beats per minute (normal averaging).
    pub pulse_rate_bpm: MedFloat,
    /// SpO2 with fast averaging.
    pub spo2_fast_percent: Option<MedFloat>,
    /// Pulse rate with fast averaging.
    pub pulse_rate_fast_bpm: Option<MedFloat>,
    /// SpO2 with slow averaging.
    pub spo2_slow_percent: Option<MedFloat>,
    /// Pulse rate with slow averaging.
    pub pulse_rate_slow_bpm: Option<MedFloat>,
    /// Pulse amplitude index in percent.
    pub pulse_amplitude_index_percent: Option<MedFloat>,
    /// Names of the Measurement Status bits that are set.
    pub measurement_status: Option<Vec<&'static str>>,
    /// Names of the Device and Sensor Status bits that are set.
    pub device_and_sensor_status: Option<Vec<&'static str>>,
}

/// Whether status flags say the value must not drive clinical rules (demo, test, invalid,
/// questionable, unavailable, calibrating, or a disconnected/displaced sensor).
pub(crate) fn unfit(measurement: Option<&[&str]>, device: Option<&[&str]>) -> bool {
    measurement.is_some_and(|m| m.iter().any(|f| UNFIT.contains(f)))
        || device.is_some_and(|d| {
            d.iter().any(|f| {
                matches!(
                    *f,
                    "equipment_malfunction_detected"
                        | "sensor_unconnected_to_user"
                        | "sensor_displaced"
                        | "sensor_malfunctioning"
                        | "sensor_disconnected"
                )
            })
        })
}

/// Decodes a PLX Spot-check Measurement.
pub fn decode_spot_check(bytes: &[u8]) -> Result<PlxSpotCheck, DecodeError> {
    const WHAT: &str = "plx spot-check measurement";
    let mut r = Reader::new(WHAT, bytes);
    let flags = r.flags()?;
    check_reserved(WHAT, flags)?;
    let has_time = flags & 0x01 != 0;
    let has_ms = flags & 0x02 != 0;
    let has_ds = flags & 0x04 != 0;
    let has_pai = flags & 0x08 != 0;
    r.require(
        1 + 4
            + if has_time { DATE_TIME_LEN } else { 0 }
            + if has_ms { 2 } else { 0 }
            + if has_ds { 3 } else { 0 }
            + if has_pai { 2 } else { 0 },
    )?;
    let spo2_percent = read_sfloat(&mut r, "SpO2")?;
    let pulse_rate_bpm = read_sfloat(&mut r, "pulse rate")?;
    let timestamp = if has_time {
        Some(DateTime::read(&mut r)?)
    } else {
        None
    };
    let (measurement_status, device_and_sensor_status, pulse_amplitude_index_percent) =
        read_status_tail(&mut r, WHAT, has_ms, has_ds, has_pai)?;
    r.finish()?;
    Ok(PlxSpotCheck {
        spo2_percent,
        pulse_rate_bpm,
        pulse_amplitude_index_percent,
        timestamp,
        device_clock_not_set: flags & 0x10 != 0,
        measurement_status,
        device_and_sensor_status,
    })
}

/// Decodes a PLX Continuous Measurement.
pub fn decode_continuous(bytes: &[u8]) -> Result<PlxContinuous, DecodeError> {
    const WHAT: &str = "plx continuous measurement";
    let mut r = Reader::new(WHAT, bytes);
    let flags = r.flags()?;
    check_reserved(WHAT, flags)?;
    let has_fast = flags & 0x01 != 0;
    let has_slow = flags & 0x02 != 0;
    let has_ms = flags & 0x04 != 0;
    let has_ds = flags & 0x08 != 0;
    let has_pai = flags & 0x10 != 0;
    r.require(
        1 + 4
            + if has_fast { 4 } else { 0 }
            + if has_slow { 4 } else { 0 }
            + if has_ms { 2 } else { 0 }
            + if has_ds { 3 } else { 0 }
            + if has_pai { 2 } else { 0 },
    )?;
    let spo2_percent = read_sfloat(&mut r, "SpO2")?;
    let pulse_rate_bpm = read_sfloat(&mut r, "pulse rate")?;
    let (spo2_fast_percent, pulse_rate_fast_bpm) = if has_fast {
        (
            Some(read_sfloat(&mut r, "SpO2 fast")?),
            Some(read_sfloat(&mut r, "pulse rate fast")?),
        )
    } else {
        (None, None)
    };
    let (spo2_slow_percent, pulse_rate_slow_bpm) = if has_slow {
        (
            Some(read_sfloat(&mut r, "SpO2 slow")?),
            Some(read_sfloat(&mut r, "pulse rate slow")?),
        )
    } else {
        (None, None)
    };
    let (measurement_status, device_and_sensor_status, pulse_amplitude_index_percent) =
        read_status_tail(&mut r, WHAT, has_ms, has_ds, has_pai)?;
    r.finish()?;
    Ok(PlxContinuous {
        spo2_percent,
        pulse_rate_bpm,
        spo2_fast_percent,
        pulse_rate_fast_bpm,
        spo2_slow_percent,
        pulse_rate_slow_bpm,
        pulse_amplitude_index_percent,
        measurement_status,
        device_and_sensor_status,
    })
}

fn check_reserved(what: &'static str, flags: u8) -> Result<(), DecodeError> {
    if flags & RESERVED != 0 {
        return Err(DecodeError::ReservedFlags {
            what,
            flags,
            reserved: flags & RESERVED,
        });
    }
    Ok(())
}

/// The optional fields both PLX measurements end with, in flag order: measurement status,
/// device and sensor status, pulse amplitude index.
type StatusTail = (
    Option<Vec<&'static str>>,
    Option<Vec<&'static str>>,
    Option<MedFloat>,
);

fn read_status_tail(
    r: &mut Reader<'_>,
    what: &'static str,
    has_ms: bool,
    has_ds: bool,
    has_pai: bool,
) -> Result<StatusTail, DecodeError> {
    let ms = if has_ms {
        Some(measurement_status(what, r.u16()?)?)
    } else {
        None
    };
    let ds = if has_ds {
        Some(device_status(what, r.u24()?)?)
    } else {
        None
    };
    let pai = if has_pai {
        Some(read_sfloat(r, "pulse amplitude index")?)
    } else {
        None
    };
    Ok((ms, ds, pai))
}

fn measurement_status(what: &'static str, raw: u16) -> Result<Vec<&'static str>, DecodeError> {
    if raw & 0x001F != 0 {
        return Err(DecodeError::InvalidValue {
            what,
            field: "measurement status",
            value: raw.into(),
            expected: "bits 0-4 reserved (0)",
        });
    }
    Ok(MEASUREMENT_STATUS
        .iter()
        .filter(|(bit, _)| raw & bit != 0)
        .map(|(_, name)| *name)
        .collect())
}

fn device_status(what: &'static str, raw: u32) -> Result<Vec<&'static str>, DecodeError> {
    if raw & 0x00FF_0000 != 0 {
        return Err(DecodeError::InvalidValue {
            what,
            field: "device and sensor status",
            value: raw.into(),
            expected: "bits 16-23 reserved (0)",
        });
    }
    Ok(DEVICE_STATUS
        .iter()
        .filter(|(bit, _)| raw & bit != 0)
        .map(|(_, name)| *name)
        .collect())
}
