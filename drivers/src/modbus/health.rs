//! Device health from poll outcomes, and the per-device backoff. Pure.
//!
//! - A poll that gets no usable answer (timeout, broken link, garbage) is a failure; after
//!   `offline_after` failures in a row the device is [`HealthState::Offline`] (the gateway raises
//!   `device_offline`).
//! - A poll that is answered is [`HealthState::Online`], or [`HealthState::Degraded`] when some
//!   requests got exception responses or fault points are active.
//! - Only changes are reported, so an offline device that answers again resolves its alert.

use std::time::Duration;

use crate::driver::HealthState;

/// How one poll of a device went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    /// The device answered; `problems` lists exception responses and active fault points.
    Answered {
        /// Human-readable problems; empty when everything was read.
        problems: Vec<String>,
    },
    /// No usable answer.
    Failed {
        /// Why, for the health detail.
        reason: String,
    },
}

/// Tracks one device's health across polls.
#[derive(Debug, Clone)]
pub struct HealthTracker {
    offline_after: u32,
    failures: u32,
    state: Option<HealthState>,
}

impl HealthTracker {
    /// A tracker declaring the device offline after `offline_after` failed polls in a row
    /// (at least 1).
    pub fn new(offline_after: u32) -> Self {
        Self {
            offline_after: offline_after.max(1),
            failures: 0,
            state: None,
        }
    }

    /// Failed polls in a row.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The last reported state, if any.
    pub fn state(&self) -> Option<HealthState> {
        self.state
    }

    /// Records a poll; returns the new state and its detail when it changed.
    pub fn record(&mut self, outcome: &PollOutcome) -> Option<(HealthState, String)> {
        let (next, detail) = match outcome {
            PollOutcome::Answered { problems } => {
                self.failures = 0;
                if problems.is_empty() {
                    (HealthState::Online, "answering".to_owned())
                } else {
                    (HealthState::Degraded, problems.join("; "))
                }
            }
            PollOutcome::Failed { reason } => {
                self.failures = self.failures.saturating_add(1);
                if self.failures < self.offline_after {
                    return None;
                }
                (
                    HealthState::Offline,
                    format!("{} failed polls in a row: {reason}", self.failures),
                )
            }
        };
        if self.state == Some(next) {
            return None;
        }
        self.state = Some(next);
        Some((next, detail))
    }
}

/// The wait before the next poll: the poll interval while the device answers or is not yet
/// offline (so that going offline is noticed promptly), then doubling per further failure up to
/// `max_backoff`, so a dead device costs little bus time.
pub fn next_delay(
    interval: Duration,
    failures: u32,
    offline_after: u32,
    max_backoff: Duration,
) -> Duration {
    let over = failures.saturating_sub(offline_after.max(1).saturating_sub(1));
    if over == 0 {
        return interval;
    }
    let factor = 1u32.checked_shl(over.min(20)).unwrap_or(u32::MAX);
    interval
        .saturating_mul(factor)
        .min(max_backoff.max(interval))
}

/// The silent interval between RTU frames: 3.5 character times (11 bits each), fixed at
/// 1.75 ms above 19200 baud as the Modbus serial line specification says.
pub fn inter_frame_gap(baud: u32) -> Duration {
    if baud == 0 || baud > 19_200 {
        return Duration::from_micros(1_750);
    }
    Duration::from_micros(38_500_000 / u64::from(baud))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn fail() -> PollOutcome {
        PollOutcome::Failed {
            reason: "timeout".into(),
        }
    }

    fn ok() -> PollOutcome {
        PollOutcome::Answered { problems: vec![] }
    }

    #[test]
    fn device_goes_offline_after_n_failed_polls_and_back_online() {
        let mut h = HealthTracker::new(3);
        assert_eq!(h.record(&ok()).map(|s| s.0), Some(HealthState::Online));
        assert_eq!(h.record(&fail()), None);
        assert_eq!(h.record(&fail()), None);
        let (state, detail) = h.record(&fail()).unwrap();
        assert_eq!(state, HealthState::Offline);
        assert!(detail.contains("3 failed polls"), "{detail}");
        assert_eq!(h.record(&fail()), None, "reported once");
        assert_eq!(h.record(&ok()).map(|s| s.0), Some(HealthState::Online));
    }

    #[test]
    fn exceptions_degrade_without_counting_as_failures() {
        let mut h = HealthTracker::new(1);
        let exc = PollOutcome::Answered {
            problems: vec!["exception 0x02".into()],
        };
        assert_eq!(
            h.record(&exc),
            Some((HealthState::Degraded, "exception 0x02".into()))
        );
        assert_eq!(h.failures(), 0);
        assert_eq!(h.record(&exc), None);
    }

    #[test]
    fn a_device_that_never_answers_is_reported_offline() {
        let mut h = HealthTracker::new(2);
        assert_eq!(h.record(&fail()), None);
        assert_eq!(h.record(&fail()).map(|s| s.0), Some(HealthState::Offline));
    }

    #[test]
    fn backoff_starts_once_offline_and_is_capped() {
        let s = Duration::from_secs;
        let d = |f| next_delay(s(2), f, 3, s(30));
        assert_eq!([d(0), d(1), d(2)], [s(2), s(2), s(2)]);
        assert_eq!([d(3), d(4), d(5), d(9)], [s(4), s(8), s(16), s(30)]);
    }

    #[test]
    fn inter_frame_gap_follows_baud_then_is_fixed() {
        assert_eq!(inter_frame_gap(9_600), Duration::from_micros(4_010));
        assert_eq!(inter_frame_gap(19_200), Duration::from_micros(2_005));
        assert_eq!(inter_frame_gap(115_200), Duration::from_micros(1_750));
    }

    proptest! {
        #[test]
        fn offline_is_reported_exactly_when_the_nth_failure_arrives(
            n in 1u32..6,
            outcomes in prop::collection::vec(any::<bool>(), 0..40),
        ) {
            let mut h = HealthTracker::new(n);
            let mut run = 0;
            for ok_poll in outcomes {
                let change = h.record(&if ok_poll { ok() } else { fail() });
                if ok_poll {
                    run = 0;
                } else {
                    run += 1;
                    let offline_now = change.as_ref().map(|c| c.0) == Some(HealthState::Offline);
                    prop_assert_eq!(offline_now, run == n);
                }
            }
        }

        #[test]
        fn delay_is_never_below_the_interval_nor_above_the_cap(
            f in 0u32..100, n in 1u32..10, i in 1u64..100, cap in 1u64..1000,
        ) {
            let d = next_delay(Duration::from_millis(i), f, n, Duration::from_millis(cap));
            prop_assert!(d >= Duration::from_millis(i));
            prop_assert!(d <= Duration::from_millis(cap.max(i)));
        }
    }
}
