//! The readings writer: a blocking thread that gathers readings into per-device chunks and
//! writes them in batches, thinning routine telemetry to `storage.downsample` and shedding it
//! while storage is over budget. Readings may be lost in a crash (a second at most); alerts never
//! pass through here.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pingan_drivers::{DeviceId, Reading, Timestamp};
use tokio::sync::mpsc;

use super::live::Live;
use crate::store::{OpenChunks, Store};

/// How long the writer gathers readings into one batch.
const GATHER: Duration = Duration::from_secs(1);
/// Most readings in one batch. A batch is one sled insert per device: at 2048 the inserts were
/// half the ingest cost (docs/BENCHMARKS.md, bench/src/bin/ingest.rs); 8192 readings are
/// ~1 MB in memory, and the second of telemetry a crash may lose is bounded by [`GATHER`].
const BATCH_MAX: usize = 8192;

/// Writes readings in batches on a blocking thread until the queue closes, then flushes.
pub(super) fn spawn(
    store: Store,
    mut rx: mpsc::Receiver<Reading>,
    live: Arc<Live>,
    shedding: Arc<AtomicBool>,
    downsample: Duration,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut batch = Vec::with_capacity(BATCH_MAX);
        let mut failures = 0u64;
        // Each device's newest chunk grows over later batches (store/append.rs).
        let mut open = OpenChunks::default();
        let mut last: HashMap<(DeviceId, &'static str), Timestamp> = HashMap::new();
        let mut keep = |r: &Reading| {
            if downsample.is_zero() || r.measurement.is_critical() {
                return true;
            }
            let key = (r.device.clone(), r.measurement.kind());
            match last.get(&key) {
                Some(t) if r.at >= *t && r.at.since(*t) < downsample => false,
                _ => {
                    last.insert(key, r.at);
                    true
                }
            }
        };
        while let Some(first) = rx.blocking_recv() {
            let mut skipped = 0u64;
            let mut take = |r: Reading, batch: &mut Vec<Reading>| {
                if keep(&r) {
                    batch.push(r);
                } else {
                    skipped += 1;
                    live.metrics.readings_written(&r.device, 0, 1, 0);
                }
            };
            take(first, &mut batch);
            // Gather for up to a second: readings are stored in per-device chunks, and a chunk of
            // one reading costs five times the disk of a full one. A crash can lose this second
            // of telemetry, never an alert.
            let started = std::time::Instant::now();
            while batch.len() < BATCH_MAX {
                match rx.try_recv() {
                    Ok(r) => take(r, &mut batch),
                    Err(mpsc::error::TryRecvError::Empty) if started.elapsed() < GATHER => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(_) => break,
                }
            }
            live.counters
                .readings_downsampled
                .fetch_add(skipped, Ordering::Relaxed);
            let n = batch.len() as u64;
            let c = &live.counters;
            if batch.is_empty() {
                continue;
            }
            let stored = if shedding.load(Ordering::Relaxed) {
                c.readings_shed.fetch_add(n, Ordering::Relaxed);
                false
            } else if let Err(e) = store.append_readings(&batch, &mut open) {
                c.readings_shed.fetch_add(n, Ordering::Relaxed);
                failures += 1;
                if failures.is_power_of_two() {
                    tracing::error!(error = %e, failures, "readings not stored");
                }
                false
            } else {
                c.readings_stored.fetch_add(n, Ordering::Relaxed);
                true
            };
            let (s, shed) = if stored { (1, 0) } else { (0, 1) };
            for r in &batch {
                live.metrics.readings_written(&r.device, s, 0, shed);
            }
            batch.clear();
        }
        if let Err(e) = store.flush_blocking() {
            tracing::error!(error = %e, "final flush of readings failed");
        }
    })
}
