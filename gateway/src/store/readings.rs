//! Readings in per-device chunks: one sled key per device and write batch, or run of batches the
//! writer extends ([`super::append`]; see [`super::chunk`] for the value, [`super::keys::chunk`]
//! for the key). One key per reading capped ingest at sled's
//! ~100 k inserts/s; a chunk carries a batch's dozen readings of a device in one insert.

use pingan_drivers::{DeviceId, Reading, Timestamp};

use super::chunk::{self, MAX_SPAN_MS};
use super::open::OpenChunks;
use super::{Store, StoreError, StoredReading, keys, next_key, prefix_end};

/// Chunks a sweep step reads and rewrites at once, so the writer never waits long on it.
const SWEEP_STEP: usize = 512;

impl Store {
    /// Writes a batch of readings, one chunk per device (more when the device's readings span
    /// over an hour). Not flushed: telemetry rides sled's 1 s flusher. A reading sent twice is
    /// stored twice.
    ///
    /// Chunks are separate inserts, not one atomic sled batch: `apply_batch` costs ~120 µs per
    /// call here (measured), which dominated small batches, and a crash already loses the last
    /// ~0.5 s of readings. After an error, some chunks of the batch may be stored.
    pub fn put_readings(&self, readings: &[Reading]) -> Result<(), StoreError> {
        // Without chunks open from earlier batches, every chunk is new.
        self.append_readings(readings, &mut OpenChunks::default())
    }

    /// Readings of `device` with `from <= at < to`, oldest first (readings at the same
    /// millisecond in the order they were written).
    pub fn readings(
        &self,
        device: &DeviceId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<StoredReading>, StoreError> {
        let mut out = Vec::new();
        if from >= to {
            return Ok(out);
        }
        let id = keys::device_bytes(device);
        // A chunk that holds `from` starts at most MAX_SPAN_MS before it.
        let start = keys::time_bound(id, Timestamp(from.0.saturating_sub(MAX_SPAN_MS)));
        let end = keys::time_bound(id, to);
        for kv in self.readings.range(start..end) {
            let (k, v) = kv.map_err(|e| self.err(e))?;
            let Some(key) = keys::split_chunk(&k) else {
                continue;
            };
            for (at, record) in chunk::decode(key.start, &v)? {
                if from <= at && at < to {
                    out.push(StoredReading {
                        device: key.device.clone(),
                        at,
                        value: record.to_json(),
                    });
                }
            }
        }
        // Chunks of different batches may overlap in time (late readings); stable, and linear
        // when they do not.
        out.sort_by_key(|r| r.at);
        Ok(out)
    }

    /// Number of reading chunks, i.e. sled keys (for tools and benchmarks).
    pub fn reading_chunks(&self) -> usize {
        self.readings.len()
    }

    /// Number of stored readings (a full scan of chunk headers: for tests and tools). Corrupt
    /// chunks count as empty.
    pub fn count_readings(&self) -> usize {
        self.readings
            .iter()
            .values()
            .filter_map(|v| chunk::count(&v.ok()?).ok())
            .sum::<u64>() as usize
    }

    /// Deletes readings older than `cutoff`, in small batches so ingest never waits on it.
    /// Returns how many were removed.
    ///
    /// A chunk entirely older than the cutoff is removed; one that straddles it is rewritten
    /// with only its readings at or after the cutoff (under its new first time). A corrupt chunk
    /// that starts before the cutoff is removed and logged.
    pub fn sweep_readings(&self, cutoff: Timestamp) -> Result<u64, StoreError> {
        let mut removed = 0;
        let mut cursor: Vec<u8> = Vec::new();
        loop {
            // Find the next device prefix at or after the cursor.
            let Some(kv) = self.readings.range(cursor.clone()..).next() else {
                break;
            };
            let (k, _) = kv.map_err(|e| self.err(e))?;
            let Some(key) = keys::split_chunk(&k) else {
                tracing::warn!(key = ?k, "malformed readings key removed");
                self.readings.remove(&k).map_err(|e| self.err(e))?;
                cursor = next_key(&k);
                continue;
            };
            let id = keys::device_bytes(&key.device);
            let prefix = keys::device_prefix(id);
            let end = keys::time_bound(id, cutoff);
            let mut from = prefix.clone();
            loop {
                let old: Vec<(sled::IVec, sled::IVec)> = self
                    .readings
                    .range(from.clone()..end.clone())
                    .take(SWEEP_STEP)
                    .collect::<Result<_, _>>()
                    .map_err(|e| self.err(e))?;
                let Some((last, _)) = old.last() else {
                    break;
                };
                from = next_key(last);
                let mut batch = sled::Batch::default();
                for (k, v) in &old {
                    removed += sweep_chunk(k, v, cutoff, &mut batch);
                }
                self.readings.apply_batch(batch).map_err(|e| self.err(e))?;
            }
            cursor = prefix_end(&prefix);
        }
        Ok(removed)
    }
}

/// Adds to `batch` what the sweep does to one chunk that starts before `cutoff`; returns the
/// number of readings it removes.
fn sweep_chunk(k: &[u8], v: &[u8], cutoff: Timestamp, batch: &mut sled::Batch) -> u64 {
    let Some(key) = keys::split_chunk(k) else {
        tracing::warn!(key = ?k, "malformed readings key removed");
        batch.remove(k);
        return 0;
    };
    let records = match chunk::extent(key.start, v) {
        Ok((n, last)) if last < cutoff => {
            batch.remove(k);
            return n;
        }
        Ok(_) => chunk::decode(key.start, v),
        Err(e) => Err(e),
    };
    match records {
        Ok(records) => {
            let n = records.len() as u64;
            let kept: Vec<_> = records
                .into_iter()
                .filter(|(at, _)| *at >= cutoff)
                .collect();
            batch.remove(k);
            if let Some((start, _)) = kept.first() {
                let mut enc = chunk::Encoder::new(*start);
                for (at, record) in &kept {
                    enc.push_record(*at, record);
                }
                let id = keys::device_bytes(&key.device);
                batch.insert(keys::chunk(id, *start, key.batch), enc.finish());
            }
            n - kept.len() as u64
        }
        Err(error) => {
            tracing::warn!(device = %key.device, %error, "corrupt readings chunk removed by the sweep");
            batch.remove(k);
            0
        }
    }
}
