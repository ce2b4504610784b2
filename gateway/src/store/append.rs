//! A device's newest chunk grows across write batches instead of each batch writing its own.
//!
//! Why: with telemetry thinned to one reading per kind every `storage.downsample`, a one-second
//! batch holds one or two readings of a device, so one chunk per batch is one sled key per
//! reading. sled 0.34 keeps memory for every page of the tree whether or not it is cached
//! (spacejam/sled#1093), so the gateway's memory grew with the number of keys written, and a
//! one-reading chunk takes ~150 bytes of disk. Measured with 200 devices writing one reading each
//! per batch (`bench/src/bin/store_footprint.rs`, docs/STORAGE.md "Memory"): after 12 M
//! readings, 64 MiB of RSS and 394 MiB of disk with chunks extended to 32 readings, against
//! 350 MiB and 1 685 MiB with one chunk per batch.
//!
//! Each batch still writes everything it holds: the grown chunk is written again under its key,
//! so what a crash loses is unchanged (the last batch at most). The rewrite is a compare-and-swap
//! on the value last written: when the retention sweep has rewritten or removed the chunk in the
//! meantime, the batch starts a new chunk rather than bringing back what the sweep took.

use std::time::Instant;

use pingan_drivers::Reading;

use super::chunk::{self, Encoder};
use super::open::{Open, OpenChunks};
use super::{Store, StoreError, keys};

impl Store {
    /// Writes a batch of readings like [`Store::put_readings`], extending each device's chunk
    /// from an earlier batch in `open` where it is small, recent and older than the new readings
    /// (module docs). Not flushed. After an error, some chunks of the batch may be stored, and
    /// the failing device's chunk is closed.
    pub fn append_readings(
        &self,
        readings: &[Reading],
        open: &mut OpenChunks,
    ) -> Result<(), StoreError> {
        self.append_readings_at(readings, open, Instant::now())
    }

    fn append_readings_at(
        &self,
        readings: &[Reading],
        open: &mut OpenChunks,
        now: Instant,
    ) -> Result<(), StoreError> {
        if readings.is_empty() {
            return Ok(());
        }
        open.close_stale(now);
        // Unique across restarts, so chunks of one device at one start time never collide.
        let batch_id = self.db.generate_id().map_err(|e| self.err(e))?;
        let (order, ranges) = chunk::plan(readings, |r| keys::device_bytes(&r.device));
        for range in ranges {
            let Some(rs @ [first, ..]) = order.get(range) else {
                continue;
            };
            let id = keys::device_bytes(&first.device);
            let result = match open.by_device.remove(id) {
                Some(o) if o.takes(rs) => self.extend(o, rs, batch_id, now),
                _ => self.start(rs, batch_id, now),
            };
            match result {
                Ok(Some(o)) => {
                    open.by_device.insert(id.to_vec(), o);
                }
                Ok(None) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Appends `rs` to the open chunk `o` and writes it again, if it is still as last written;
    /// otherwise starts a new chunk. Returns the chunk to keep open.
    fn extend(
        &self,
        mut o: Open,
        rs: &[&Reading],
        batch_id: u64,
        now: Instant,
    ) -> Result<Option<Open>, StoreError> {
        for r in rs {
            o.encoder.push_measurement(r.at, &r.measurement);
        }
        let value = o.encoder.value();
        let swapped = self
            .readings
            .compare_and_swap(&o.key, Some(&o.written[..]), Some(&value[..]))
            .map_err(|e| self.err(e))?;
        if swapped.is_err() {
            // The sweep rewrote or removed it: what it kept is stored, these readings are not.
            return self.start(rs, batch_id, now);
        }
        o.written = value;
        Ok(o.has_room().then_some(o))
    }

    /// Writes `rs` as a new chunk. Returns it as the chunk to keep open when it has room.
    fn start(
        &self,
        rs: &[&Reading],
        batch_id: u64,
        now: Instant,
    ) -> Result<Option<Open>, StoreError> {
        let Some(first) = rs.first() else {
            return Ok(None);
        };
        let mut encoder = Encoder::new(first.at);
        for r in rs {
            encoder.push_measurement(r.at, &r.measurement);
        }
        let key = keys::chunk(keys::device_bytes(&first.device), first.at, batch_id);
        let value = encoder.value();
        self.readings
            .insert(&key[..], &value[..])
            .map_err(|e| self.err(e))?;
        let open = Open {
            key,
            start: first.at,
            opened: now,
            encoder,
            written: value,
        };
        Ok(open.has_room().then_some(open))
    }
}

#[cfg(test)]
#[path = "append_tests.rs"]
mod tests;
