//! The chunks the writer may still extend, one per device (see [`super::append`] for why and
//! how they are written). Kept apart from the writing so that the store's root can re-export
//! the type without importing the module that implements `Store`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use pingan_drivers::{Reading, Timestamp};

use super::chunk::Encoder;

/// Most readings in a chunk that later batches may still extend. Rewriting a chunk costs its
/// size in writes each batch; at 32 readings (a few hundred bytes) that stays small while the
/// key count falls by the same factor (sled alone, 3 M readings of 200 devices: at 16 its memory
/// was 35 % higher, at 64 it wrote twice the bytes).
pub(crate) const EXTEND_MAX_READINGS: u64 = 32;
/// A chunk is extended only while its readings span less than this, so a slow device's chunk
/// closes and queries never look back far for it (well within `chunk::MAX_SPAN_MS`).
pub(crate) const EXTEND_MAX_SPAN_MS: i64 = 10 * 60_000;

/// The chunk each device's next batch may extend (the writer thread owns one).
#[derive(Debug, Default)]
pub struct OpenChunks {
    pub(super) by_device: HashMap<Vec<u8>, Open>,
}

#[derive(Debug)]
pub(super) struct Open {
    pub(super) key: Vec<u8>,
    pub(super) start: Timestamp,
    /// When the chunk was first written, by this machine's clock.
    pub(super) opened: Instant,
    pub(super) encoder: Encoder,
    /// The value as last written, which the next rewrite expects to find.
    pub(super) written: Vec<u8>,
}

impl OpenChunks {
    /// Chunks open for extension (for tests and metrics).
    pub fn len(&self) -> usize {
        self.by_device.len()
    }

    /// Whether no chunk is open.
    pub fn is_empty(&self) -> bool {
        self.by_device.is_empty()
    }

    /// Closes the chunks opened longer ago than the window, so a device that went silent does
    /// not keep its chunk in memory. By the gateway's clock, not the readings' times: one device
    /// with a clock far ahead must not close everyone's chunks.
    pub(super) fn close_stale(&mut self, now: Instant) {
        let window = Duration::from_millis(EXTEND_MAX_SPAN_MS as u64);
        self.by_device
            .retain(|_, o| now.saturating_duration_since(o.opened) < window);
    }
}

impl Open {
    /// Whether a later reading could still be appended.
    pub(super) fn has_room(&self) -> bool {
        self.encoder.count() < EXTEND_MAX_READINGS
            && self.encoder.last().0.saturating_sub(self.start.0) < EXTEND_MAX_SPAN_MS
    }

    /// Whether `rs` (one device's readings, oldest first) may be appended.
    pub(super) fn takes(&self, rs: &[&Reading]) -> bool {
        let (Some(first), Some(last)) = (rs.first(), rs.last()) else {
            return false;
        };
        first.at >= self.encoder.last()
            && self.encoder.count() + rs.len() as u64 <= EXTEND_MAX_READINGS
            && last.at.0.saturating_sub(self.start.0) < EXTEND_MAX_SPAN_MS
    }
}
