//! Login throttling per source address and per user name: pure, time passed in as a value.
//!
//! Every attempt is counted when it starts, before its password is verified, so concurrent
//! attempts see each other (a burst of 100 wrong logins is not verified 100 times).
//!
//! - Per address: [`ADDR_FREE`] failures (and attempts still being verified) within
//!   [`WINDOW`] are free; beyond them an address gets one attempt at a time, each after a delay
//!   that doubles from [`ADDR_FIRST_DELAY`] up to [`ADDR_MAX_DELAY`]; earlier attempts are refused
//!   with a `Retry-After`. A guessing machine is slowed where it stands.
//! - Per user name: [`USER_FREE`] failures are free; beyond them every attempt for that name,
//!   from anywhere, is *held* for a delay that doubles from [`USER_FIRST_DELAY`] up to
//!   [`USER_MAX_DELAY`] before it is verified — never refused. Attacks spread over many addresses
//!   are slowed, yet an attacker cannot lock a nurse on shift out: her right password from her
//!   own station still gets in, at worst [`USER_MAX_DELAY`] later.
//!
//! A success clears the user name; an address's failures only age out (a valid account must not
//! reset a guessing machine). Unknown names are throttled like known ones, so the limiter does
//! not reveal which accounts exist. Memory is bounded: stale entries are forgotten first.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::Duration;

use pingan_drivers::Timestamp;

/// Failures an address may have within [`WINDOW`] before it is slowed.
pub(crate) const ADDR_FREE: u32 = 10;
/// The first delay of a slowed address.
pub(crate) const ADDR_FIRST_DELAY: Duration = Duration::from_secs(1);
/// The longest delay of a slowed address.
pub(crate) const ADDR_MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Failures a user name may have within [`WINDOW`] before its attempts are held.
pub(crate) const USER_FREE: u32 = 5;
/// The first hold of a slowed user name.
pub(crate) const USER_FIRST_DELAY: Duration = Duration::from_millis(500);
/// The longest hold of a slowed user name: the worst a nurse waits while her name is attacked.
pub(crate) const USER_MAX_DELAY: Duration = Duration::from_secs(8);
/// Failures older than this (counted from the last one) are forgotten.
pub(crate) const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Entries tracked per kind at most.
const MAX_TRACKED: usize = 10_000;

/// Whether an attempt may go ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Verify after holding the attempt for `hold`; report the outcome with
    /// [`Throttle::finish`].
    Go {
        /// How long to hold the attempt first.
        hold: Duration,
    },
    /// Refused without verification: this address must wait.
    Refuse {
        /// Until the address may try again.
        retry_after: Duration,
    },
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    pending: u32,
    last: Timestamp,
}

impl Entry {
    fn fresh(now: Timestamp) -> Self {
        Self {
            failures: 0,
            pending: 0,
            last: now,
        }
    }

    /// Failures still inside the window at `now`.
    fn failures(&self, now: Timestamp) -> u32 {
        if now.since(self.last) >= WINDOW && now >= self.last {
            0
        } else {
            self.failures
        }
    }
}

#[derive(Debug)]
struct Table<K> {
    map: HashMap<K, Entry>,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn new() -> Self {
        Self {
            map: HashMap::new(),
        }
    }

    fn get(&self, k: &K, now: Timestamp) -> Entry {
        let mut e = self.map.get(k).copied().unwrap_or(Entry::fresh(now));
        e.failures = e.failures(now);
        e
    }

    fn entry(&mut self, k: &K, now: Timestamp) -> &mut Entry {
        if !self.map.contains_key(k) && self.map.len() >= MAX_TRACKED {
            self.evict(now);
        }
        let e = self.map.entry(k.clone()).or_insert(Entry::fresh(now));
        e.failures = e.failures(now);
        e
    }

    fn evict(&mut self, now: Timestamp) {
        self.map.retain(|_, e| e.pending > 0 || e.failures(now) > 0);
        if self.map.len() >= MAX_TRACKED {
            let mut by_age: Vec<(Timestamp, K)> =
                self.map.iter().map(|(k, e)| (e.last, k.clone())).collect();
            by_age.sort_by_key(|(t, _)| *t);
            for (_, k) in by_age.into_iter().take(MAX_TRACKED / 10) {
                self.map.remove(&k);
            }
        }
    }
}

/// Doubling delay for the `n`-th attempt beyond the free ones (n = 0 is the first).
fn doubling(first: Duration, max: Duration, n: u32) -> Duration {
    first.saturating_mul(1u32 << n.min(20)).min(max)
}

/// Login attempts by address and by user name.
#[derive(Debug)]
pub(crate) struct Throttle {
    addrs: Table<IpAddr>,
    users: Table<String>,
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            addrs: Table::new(),
            users: Table::new(),
        }
    }
}

