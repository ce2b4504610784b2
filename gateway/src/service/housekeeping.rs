//! Storage housekeeping: the readings writer thread, the retention sweep, and the disk budget
//! (over budget: telemetry is shed and a technical alert raised; alerts keep being stored).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pingan_drivers::{DeviceId, Reading, Timestamp};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::live::Live;
use crate::alert::{AlertKind, Event, Priority, Subject};
use crate::analytics::Finding;
use crate::store::Store;

/// How long the writer gathers readings into one batch.
const GATHER: Duration = Duration::from_secs(1);

/// Writes readings in batches on a blocking thread until the queue closes, then flushes.
pub(super) fn spawn_writer(
    store: Store,
    mut rx: mpsc::Receiver<Reading>,
    live: Arc<Live>,
    shedding: Arc<AtomicBool>,
    downsample: Duration,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut batch = Vec::with_capacity(2048);
        let mut failures = 0u64;
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
                }
            };
            take(first, &mut batch);
            // Gather for up to a second: readings are stored in per-device chunks, and a chunk of
            // one reading costs five times the disk of a full one. A crash can lose this second
            // of telemetry, never an alert.
            let started = std::time::Instant::now();
            while batch.len() < 2048 {
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
            } else if shedding.load(Ordering::Relaxed) {
                c.readings_shed.fetch_add(n, Ordering::Relaxed);
            } else if let Err(e) = store.put_readings(&batch) {
                c.readings_shed.fetch_add(n, Ordering::Relaxed);
                failures += 1;
                if failures.is_power_of_two() {
                    tracing::error!(error = %e, failures, "readings not stored");
                }
            } else {
                c.readings_stored.fetch_add(n, Ordering::Relaxed);
            }
            batch.clear();
        }
        if let Err(e) = store.flush_blocking() {
            tracing::error!(error = %e, "final flush of readings failed");
        }
    })
}

/// Retention and budget settings.
#[derive(Debug, Clone)]
pub(super) struct Budget {
    /// Keep readings this long.
    pub retention: Duration,
    /// Sweep this often.
    pub sweep_interval: Duration,
    /// Disk budget, bytes.
    pub(super) max_bytes: u64,
    /// Messages an outbox may hold before a technical alert says its broker is not confirming.
    pub(super) outbox_quota: u64,
    /// The outboxes to watch.
    pub(super) outboxes: Vec<(String, crate::store::Outbox)>,
}

/// Runs the sweep and the budget check until `shutdown`.
pub(super) async fn run(
    store: Store,
    budget: Budget,
    shedding: Arc<AtomicBool>,
    findings: mpsc::Sender<Finding>,
    shutdown: CancellationToken,
) {
    let mut sweep = tokio::time::interval(budget.sweep_interval);
    let mut check = tokio::time::interval(Duration::from_secs(10));
    let mut over_quota: HashSet<String> = HashSet::new();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = sweep.tick() => sweep_now(&store, budget.retention).await,
            _ = check.tick() => {
                let size = store.size_on_disk();
                let was = shedding.load(Ordering::Relaxed);
                match over_budget(was, size, budget.max_bytes) {
                    Some(true) => {
                        shedding.store(true, Ordering::Relaxed);
                        tracing::error!(size, max = budget.max_bytes, "storage over budget: shedding telemetry, alerts continue");
                        let detail = format!("storage over budget ({size} of {} bytes): readings are not being stored", budget.max_bytes);
                        technical(&findings, "storage", Some(detail)).await;
                        sweep_now(&store, budget.retention / 2).await;
                    }
                    Some(false) => {
                        shedding.store(false, Ordering::Relaxed);
                        tracing::info!(size, "storage back under budget: storing readings again");
                        technical(&findings, "storage", None).await;
                    }
                    None => {}
                }
                for (id, outbox) in &budget.outboxes {
                    let depth = outbox.len() as u64;
                    let was = over_quota.contains(id);
                    match over_budget(was, depth, budget.outbox_quota) {
                        Some(true) => {
                            over_quota.insert(id.clone());
                            tracing::error!(link = %id, depth, "outbox over quota: the broker has not confirmed messages for a long time");
                            let detail = format!("uplink {id} has {depth} undelivered messages (quota {}); alerts are kept and will be delivered when it returns", budget.outbox_quota);
                            technical(&findings, &format!("outbox:{id}"), Some(detail)).await;
                        }
                        Some(false) => {
                            over_quota.remove(id);
                            technical(&findings, &format!("outbox:{id}"), None).await;
                        }
                        None => {}
                    }
                }
            }
        }
    }
}

/// Whether a budget state changes: `Some(true)` on going over `limit`, `Some(false)` on coming
/// back under 90 % of it (hysteresis, so a value near the limit does not flap), `None` otherwise.
fn over_budget(was_over: bool, value: u64, limit: u64) -> Option<bool> {
    if !was_over && value > limit {
        Some(true)
    } else if was_over && value < limit / 10 * 9 {
        Some(false)
    } else {
        None
    }
}

/// Raises (with a detail) or clears the technical alert of one part of the gateway.
async fn technical(findings: &mpsc::Sender<Finding>, part: &str, detail: Option<String>) {
    let subject = Subject::Gateway(part.to_owned());
    let ev = match detail {
        Some(d) => {
            let mut ev = Event::raise(
                AlertKind::Technical,
                subject,
                Priority::Medium,
                Timestamp::now(),
            );
            ev.detail = d;
            ev
        }
        None => Event::clear(AlertKind::Technical, subject, Timestamp::now()),
    };
    let _ = findings.send(Finding::Event(ev)).await;
}

async fn sweep_now(store: &Store, retention: Duration) {
    let cutoff = Timestamp(Timestamp::now().millis() - retention.as_millis() as i64);
    let s = store.clone();
    match tokio::task::spawn_blocking(move || s.sweep_readings(cutoff)).await {
        Ok(Ok(n)) => {
            if n > 0 {
                tracing::info!(removed = n, "retention sweep");
            }
        }
        Ok(Err(e)) => tracing::error!(error = %e, "retention sweep failed"),
        Err(e) => tracing::error!(error = %e, "retention sweep panicked"),
    }
}

#[cfg(test)]
mod tests {
    use super::over_budget;

    #[test]
    fn budget_goes_over_above_the_limit_and_back_under_ninety_percent() {
        let cases = [
            (false, 100, 100, None),
            (false, 101, 100, Some(true)),
            (true, 95, 100, None),
            (true, 90, 100, None),
            (true, 89, 100, Some(false)),
            (false, 0, 100, None),
            (true, 200, 100, None),
        ];
        for (was, value, limit, want) in cases {
            assert_eq!(
                over_budget(was, value, limit),
                want,
                "{was} {value} {limit}"
            );
        }
    }
}
