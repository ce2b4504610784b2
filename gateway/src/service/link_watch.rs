//! Watches the local link (the gateway's own connection to the embedded broker, where nurse
//! stations and the CLI get alerts). Down for [`GRACE`] — rumqttd wedged, the link stuck — it is
//! a technical alert (delivered over uplinks and shown on the dashboard), and the link's health
//! flag drops so `pingan run` stops feeding the systemd watchdog: systemd restarts the gateway,
//! and the alerts, kept in the store and the outboxes, go out after the restart. Back up, the
//! technical alert clears and the flag rises again.
//!
//! The decision is the pure [`LinkWatch`]; [`run`] samples the link's `connected` flag.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::alert::Event;
use crate::analytics::Finding;
use crate::clock::SharedClock;
use crate::mqtt::link::LinkStats;

/// How long the local link may be down before it counts as broken.
pub(super) const GRACE: Duration = Duration::from_secs(30);
/// How often the link is looked at.
const SAMPLE: Duration = Duration::from_secs(1);
/// The technical alert's part (its subject).
pub(super) const PART: &str = "mqtt:local";

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// Down for the whole grace period.
    Broken,
    /// Connected again after being broken.
    Restored,
}

/// Down-time bookkeeping of one link.
#[derive(Debug, Clone)]
pub(super) struct LinkWatch {
    grace: Duration,
    down_since: Option<Instant>,
    broken: bool,
}

impl LinkWatch {
    /// A watch that calls a link broken after `grace` down.
    pub(super) fn new(grace: Duration, now: Instant) -> Self {
        // A link that never connected counts as down from the start.
        Self {
            grace,
            down_since: Some(now),
            broken: false,
        }
    }

    /// The link's state at `now`.
    pub(super) fn observe(&mut self, connected: bool, now: Instant) -> Option<Change> {
        if connected {
            self.down_since = None;
            return std::mem::take(&mut self.broken).then_some(Change::Restored);
        }
        let since = *self.down_since.get_or_insert(now);
        if !self.broken && now.saturating_duration_since(since) >= self.grace {
            self.broken = true;
            return Some(Change::Broken);
        }
        None
    }
}

/// Samples `stats` until `stop`; raises and clears the technical alert through `findings` and
/// keeps `healthy` up to date.
pub(super) async fn run(
    stats: Arc<LinkStats>,
    findings: mpsc::Sender<Finding>,
    healthy: Arc<AtomicBool>,
    clock: SharedClock,
    stop: CancellationToken,
) {
    let mut watch = LinkWatch::new(GRACE, Instant::now());
    let mut tick = tokio::time::interval(SAMPLE);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let connected = stats.connected.load(Ordering::Relaxed);
        let detail = match watch.observe(connected, Instant::now()) {
            None => continue,
            Some(Change::Broken) => {
                healthy.store(false, Ordering::Relaxed);
                tracing::error!(
                    down_s = GRACE.as_secs(),
                    "the link to the embedded MQTT broker is down; raising a technical alert and no longer feeding the systemd watchdog"
                );
                Some(format!(
                    "the link to the embedded MQTT broker has been down for over {} s: nurse stations on it get no alerts; under systemd the gateway is restarted",
                    GRACE.as_secs()
                ))
            }
            Some(Change::Restored) => {
                healthy.store(true, Ordering::Relaxed);
                tracing::info!("the link to the embedded MQTT broker is back");
                None
            }
        };
        let _ = findings
            .send(Finding::Event(Event::technical(PART, detail, clock.now())))
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_for_the_grace_period_is_broken_once_and_restored_once() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut w = LinkWatch::new(GRACE, t0);
        let steps = [
            (0, true, None),
            (5, false, None),
            (34, false, None),
            (35, false, Some(Change::Broken)),
            (60, false, None),
            (61, true, Some(Change::Restored)),
            (62, true, None),
            (70, false, None),
            (80, true, None),
        ];
        for (s, connected, want) in steps {
            assert_eq!(w.observe(connected, at(s)), want, "at {s} s");
        }
    }

    #[test]
    fn a_link_that_never_connects_is_broken_after_the_grace_period() {
        let t0 = Instant::now();
        let mut w = LinkWatch::new(GRACE, t0);
        assert_eq!(w.observe(false, t0 + Duration::from_secs(29)), None);
        assert_eq!(w.observe(false, t0 + GRACE), Some(Change::Broken));
    }

    #[tokio::test(start_paused = true)]
    async fn a_dead_local_link_raises_a_technical_alert_and_drops_the_health_flag() {
        let stats = Arc::new(LinkStats::default());
        let (tx, mut rx) = mpsc::channel(8);
        let healthy = Arc::new(AtomicBool::new(true));
        let stop = CancellationToken::new();
        let clock = crate::clock::SystemClock::shared();
        let task = tokio::spawn(run(stats.clone(), tx, healthy.clone(), clock, stop.clone()));
        let Some(Finding::Event(ev)) = rx.recv().await else {
            panic!("no finding");
        };
        assert!(!healthy.load(Ordering::Relaxed));
        assert_eq!(ev.subject, crate::alert::Subject::Gateway(PART.into()));
        assert!(ev.detail.contains("30 s"), "{}", ev.detail);
        stats.connected.store(true, Ordering::Relaxed);
        let Some(Finding::Event(_clear)) = rx.recv().await else {
            panic!("no clear");
        };
        assert!(healthy.load(Ordering::Relaxed));
        stop.cancel();
        let _ = task.await;
    }
}
