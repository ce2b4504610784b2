//! Where the running gateway reads the time.
//!
//! The pure parts (alert engine, analytics rules) take the time as a value. The I/O side reads it
//! from one [`Clock`] that the service is given, instead of calling the system clock wherever it
//! needs one. Production uses [`MonotonicClock`]: wall time advanced by the monotonic clock, so a
//! jump of the system clock (NTP, a box without RTC that boots in 1970) never stretches or cuts a
//! running timer; the jump is reported through [`Clock::take_jump`] and the alert engine moves its
//! deadlines with it. Tests use [`TokioClock`], whose wall time moves with tokio's clock, so under
//! `tokio::time::pause()` an escalation timeout of minutes passes in microseconds of real time.

use std::sync::{Arc, Mutex};

use pingan_drivers::Timestamp;

/// A source of wall-clock time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The time now (UTC, ms).
    fn now(&self) -> Timestamp;

    /// How far (ms) the system clock jumped since the last call, if it did; from then on
    /// [`Clock::now`] follows the new system time.
    fn take_jump(&self) -> Option<i64> {
        None
    }
}

/// A difference between the system clock and the monotonic clock larger than this is a jump,
/// not drift.
pub const JUMP_TOLERANCE_MS: i64 = 2_000;

/// The earliest time the gateway believes a system clock: a clock before it has not been set
/// (no RTC, no NTP yet). 2026-01-01T00:00:00Z, before this release.
pub const EARLIEST_PLAUSIBLE: Timestamp = Timestamp(1_767_225_600_000);

/// A clock shared by every task of one gateway.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

impl SystemClock {
    /// The system clock as a [`SharedClock`].
    pub fn shared() -> SharedClock {
        Arc::new(Self)
    }
}

/// Wall time as of the last jump plus monotonic time since: see the module docs.
#[derive(Debug)]
pub struct MonotonicClock {
    base: Mutex<(Timestamp, std::time::Instant)>,
}

impl MonotonicClock {
    /// A clock starting at the system time.
    pub fn new() -> Self {
        Self {
            base: Mutex::new((Timestamp::now(), std::time::Instant::now())),
        }
    }

    /// [`MonotonicClock::new`], shared.
    pub fn shared() -> SharedClock {
        Arc::new(Self::new())
    }

    fn base(&self) -> (Timestamp, std::time::Instant) {
        *self
            .base
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Timestamp {
        let (wall, at) = self.base();
        wall.plus(at.elapsed())
    }

    fn take_jump(&self) -> Option<i64> {
        let system = Timestamp::now();
        let mut base = self
            .base
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let ours = base.0.plus(base.1.elapsed());
        let delta = system.millis().saturating_sub(ours.millis());
        if delta.abs() <= JUMP_TOLERANCE_MS {
            return None;
        }
        *base = (system, std::time::Instant::now());
        Some(delta)
    }
}

/// Wall time that advances with tokio's clock from a starting point: paused tokio time pauses it,
/// `tokio::time::advance` moves it, [`TokioClock::jump`] simulates a jump of the system clock.
#[derive(Debug)]
pub struct TokioClock {
    start_wall: Mutex<Timestamp>,
    start: tokio::time::Instant,
    pending_jump: Mutex<Option<i64>>,
}

impl TokioClock {
    /// A clock reading `at` now and moving with tokio's time from here on.
    pub fn starting_at(at: Timestamp) -> Self {
        Self {
            start_wall: Mutex::new(at),
            start: tokio::time::Instant::now(),
            pending_jump: Mutex::new(None),
        }
    }

    /// The system clock jumps by `delta_ms` now.
    pub fn jump(&self, delta_ms: i64) {
        let mut w = self
            .start_wall
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *w = Timestamp(w.millis().saturating_add(delta_ms));
        let mut p = self
            .pending_jump
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *p = Some(p.unwrap_or(0) + delta_ms);
    }

    /// [`TokioClock::starting_at`] the system time, shared.
    pub fn shared() -> SharedClock {
        Arc::new(Self::starting_at(Timestamp::now()))
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        let w = *self
            .start_wall
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        w.plus(self.start.elapsed())
    }

    fn take_jump(&self) -> Option<i64> {
        self.pending_jump
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_moves_only_with_tokio_time() {
        let c = TokioClock::starting_at(Timestamp(1_000));
        assert_eq!(c.now(), Timestamp(1_000));
        tokio::time::advance(Duration::from_secs(90)).await;
        assert_eq!(c.now(), Timestamp(91_000));
        c.jump(-60_000);
        assert_eq!(c.now(), Timestamp(31_000));
        assert_eq!(c.take_jump(), Some(-60_000));
        assert_eq!(c.take_jump(), None);
    }

    #[test]
    fn monotonic_clock_follows_the_system_clock_when_nothing_jumps() {
        let c = MonotonicClock::new();
        assert_eq!(c.take_jump(), None);
        let drift = c.now().millis() - Timestamp::now().millis();
        assert!(drift.abs() < JUMP_TOLERANCE_MS, "{drift}");
    }
}