impl Throttle {
    /// An attempt from `addr` for `user` starts at `now`: counted at once if it may go ahead.
    pub(crate) fn begin(&mut self, addr: IpAddr, user: &str, now: Timestamp) -> Gate {
        let a = self.addrs.get(&addr, now);
        if a.failures + a.pending >= ADDR_FREE {
            let over = a.failures.saturating_sub(ADDR_FREE);
            let ready = a
                .last
                .plus(doubling(ADDR_FIRST_DELAY, ADDR_MAX_DELAY, over));
            if a.pending > 0 || now < ready {
                let retry_after = if now < ready {
                    ready.since(now)
                } else {
                    ADDR_FIRST_DELAY
                };
                return Gate::Refuse { retry_after };
            }
        }
        let u = self.users.get(&user.to_owned(), now);
        let seen = u.failures + u.pending;
        let hold = if seen >= USER_FREE {
            doubling(USER_FIRST_DELAY, USER_MAX_DELAY, seen - USER_FREE)
        } else {
            Duration::ZERO
        };
        self.addrs.entry(&addr, now).pending += 1;
        self.users.entry(&user.to_owned(), now).pending += 1;
        Gate::Go { hold }
    }

    /// The attempt that [`Throttle::begin`] let go ahead ended: `ok` when the password was
    /// right.
    pub(crate) fn finish(&mut self, addr: IpAddr, user: &str, ok: bool, now: Timestamp) {
        let a = self.addrs.entry(&addr, now);
        a.pending = a.pending.saturating_sub(1);
        if !ok {
            a.failures = a.failures.saturating_add(1);
            a.last = now;
        }
        if ok {
            self.users.map.remove(user);
            return;
        }
        let u = self.users.entry(&user.to_owned(), now);
        u.pending = u.pending.saturating_sub(1);
        u.failures = u.failures.saturating_add(1);
        u.last = now;
    }

    /// A failure that needed no verification (a name that cannot exist): counts for the address.
    pub(crate) fn failure_without_attempt(&mut self, addr: IpAddr, now: Timestamp) {
        let a = self.addrs.entry(&addr, now);
        a.failures = a.failures.saturating_add(1);
        a.last = now;
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.addrs.map.len() + self.users.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp(1_700_000_000_000);
    const ATTACKER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 66));
    const STATION: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 7));

    fn fail(t: &mut Throttle, addr: IpAddr, user: &str, now: Timestamp) -> Gate {
        let g = t.begin(addr, user, now);
        if matches!(g, Gate::Go { .. }) {
            t.finish(addr, user, false, now);
        }
        g
    }

    #[test]
    fn concurrent_attempts_are_counted_before_verification() {
        let mut t = Throttle::default();
        let mut went = 0;
        for _ in 0..100 {
            if matches!(t.begin(ATTACKER, "li", T0), Gate::Go { .. }) {
                went += 1;
            }
        }
        assert_eq!(
            went, ADDR_FREE,
            "only the free attempts go to verification at once"
        );
    }

    #[test]
    fn a_guessing_address_is_refused_with_a_growing_retry_after() {
        let mut t = Throttle::default();
        for i in 0..ADDR_FREE {
            assert!(matches!(
                fail(&mut t, ATTACKER, &format!("u{i}"), T0),
                Gate::Go { .. }
            ));
        }
        assert_eq!(
            t.begin(ATTACKER, "x", T0),
            Gate::Refuse {
                retry_after: ADDR_FIRST_DELAY
            }
        );
        let t1 = T0.plus(ADDR_FIRST_DELAY);
        assert!(matches!(fail(&mut t, ATTACKER, "x", t1), Gate::Go { .. }));
        assert_eq!(
            t.begin(ATTACKER, "x", t1),
            Gate::Refuse {
                retry_after: ADDR_FIRST_DELAY * 2
            }
        );
        assert!(
            matches!(t.begin(STATION, "x", t1), Gate::Go { .. }),
            "other addresses are not affected"
        );
        let later = t1.plus(WINDOW);
        assert!(
            matches!(t.begin(ATTACKER, "x", later), Gate::Go { hold } if hold.is_zero() || hold <= USER_MAX_DELAY)
        );
    }

    #[test]
    fn an_attacked_user_is_held_never_locked_out() {
        let mut t = Throttle::default();
        // The attacker spreads over many addresses, so no address is slowed.
        for i in 0..200u8 {
            let addr = IpAddr::V4(std::net::Ipv4Addr::new(10, 1, 0, i));
            fail(&mut t, addr, "li.na", T0);
        }
        match t.begin(STATION, "li.na", T0) {
            Gate::Go { hold } => assert_eq!(hold, USER_MAX_DELAY),
            g => panic!("the nurse's own station must not be refused: {g:?}"),
        }
        t.finish(STATION, "li.na", true, T0);
        assert_eq!(
            t.begin(STATION, "li.na", T0),
            Gate::Go {
                hold: Duration::ZERO
            }
        );
    }

    #[test]
    fn user_holds_grow_from_the_first_delay() {
        let mut t = Throttle::default();
        for _ in 0..USER_FREE {
            fail(&mut t, STATION, "li", T0);
        }
        assert_eq!(
            t.begin(ATTACKER, "li", T0),
            Gate::Go {
                hold: USER_FIRST_DELAY
            }
        );
        assert_eq!(
            t.begin(ATTACKER, "li", T0),
            Gate::Go {
                hold: USER_FIRST_DELAY * 2
            }
        );
    }

    #[test]
    fn many_made_up_names_and_addresses_do_not_grow_memory_without_bound() {
        let mut t = Throttle::default();
        for i in 0..(MAX_TRACKED as u32 + 500) {
            let addr = IpAddr::V4(std::net::Ipv4Addr::from(i));
            fail(&mut t, addr, &format!("u{i}"), T0);
        }
        assert!(t.tracked() <= 2 * MAX_TRACKED);
    }
}
