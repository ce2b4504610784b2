//! Where the running gateway reads the time.
//!
//! The pure parts (alert engine, analytics rules) take the time as a value. The I/O side reads it
//! from one [`Clock`] that the service is given, instead of calling the system clock wherever it
//! needs one: production uses [`SystemClock`]; tests use [`TokioClock`], whose wall time moves
//! with tokio's clock, so under `tokio::time::pause()` an escalation timeout of minutes passes
//! in microseconds of real time and the result does not depend on how loaded the machine is.

use std::sync::Arc;

use pingan_drivers::Timestamp;

/// A source of wall-clock time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The time now (UTC, ms).
    fn now(&self) -> Timestamp;
}

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

/// Wall time that advances with tokio's clock from a starting point: paused tokio time pauses it,
/// `tokio::time::advance` moves it.
#[derive(Debug, Clone)]
pub struct TokioClock {
    start_wall: Timestamp,
    start: tokio::time::Instant,
}

impl TokioClock {
    /// A clock reading `at` now and moving with tokio's time from here on.
    pub fn starting_at(at: Timestamp) -> Self {
        Self {
            start_wall: at,
            start: tokio::time::Instant::now(),
        }
    }

    /// [`TokioClock::starting_at`] the system time, shared.
    pub fn shared() -> SharedClock {
        Arc::new(Self::starting_at(Timestamp::now()))
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        self.start_wall.plus(self.start.elapsed())
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
    }
}
