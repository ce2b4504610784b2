//! Heart Rate Measurement (0x2A37), GATT Specification Supplement §3.113 / Heart Rate Service 1.0.
//!
//! ```text
//! flags u8: bit0 value format (0 = uint8, 1 = uint16) · bit1 sensor contact detected ·
//!           bit2 sensor contact supported · bit3 energy expended present · bit4 RR present ·
//!           bits 5–7 reserved
//! heart rate u8|u16 bpm · energy expended u16 kJ? · RR-interval u16 (1/1024 s)*
//! ```

use serde::Serialize;

use crate::ble::error::DecodeError;
use crate::ble::reader::Reader;

const WHAT: &str = "heart rate measurement";
const RESERVED: u8 = 0xE0;

/// A decoded Heart Rate Measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeartRateMeasurement {
    /// Beats per minute.
    pub heart_rate_bpm: u16,
    /// Whether the sensor touches the skin; `None` when the sensor cannot tell.
    pub sensor_contact: Option<bool>,
    /// Energy expended since the last reset, in kilojoules.
    pub energy_expended_kj: Option<u16>,
    /// RR intervals in seconds, oldest first; `None` when the flag is clear.
    pub rr_intervals_s: Option<Vec<f64>>,
}

/// Decodes a Heart Rate Measurement.
pub fn decode(bytes: &[u8]) -> Result<HeartRateMeasurement, DecodeError> {
    let mut r = Reader::new(WHAT, bytes);
    let flags = r.flags()?;
    if flags & RESERVED != 0 {
        return Err(DecodeError::ReservedFlags {
            what: WHAT,
            flags,
            reserved: flags & RESERVED,
        });
    }
    let wide = flags & 0x01 != 0;
    let energy = flags & 0x08 != 0;
    let rr = flags & 0x10 != 0;
    let need = 1 + if wide { 2 } else { 1 } + if energy { 2 } else { 0 } + if rr { 2 } else { 0 };
    r.require(need)?;
    let heart_rate_bpm = if wide { r.u16()? } else { u16::from(r.u8()?) };
    let sensor_contact = (flags & 0x04 != 0).then_some(flags & 0x02 != 0);
    let energy_expended_kj = if energy { Some(r.u16()?) } else { None };
    let rr_intervals_s = if rr {
        if r.remaining() % 2 != 0 {
            return Err(DecodeError::TrailingBytes {
                what: WHAT,
                len: bytes.len(),
                flags: Some(flags),
                max: bytes.len() - 1,
            });
        }
        let mut v = Vec::with_capacity(r.remaining() / 2);
        while r.remaining() > 0 {
            v.push(f64::from(r.u16()?) / 1024.0);
        }
        Some(v)
    } else {
        None
    };
    r.finish()?;
    Ok(HeartRateMeasurement {
        heart_rate_bpm,
        sensor_contact,
        energy_expended_kj,
        rr_intervals_s,
    })
}

/// Encodes a measurement (RR intervals rounded to 1/1024 s); the inverse of [`decode`] for
/// round-trip tests and simulators.
pub fn encode(m: &HeartRateMeasurement, wide: bool) -> Vec<u8> {
    let mut flags = 0u8;
    let mut out = vec![0];
    if wide || m.heart_rate_bpm > 255 {
        flags |= 0x01;
        out.extend_from_slice(&m.heart_rate_bpm.to_le_bytes());
    } else {
        out.push(u8::try_from(m.heart_rate_bpm).unwrap_or(u8::MAX));
    }
    match m.sensor_contact {
        Some(true) => flags |= 0x06,
        Some(false) => flags |= 0x04,
        None => {}
    }
    if let Some(e) = m.energy_expended_kj {
        flags |= 0x08;
        out.extend_from_slice(&e.to_le_bytes());
    }
    if let Some(rr) = &m.rr_intervals_s {
        flags |= 0x10;
        for s in rr {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let raw = (s * 1024.0).round().clamp(0.0, 65535.0) as u16;
            out.extend_from_slice(&raw.to_le_bytes());
        }
    }
    if let Some(f) = out.first_mut() {
        *f = flags;
    }
    out
}
