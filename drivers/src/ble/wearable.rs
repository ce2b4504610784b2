//! The open "Pingan wearable" GATT profile (specified in `docs/BLE.md`): an accelerometer stream
//! batched per notification with a sequence number, and SOS/cancel button events with a counter.
//! Battery uses the standard Battery Service (0x180F / 0x2A19).
//!
//! ```text
//! accelerometer notification (little-endian):
//!   0  u8   format version = 1
//!   1  u8   full-scale range in g: 2, 4, 8 or 16
//!   2  u16  sample rate in Hz, 1–1600
//!   4  u16  sequence number, +1 per notification, wraps
//!   6  1–40 samples of x, y, z as i16 (g = raw × range / 32768)
//! button notification:
//!   0  u8   event: 1 = SOS pressed, 2 = cancel pressed
//!   1  u16  event counter, +1 per press, wraps (repeats after a reconnect are duplicates)
//! ```

use serde::Serialize;

use super::error::DecodeError;
use super::reader::Reader;
use crate::reading::ButtonKind;

/// The Pingan wearable service.
pub const SERVICE_UUID: u128 = 0x50a6_0001_9c6b_4d2e_8b3f_7069_6e67_616e;
/// The accelerometer characteristic (notify).
pub const ACCELEROMETER_UUID: u128 = 0x50a6_0002_9c6b_4d2e_8b3f_7069_6e67_616e;
/// The button characteristic (indicate or notify).
pub const BUTTON_UUID: u128 = 0x50a6_0003_9c6b_4d2e_8b3f_7069_6e67_616e;

/// Most samples one notification may carry (fits a 247-byte ATT MTU).
pub const MAX_SAMPLES: usize = 40;
const HEADER: usize = 6;
const SAMPLE: usize = 6;

/// One accelerometer notification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccelBatch {
    /// Notification sequence number.
    pub sequence: u16,
    /// Samples per second.
    pub sample_rate_hz: u16,
    /// Full-scale range in g.
    pub range_g: u8,
    /// Samples in g, oldest first.
    pub samples_g: Vec<[f32; 3]>,
}

/// One button notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ButtonEvent {
    /// Which button.
    pub button: ButtonKind,
    /// The wearable's event counter.
    pub counter: u16,
}

/// Decodes an accelerometer notification.
pub fn decode_accel(bytes: &[u8]) -> Result<AccelBatch, DecodeError> {
    const WHAT: &str = "pingan accelerometer";
    let mut r = Reader::new(WHAT, bytes);
    r.require(HEADER + SAMPLE)?;
    let version = r.u8()?;
    if version != 1 {
        return Err(DecodeError::Unsupported {
            what: WHAT,
            detail: format!("format version {version}, expected 1"),
        });
    }
    let range_g = r.u8()?;
    if !matches!(range_g, 2 | 4 | 8 | 16) {
        return Err(DecodeError::InvalidValue {
            what: WHAT,
            field: "range",
            value: range_g.into(),
            expected: "2, 4, 8 or 16 g",
        });
    }
    let sample_rate_hz = r.u16()?;
    if !(1..=1600).contains(&sample_rate_hz) {
        return Err(DecodeError::InvalidValue {
            what: WHAT,
            field: "sample rate",
            value: sample_rate_hz.into(),
            expected: "1-1600 Hz",
        });
    }
    let sequence = r.u16()?;
    let body = r.remaining();
    if body % SAMPLE != 0 || body / SAMPLE > MAX_SAMPLES {
        return Err(DecodeError::TrailingBytes {
            what: WHAT,
            len: bytes.len(),
            flags: None,
            max: HEADER + (body / SAMPLE).min(MAX_SAMPLES) * SAMPLE,
        });
    }
    let scale = f32::from(range_g) / 32768.0;
    let mut samples_g = Vec::with_capacity(body / SAMPLE);
    while r.remaining() > 0 {
        let x = r.i16()?;
        let y = r.i16()?;
        let z = r.i16()?;
        samples_g.push([
            f32::from(x) * scale,
            f32::from(y) * scale,
            f32::from(z) * scale,
        ]);
    }
    Ok(AccelBatch {
        sequence,
        sample_rate_hz,
        range_g,
        samples_g,
    })
}

/// Encodes an accelerometer notification from raw samples (for simulators, tests and makers).
pub fn encode_accel(sequence: u16, sample_rate_hz: u16, range_g: u8, raw: &[[i16; 3]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + raw.len() * SAMPLE);
    out.push(1);
    out.push(range_g);
    out.extend_from_slice(&sample_rate_hz.to_le_bytes());
    out.extend_from_slice(&sequence.to_le_bytes());
    for s in raw {
        for v in s {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// Decodes a button notification.
pub fn decode_button(bytes: &[u8]) -> Result<ButtonEvent, DecodeError> {
    const WHAT: &str = "pingan button";
    let mut r = Reader::new(WHAT, bytes);
    r.require(3)?;
    let code = r.u8()?;
    let button = match code {
        1 => ButtonKind::Sos,
        2 => ButtonKind::Cancel,
        _ => {
            return Err(DecodeError::InvalidValue {
                what: WHAT,
                field: "event",
                value: code.into(),
                expected: "1 (SOS) or 2 (cancel)",
            });
        }
    };
    let counter = r.u16()?;
    r.finish()?;
    Ok(ButtonEvent { button, counter })
}

/// What a new sequence number says about the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqCheck {
    /// The first number seen (or the stream restarted after a reset).
    Start,
    /// The next number.
    InOrder,
    /// Notifications were lost in between.
    Gap {
        /// How many.
        missed: u16,
    },
    /// The same number again (a repeated notification).
    Duplicate,
}

/// Gaps larger than this are a device restart, not lost notifications.
const MAX_GAP: u16 = 1000;

/// Tracks one stream's sequence numbers to detect lost and repeated notifications.
#[derive(Debug, Clone, Copy, Default)]
pub struct SequenceTracker {
    last: Option<u16>,
}

impl SequenceTracker {
    /// Records `seq` and classifies it.
    pub fn check(&mut self, seq: u16) -> SeqCheck {
        let prev = self.last.replace(seq);
        let Some(prev) = prev else {
            return SeqCheck::Start;
        };
        match seq.wrapping_sub(prev) {
            0 => SeqCheck::Duplicate,
            1 => SeqCheck::InOrder,
            d if d <= MAX_GAP => SeqCheck::Gap { missed: d - 1 },
            _ => SeqCheck::Start,
        }
    }
}
