//! Reconnection delays, without I/O: start at `min`, double per failed or short-lived connection
//! up to `max`; a connection that stayed up for `stable` starts the series again. A device that
//! walked out of range is retried often at first and then gently, so the radio stays free for the
//! devices in range.

use std::time::Duration;

/// The reconnection delay series of one device.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    stable: Duration,
    next: Duration,
}

impl Backoff {
    /// A series from `min` to `max`, reset by a connection that lasted `stable`.
    pub fn new(min: Duration, max: Duration, stable: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
            stable,
            next: min,
        }
    }

    /// The delay before the next attempt, given how long the last connection lasted (zero when
    /// it never came up).
    pub fn after(&mut self, lasted: Duration) -> Duration {
        if lasted >= self.stable {
            self.next = self.min;
        }
        let delay = self.next;
        self.next = self.next.checked_mul(2).unwrap_or(self.max).min(self.max);
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn failures_double_the_delay_up_to_the_cap() {
        let mut b = Backoff::new(2 * S, 60 * S, 60 * S);
        let delays: Vec<u64> = (0..8).map(|_| b.after(Duration::ZERO).as_secs()).collect();
        assert_eq!(delays, [2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn a_stable_connection_resets_the_series() {
        let mut b = Backoff::new(2 * S, 60 * S, 60 * S);
        b.after(Duration::ZERO);
        b.after(Duration::ZERO);
        assert_eq!(b.after(10 * S), 8 * S); // short-lived: keeps backing off
        assert_eq!(b.after(90 * S), 2 * S); // stayed up: start again
        assert_eq!(b.after(Duration::ZERO), 4 * S);
    }
}
