//! Repeated identical problems logged at a steady, low rate: the first occurrence at once, then
//! at most one line per period carrying how many occurrences it stands for. A broker that is
//! down for a night or a disk that stays full must be visible in the log without filling it
//! (the log often lives on the same disk).

use std::time::Duration;

use tokio::time::Instant;

/// One kind of repeated problem.
#[derive(Debug, Clone)]
pub struct LogLimit {
    period: Duration,
    last: Option<Instant>,
    /// Occurrences not logged since the last line.
    pending: u64,
    /// Occurrences since the problem started.
    total: u64,
}

/// Whether to log an occurrence now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Log it; `repeats` occurrences happened since the previous line (0 for the first).
    Log { repeats: u64, total: u64 },
    /// Count it silently.
    Quiet,
}

impl LogLimit {
    /// At most one line per `period`.
    pub fn new(period: Duration) -> Self {
        Self {
            period,
            last: None,
            pending: 0,
            total: 0,
        }
    }

    /// One more occurrence at `now`.
    pub fn hit(&mut self, now: Instant) -> Verdict {
        self.total += 1;
        match self.last {
            Some(t) if now.saturating_duration_since(t) < self.period => {
                self.pending += 1;
                Verdict::Quiet
            }
            _ => {
                self.last = Some(now);
                let repeats = std::mem::take(&mut self.pending);
                Verdict::Log {
                    repeats,
                    total: self.total,
                }
            }
        }
    }

    /// The problem is over: returns how many occurrences it had (0 if none), and starts afresh.
    pub fn clear(&mut self) -> u64 {
        let total = self.total;
        *self = Self::new(self.period);
        total
    }

    /// Occurrences since the problem started.
    pub fn total(&self) -> u64 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_hit_logs_then_one_line_per_period_with_the_count() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut l = LogLimit::new(Duration::from_secs(60));
        let cases = [
            (
                0,
                Verdict::Log {
                    repeats: 0,
                    total: 1,
                },
            ),
            (500, Verdict::Quiet),
            (59_999, Verdict::Quiet),
            (
                60_000,
                Verdict::Log {
                    repeats: 2,
                    total: 4,
                },
            ),
            (60_001, Verdict::Quiet),
            (
                200_000,
                Verdict::Log {
                    repeats: 1,
                    total: 6,
                },
            ),
        ];
        for (ms, want) in cases {
            assert_eq!(l.hit(at(ms)), want, "at {ms} ms");
        }
        assert_eq!(l.clear(), 6);
        assert_eq!(
            l.hit(at(200_001)),
            Verdict::Log {
                repeats: 0,
                total: 1
            }
        );
    }
}
