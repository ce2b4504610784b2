//! Rate limits for people's device commands: token buckets per device and per sender, pure (the
//! time is passed in). A guard silences a sounder or resets a detector a few times an hour; a
//! flood of commands must not keep a Modbus bus busy, fill the results outbox or delay an alert.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

/// Commands one device takes in a burst.
pub(super) const DEVICE_BURST: u32 = 3;
/// After the burst, one command per device per this.
pub(super) const DEVICE_REFILL: Duration = Duration::from_secs(5);
/// Commands one sender (link + person) may send in a burst.
pub(super) const SENDER_BURST: u32 = 10;
/// After the burst, one command per sender per this.
pub(super) const SENDER_REFILL: Duration = Duration::from_secs(2);
/// Keys tracked per kind at most; beyond it, the longest-idle keys are forgotten first, so a
/// flood of made-up device ids or names cannot grow memory.
const MAX_KEYS: usize = 1024;

/// Why a command was not let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Limited {
    /// This sender sent too many commands.
    Sender,
    /// This device was sent too many commands.
    Device,
}

/// Token buckets keyed by text.
#[derive(Debug)]
struct Buckets {
    burst: u32,
    refill: Duration,
    /// Key → (tokens, as of).
    map: HashMap<String, (f64, Instant)>,
}

impl Buckets {
    fn new(burst: u32, refill: Duration) -> Self {
        Self {
            burst,
            refill,
            map: HashMap::new(),
        }
    }

    fn level(&self, tokens: f64, since: Instant, now: Instant) -> f64 {
        let earned = now.saturating_duration_since(since).as_secs_f64() / self.refill.as_secs_f64();
        (tokens + earned).min(f64::from(self.burst))
    }

    /// Takes a token for `key` if one is there.
    fn take(&mut self, key: &str, now: Instant) -> bool {
        if !self.map.contains_key(key) && self.map.len() >= MAX_KEYS {
            self.evict(now);
        }
        let full = f64::from(self.burst);
        let (tokens, since) = self.map.get(key).copied().unwrap_or((full, now));
        let level = self.level(tokens, since, now);
        let ok = level >= 1.0;
        let left = if ok { level - 1.0 } else { level };
        self.map.insert(key.to_owned(), (left, now));
        ok
    }

    fn evict(&mut self, now: Instant) {
        let full = f64::from(self.burst);
        let before = self.map.len();
        let refill = self.refill;
        self.map.retain(|_, (t, since)| {
            let earned = now.saturating_duration_since(*since).as_secs_f64() / refill.as_secs_f64();
            *t + earned < full
        });
        if self.map.len() == before {
            let mut by_age: Vec<(Instant, String)> = self
                .map
                .iter()
                .map(|(k, (_, at))| (*at, k.clone()))
                .collect();
            by_age.sort();
            for (_, k) in by_age.into_iter().take(MAX_KEYS / 8) {
                self.map.remove(&k);
            }
        }
    }
}

/// The limits of the device-command task.
#[derive(Debug)]
pub(super) struct DeviceLimit {
    devices: Buckets,
    senders: Buckets,
}

impl Default for DeviceLimit {
    fn default() -> Self {
        Self {
            devices: Buckets::new(DEVICE_BURST, DEVICE_REFILL),
            senders: Buckets::new(SENDER_BURST, SENDER_REFILL),
        }
    }
}

impl DeviceLimit {
    /// Whether `sender` may send a command to `device` at `now` (and counts it).
    pub(super) fn check(
        &mut self,
        sender: &str,
        device: &str,
        now: Instant,
    ) -> Result<(), Limited> {
        if !self.senders.take(sender, now) {
            return Err(Limited::Sender);
        }
        if !self.devices.take(device, now) {
            return Err(Limited::Device);
        }
        Ok(())
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.devices.map.len() + self.senders.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_takes_a_burst_then_one_command_per_refill() {
        let t0 = Instant::now();
        let mut l = DeviceLimit::default();
        for i in 0..DEVICE_BURST {
            assert_eq!(l.check(&format!("s{i}"), "smoke-1", t0), Ok(()));
        }
        assert_eq!(l.check("other", "smoke-1", t0), Err(Limited::Device));
        assert_eq!(
            l.check("other", "smoke-2", t0),
            Ok(()),
            "other devices are not affected"
        );
        assert_eq!(l.check("other", "smoke-1", t0 + DEVICE_REFILL), Ok(()));
        assert_eq!(
            l.check("other", "smoke-1", t0 + DEVICE_REFILL),
            Err(Limited::Device)
        );
    }

    #[test]
    fn a_sender_takes_a_burst_across_devices_then_is_refused() {
        let t0 = Instant::now();
        let mut l = DeviceLimit::default();
        for i in 0..SENDER_BURST {
            assert_eq!(l.check("local/mallory", &format!("d{i}"), t0), Ok(()));
        }
        assert_eq!(l.check("local/mallory", "d-new", t0), Err(Limited::Sender));
        assert_eq!(l.check("local/guard", "d-new", t0), Ok(()));
        assert_eq!(l.check("local/mallory", "d-x", t0 + SENDER_REFILL), Ok(()));
    }

    #[test]
    fn made_up_keys_do_not_grow_memory_without_bound() {
        let t0 = Instant::now();
        let mut l = DeviceLimit::default();
        for i in 0..(3 * MAX_KEYS) {
            let _ = l.check(&format!("s{i}"), &format!("d{i}"), t0);
        }
        assert!(l.tracked() <= 2 * MAX_KEYS);
    }
}
