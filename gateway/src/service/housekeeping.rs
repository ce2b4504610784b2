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

/// Meta key of the latest time the gateway has recorded (a clock reading before it is wrong).
pub(super) const CLOCK_HIGH_WATER: &str = "clock_high_water";

/// How often budgets, free space and delivery ages are looked at: a small data filesystem can
/// fill in seconds.
const CHECK: Duration = Duration::from_secs(2);

/// Retention and budget settings.
#[derive(Debug, Clone)]
pub(super) struct Budget {
    /// Keep readings this long.
    pub retention: Duration,
    /// Sweep this often.
    pub sweep_interval: Duration,
    /// Disk budget, bytes.
    pub(super) max_bytes: u64,
    /// Free space kept for alerts and audit, bytes.
    pub(super) reserve_bytes: u64,
    /// Messages an outbox may hold before a technical alert says its broker is not confirming.
    pub(super) outbox_quota: u64,
    /// A link whose oldest undelivered alert is older than this raises a technical alert.
    pub(super) undelivered_after: Duration,
    /// The outboxes to watch.
    pub(super) outboxes: Vec<(LinkId, Outbox)>,
}

/// What housekeeping acts on besides the store.
#[derive(Debug)]
pub(super) struct Signals {
    /// Set while telemetry is not stored (over budget, little free space).
    pub shedding: Arc<AtomicBool>,
    /// Set by effects once the store failed to persist an alert change.
    pub degraded: Arc<AtomicBool>,
    /// Cancelled to ask for a restart that recovers the durable path.
    pub restart: CancellationToken,
}

/// Runs the sweep and the checks until `shutdown`.
pub(super) async fn run(
    store: Store,
    budget: Budget,
    signals: Signals,
    findings: mpsc::Sender<Finding>,
    clock: SharedClock,
    shutdown: CancellationToken,
) {
    let mut sweep = tokio::time::interval(budget.sweep_interval);
    let mut check = tokio::time::interval(CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut state = State::default();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = sweep.tick() => sweep_now(&store, budget.retention, clock.now()).await,
            _ = check.tick() => {
                let now = clock.now();
                let events = state.check(&store, &budget, &signals, now);
                if state.sweep_now {
                    state.sweep_now = false;
                    sweep_now(&store, budget.retention / 2, now).await;
                }
                for ev in events {
                    let _ = findings.send(Finding::Event(ev)).await;
                }
            }
        }
    }
}

/// What the checks remember between turns.
#[derive(Debug, Default)]
struct State {
    over_quota: HashSet<LinkId>,
    late: HashSet<LinkId>,
    sweep_now: bool,
    restart_asked: bool,
}

