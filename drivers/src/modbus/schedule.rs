//! When to poll a device: a fixed grid of due times, and which polls were missed. Pure: time is
//! passed in.
//!
//! The next poll is due one period after the *due time* of the previous one, not after its end,
//! so the time a poll takes never accumulates into drift (a 5 ms poll at 100 ms used to give
//! 9.6–9.75 polls/s). When a poll is started late — the device was slow, or on an RTU bus a
//! neighbour held the line — and whole periods have passed since its due time, the overdue
//! polls are not made up in a burst: the latest overdue slot is polled at once and the older
//! ones are skipped and counted as missed (tokio's `MissedTickBehavior::Skip`). The grid
//! then continues from that slot.
//!
//! [`MissedLog`] turns the missed count into a log line at a low, steady rate.

use std::time::Duration;

use tokio::time::Instant;

/// The poll grid of one device.
#[derive(Debug, Clone)]
pub struct PollClock {
    /// When the next poll is due.
    next: Instant,
    /// The grid slot the current poll serves (set by [`PollClock::begin`]).
    slot: Instant,
    /// The spacing of the grid since the last poll (the interval, or a backoff).
    period: Duration,
    missed: u64,
}

impl PollClock {
    /// A grid whose first poll is due at `start`.
    pub fn new(start: Instant, period: Duration) -> Self {
        Self {
            next: start,
            slot: start,
            period: period.max(Duration::from_millis(1)),
            missed: 0,
        }
    }

    /// When the next poll is due.
    pub fn due(&self) -> Instant {
        self.next
    }

    /// Polls missed so far.
    pub fn missed(&self) -> u64 {
        self.missed
    }

    /// A poll starts at `now` (at or after [`PollClock::due`]). Returns how many grid slots
    /// passed entirely before `now` and are skipped: the poll serves the latest slot at or
    /// before `now`.
    pub fn begin(&mut self, now: Instant) -> u64 {
        let late = now.saturating_duration_since(self.next);
        let skipped = u64::try_from(late.as_nanos() / self.period.as_nanos()).unwrap_or(u64::MAX);
        let step = u32::try_from(skipped)
            .ok()
            .and_then(|k| self.period.checked_mul(k))
            .unwrap_or(late);
        self.slot = self.next + step;
        self.missed = self.missed.saturating_add(skipped);
        skipped
    }

    /// The poll begun last is over; the next one is due `period` after its slot (the poll
    /// interval, or a longer backoff for a device that stopped answering).
    pub fn end(&mut self, period: Duration) {
        self.period = period.max(Duration::from_millis(1));
        self.next = self.slot + self.period;
    }
}

/// Rate-limits the "polls missed" warning: the first miss is reported at once, later ones
/// summed and reported at most once per `every`.
#[derive(Debug, Clone)]
pub struct MissedLog {
    every: Duration,
    last: Option<Instant>,
    pending: u64,
}

