//! Storage housekeeping: the retention sweep and the budgets (over the disk budget telemetry is
//! shed and a technical alert raised while alerts keep being stored; an outbox over its quota
//! raises a technical alert for its link).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pingan_drivers::Timestamp;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::alert::Event;
use crate::analytics::Finding;
use crate::clock::SharedClock;
use crate::config::LinkId;
use crate::store::{Outbox, Store};

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
    pub(super) outboxes: Vec<(LinkId, Outbox)>,
}

/// Runs the sweep and the budget check until `shutdown`.
pub(super) async fn run(
    store: Store,
    budget: Budget,
    shedding: Arc<AtomicBool>,
    findings: mpsc::Sender<Finding>,
    clock: SharedClock,
    shutdown: CancellationToken,
) {
    let technical = |part: String, detail: Option<String>| {
        let ev = Event::technical(&part, detail, clock.now());
        let findings = findings.clone();
        async move {
            let _ = findings.send(Finding::Event(ev)).await;
        }
    };
    let mut sweep = tokio::time::interval(budget.sweep_interval);
    let mut check = tokio::time::interval(Duration::from_secs(10));
    let mut over_quota: HashSet<LinkId> = HashSet::new();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = sweep.tick() => sweep_now(&store, budget.retention, clock.now()).await,
            _ = check.tick() => {
                let size = store.size_on_disk();
                let was = shedding.load(Ordering::Relaxed);
                match over_budget(was, size, budget.max_bytes) {
                    Some(true) => {
                        shedding.store(true, Ordering::Relaxed);
                        tracing::error!(size, max = budget.max_bytes, "storage over budget: shedding telemetry, alerts continue");
                        let detail = format!("storage over budget ({size} of {} bytes): readings are not being stored", budget.max_bytes);
                        technical("storage".to_owned(), Some(detail)).await;
                        sweep_now(&store, budget.retention / 2, clock.now()).await;
                    }
                    Some(false) => {
                        shedding.store(false, Ordering::Relaxed);
                        tracing::info!(size, "storage back under budget: storing readings again");
                        technical("storage".to_owned(), None).await;
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
                            technical(format!("outbox:{id}"), Some(detail)).await;
                        }
                        Some(false) => {
                            over_quota.remove(id);
                            technical(format!("outbox:{id}"), None).await;
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

async fn sweep_now(store: &Store, retention: Duration, now: Timestamp) {
    let cutoff = now.minus(retention);
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