impl State {
    /// One turn of every check at `now`; the technical events to raise or clear.
    fn check(&mut self, store: &Store, b: &Budget, s: &Signals, now: Timestamp) -> Vec<Event> {
        let mut events = Vec::new();
        let degraded = s.degraded.load(Ordering::Relaxed);
        if !degraded && now >= crate::clock::EARLIEST_PLAUSIBLE {
            let _ = store.set_meta(CLOCK_HIGH_WATER, &now.millis().to_string());
        }
        let size = store.size_on_disk();
        let free = store.free_space();
        let was = s.shedding.load(Ordering::Relaxed);
        match storage_pressure(was, size, b.max_bytes, free, b.reserve_bytes) {
            Some(Ok(why)) => {
                s.shedding.store(true, Ordering::Relaxed);
                tracing::error!(
                    size,
                    max = b.max_bytes,
                    free,
                    reserve = b.reserve_bytes,
                    "{why}: telemetry is not stored, alerts continue"
                );
                let detail = format!(
                    "{why}: readings are not being stored; alerts and their audit trail keep the reserved space"
                );
                events.push(Event::technical("storage", Some(detail), now));
                self.sweep_now = true;
            }
            Some(Err(())) => {
                s.shedding.store(false, Ordering::Relaxed);
                tracing::info!(size, free, "storage has room again: storing readings again");
                events.push(Event::technical("storage", None, now));
            }
            None => {}
        }
        for (id, outbox) in &b.outboxes {
            let depth = outbox.len() as u64;
            let was = self.over_quota.contains(id);
            match over_budget(was, depth, b.outbox_quota) {
                Some(true) => {
                    self.over_quota.insert(id.clone());
                    tracing::error!(link = %id, depth, "outbox over quota: the broker has not confirmed messages for a long time");
                    let detail = format!(
                        "link {id} has {depth} undelivered messages (quota {}); alerts are kept and will be delivered when it returns",
                        b.outbox_quota
                    );
                    events.push(Event::technical(&format!("outbox:{id}"), Some(detail), now));
                }
                Some(false) => {
                    self.over_quota.remove(id);
                    events.push(Event::technical(&format!("outbox:{id}"), None, now));
                }
                None => {}
            }
            let age = outbox
                .oldest_alert_queued_at()
                .map(|t| now.since(t))
                .unwrap_or_default();
            let late = age >= b.undelivered_after;
            if late != self.late.contains(id) {
                let part = format!("delivery:{id}");
                if late {
                    self.late.insert(id.clone());
                    tracing::error!(link = %id, age_s = age.as_secs(), "an alert has waited too long for this link's broker");
                    let detail = format!(
                        "link {id} has not delivered an alert for {} s (alarm after {} s): its broker is unreachable or not confirming",
                        age.as_secs(),
                        b.undelivered_after.as_secs()
                    );
                    events.push(Event::technical(&part, Some(detail), now));
                } else {
                    self.late.remove(id);
                    tracing::info!(link = %id, "link delivering again");
                    events.push(Event::technical(&part, None, now));
                }
            }
        }
        // The store failed for good in this process: once every change that went out of memory
        // is delivered and the disk has room again, a restart gets back to the durable path.
        let drained = b.outboxes.iter().all(|(_, o)| o.memory_len() == 0);
        let room = free.is_none_or(|f| f > b.reserve_bytes);
        if degraded && drained && room && !self.restart_asked {
            self.restart_asked = true;
            tracing::error!(
                "restarting to recover the store: every alert change kept in memory was delivered"
            );
            s.restart.cancel();
        }
        events
    }
}

/// Whether the storage state changes: `Some(Ok(why))` on going over the budget or under the
/// reserve of free space, `Some(Err(()))` on coming back (under 90 % of the budget and 10 % above
/// the reserve: hysteresis, so a value near a limit does not flap), `None` otherwise.
fn storage_pressure(
    was: bool,
    size: u64,
    max_bytes: u64,
    free: Option<u64>,
    reserve: u64,
) -> Option<Result<String, ()>> {
    let low = free.is_some_and(|f| f < reserve);
    if !was {
        if size > max_bytes {
            return Some(Ok(format!(
                "storage over budget ({size} of {max_bytes} bytes)"
            )));
        }
        if low {
            let f = free.unwrap_or(0);
            return Some(Ok(format!(
                "little free disk ({f} bytes free, {reserve} kept for alerts)"
            )));
        }
        return None;
    }
    let room = free.is_none_or(|f| f > reserve + reserve / 10);
    (size < max_bytes / 10 * 9 && room).then_some(Err(()))
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
    use super::{over_budget, storage_pressure};

    #[test]
    fn storage_is_under_pressure_over_budget_or_under_the_reserve_and_back_with_margin() {
        const M: u64 = 1_000;
        let over = |r: Option<Result<String, ()>>| matches!(r, Some(Ok(_)));
        assert!(over(storage_pressure(false, 1_001, M, Some(10_000), 100)));
        assert!(over(storage_pressure(false, 10, M, Some(99), 100)));
        assert_eq!(storage_pressure(false, 10, M, Some(100), 100), None);
        assert_eq!(storage_pressure(false, 10, M, None, 100), None);
        // Back only with 10 % margin on both.
        assert_eq!(storage_pressure(true, 10, M, Some(105), 100), None);
        assert_eq!(storage_pressure(true, 950, M, Some(10_000), 100), None);
        assert_eq!(storage_pressure(true, 10, M, Some(111), 100), Some(Err(())));
        assert_eq!(storage_pressure(true, 10, M, None, 100), Some(Err(())));
    }

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