impl MissedLog {
    /// At most one report per `every`.
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            last: None,
            pending: 0,
        }
    }

    /// Notes `missed` polls at `now`; returns the count to report now, if a report is due.
    pub fn note(&mut self, now: Instant, missed: u64) -> Option<u64> {
        self.pending = self.pending.saturating_add(missed);
        if self.pending == 0 {
            return None;
        }
        if self
            .last
            .is_some_and(|last| now.saturating_duration_since(last) < self.every)
        {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Runs a device whose polls take `took[i % len]` for `run` of paused time with the real
    /// timer; returns (polls, missed, the start time of every poll relative to the first).
    async fn simulate(period: Duration, took: &[Duration], run: Duration) -> (u64, u64, Vec<u64>) {
        let t0 = Instant::now();
        let mut clock = PollClock::new(t0, period);
        let mut starts = Vec::new();
        let mut polls = 0;
        while clock.due() < t0 + run {
            tokio::time::sleep_until(clock.due()).await;
            clock.begin(Instant::now());
            starts.push(u64::try_from((Instant::now() - t0).as_millis()).unwrap());
            tokio::time::sleep(took[polls % took.len()]).await;
            polls += 1;
            clock.end(period);
        }
        (polls as u64, clock.missed(), starts)
    }

    #[tokio::test(start_paused = true)]
    async fn polls_keep_their_rate_whatever_each_poll_takes() {
        // (poll interval, time each poll takes, polls expected in 10 s, polls missed)
        let cases: [(u64, u64, u64, u64); 6] = [
            (100, 0, 100, 0),
            (100, 5, 100, 0),
            (100, 60, 100, 0),
            (100, 99, 100, 0),
            (1000, 300, 10, 0),
            (10_000, 40, 1, 0),
        ];
        for (interval, took, want, want_missed) in cases {
            let (polls, missed, starts) = simulate(
                Duration::from_millis(interval),
                &[Duration::from_millis(took)],
                Duration::from_secs(10),
            )
            .await;
            assert_eq!(
                (polls, missed),
                (want, want_missed),
                "interval {interval} ms, polls taking {took} ms"
            );
            let grid: Vec<u64> = (0..want).map(|k| k * interval).collect();
            assert_eq!(starts, grid, "polls start on the grid");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_poll_skips_and_counts_the_slots_it_overran() {
        // The first poll takes 250 ms, the others 5 ms: slots 100 and 200 ms pass during the
        // first; 100 is skipped and counted, 200 is polled at once, and the grid resumes.
        let mut took = vec![5 * MS; 20];
        took[0] = 250 * MS;
        let (polls, missed, starts) = simulate(100 * MS, &took, Duration::from_secs(1)).await;
        assert_eq!(&starts[..4], &[0, 250, 300, 400]);
        assert_eq!(missed, 1, "slot 100 ms");
        assert_eq!(polls + missed, 10, "every slot is either polled or counted");
    }

    #[tokio::test(start_paused = true)]
    async fn a_device_slower_than_its_interval_is_polled_back_to_back_with_misses_counted() {
        // 150 ms polls at 100 ms: slots alternate between a late poll and a miss.
        let (polls, missed, starts) = simulate(100 * MS, &[150 * MS], Duration::from_secs(3)).await;
        assert_eq!(&starts[..4], &[0, 150, 300, 450]);
        // Slots 0..=3000 ms: 21 polled (every 150 ms), 10 skipped (every other 100 ms slot).
        assert_eq!((polls, missed), (21, 10));
    }

    #[test]
    fn begin_on_time_serves_its_own_slot() {
        let t0 = Instant::now();
        let mut c = PollClock::new(t0, 100 * MS);
        // (start of the poll after t0, skipped, next due after t0)
        let table = [
            (0, 0, 100),
            (100, 0, 200),
            (299, 0, 300),
            (650, 3, 700),
            (700, 0, 800),
        ];
        for (start, skipped, next) in table {
            assert_eq!(c.begin(t0 + start * MS), skipped, "start {start}");
            c.end(100 * MS);
            assert_eq!(c.due(), t0 + next * MS, "start {start}");
        }
        assert_eq!(c.missed(), 3);
    }

    #[test]
    fn a_backoff_spaces_the_grid_without_counting_misses() {
        let t0 = Instant::now();
        let mut c = PollClock::new(t0, 100 * MS);
        c.begin(t0);
        c.end(400 * MS);
        assert_eq!(c.due(), t0 + 400 * MS);
        assert_eq!(c.begin(t0 + 400 * MS), 0);
        c.end(100 * MS);
        assert_eq!(c.due(), t0 + 500 * MS);
        assert_eq!(c.missed(), 0);
    }

    #[test]
    fn missed_polls_are_logged_at_once_then_at_most_once_a_minute() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut log = MissedLog::new(s(60));
        // (seconds after t0, polls missed now, what to report)
        let table = [
            (0, 0, None),
            (1, 2, Some(2)),
            (2, 1, None),
            (30, 4, None),
            (61, 0, Some(5)),
            (62, 0, None),
            (200, 0, None),
            (201, 1, Some(1)),
        ];
        for (at, missed, want) in table {
            assert_eq!(log.note(t0 + s(at), missed), want, "at {at} s");
        }
    }
}
