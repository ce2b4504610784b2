//! Failed-login throttling per user name: pure, time passed in as a value.
//!
//! After [`FREE_FAILURES`] consecutive failures a name is locked for [`FIRST_LOCK`], doubling with
//! every further failure up to [`MAX_LOCK`]. A success clears the name. Unknown names are
//! throttled the same way, so the limiter does not reveal which accounts exist.

use std::collections::HashMap;
use std::time::Duration;

use pingan_drivers::Timestamp;

/// Failures allowed before the first lock.
pub(crate) const FREE_FAILURES: u32 = 5;
/// Length of the first lock.
pub(crate) const FIRST_LOCK: Duration = Duration::from_secs(30);
/// Longest lock.
pub(crate) const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
/// Names tracked at most; beyond it entries whose lock has expired are forgotten first, so a
/// flood of made-up names cannot exhaust memory.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    locked_until: Option<Timestamp>,
    last_failure: Timestamp,
}

/// Failed-login counters.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    entries: HashMap<String, Entry>,
}

impl Throttle {
    /// `Err(wait)` while `name` is locked at `now`.
    pub(crate) fn check(&self, name: &str, now: Timestamp) -> Result<(), Duration> {
        match self.entries.get(name).and_then(|e| e.locked_until) {
            Some(until) if now < until => Err(until.since(now)),
            _ => Ok(()),
        }
    }

    /// Records a failed login.
    pub(crate) fn failure(&mut self, name: &str, now: Timestamp) {
        if !self.entries.contains_key(name) && self.entries.len() >= MAX_TRACKED {
            self.evict(now);
        }
        let e = self.entries.entry(name.to_owned()).or_insert(Entry {
            failures: 0,
            locked_until: None,
            last_failure: now,
        });
        e.failures = e.failures.saturating_add(1);
        e.last_failure = now;
        if e.failures >= FREE_FAILURES {
            let doublings = (e.failures - FREE_FAILURES).min(16);
            let lock = FIRST_LOCK.saturating_mul(1 << doublings).min(MAX_LOCK);
            e.locked_until = Some(now.plus(lock));
        }
    }

    /// Records a successful login: the name starts afresh.
    pub(crate) fn success(&mut self, name: &str) {
        self.entries.remove(name);
    }

    fn evict(&mut self, now: Timestamp) {
        self.entries
            .retain(|_, e| e.locked_until.is_some_and(|until| now < until));
        if self.entries.len() >= MAX_TRACKED {
            // Every tracked name is locked: forget the oldest failures rather than grow.
            let mut by_age: Vec<(Timestamp, String)> = self
                .entries
                .iter()
                .map(|(k, e)| (e.last_failure, k.clone()))
                .collect();
            by_age.sort();
            for (_, k) in by_age.into_iter().take(MAX_TRACKED / 10) {
                self.entries.remove(&k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp(1_700_000_000_000);

    #[test]
    fn allows_a_few_failures_then_locks_the_name() {
        let mut t = Throttle::default();
        for _ in 0..FREE_FAILURES - 1 {
            t.failure("li", T0);
            assert!(t.check("li", T0).is_ok());
        }
        t.failure("li", T0);
        assert_eq!(t.check("li", T0), Err(FIRST_LOCK));
        assert!(t.check("wang", T0).is_ok(), "other names are not affected");
        assert!(t.check("li", T0.plus(FIRST_LOCK)).is_ok());
    }

    #[test]
    fn lock_doubles_with_each_further_failure_up_to_the_maximum() {
        let mut t = Throttle::default();
        for _ in 0..FREE_FAILURES + 1 {
            t.failure("li", T0);
        }
        assert_eq!(t.check("li", T0), Err(FIRST_LOCK * 2));
        for _ in 0..40 {
            t.failure("li", T0);
        }
        assert_eq!(t.check("li", T0), Err(MAX_LOCK));
    }

    #[test]
    fn success_clears_the_failures() {
        let mut t = Throttle::default();
        for _ in 0..FREE_FAILURES - 1 {
            t.failure("li", T0);
        }
        t.success("li");
        t.failure("li", T0);
        assert!(t.check("li", T0).is_ok());
    }

    #[test]
    fn many_made_up_names_do_not_grow_memory_without_bound() {
        let mut t = Throttle::default();
        for i in 0..(MAX_TRACKED + 500) {
            t.failure(&format!("u{i}"), T0);
        }
        assert!(t.entries.len() <= MAX_TRACKED);
    }
}
