//! Token buckets by key, pure (the time is passed in): each key may act `burst` times at once and
//! earns one more go per `refill`. Used where a flood from one source must not starve others:
//! connects per MQTT client id, device commands per device and per sender. The number of keys is
//! bounded, so a flood of made-up keys cannot grow memory.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

/// Token buckets keyed by text.
#[derive(Debug)]
pub struct RateLimit {
    burst: u32,
    refill: Duration,
    max_keys: usize,
    /// Key → (tokens, as of).
    map: HashMap<String, (f64, Instant)>,
}

impl RateLimit {
    /// `burst` goes at once per key, one more per `refill`; at most `max_keys` keys tracked
    /// (beyond it, keys whose bucket is full again are forgotten first, then the longest idle).
    pub fn new(burst: u32, refill: Duration, max_keys: usize) -> Self {
        Self {
            burst: burst.max(1),
            refill: refill.max(Duration::from_millis(1)),
            max_keys: max_keys.max(1),
            map: HashMap::new(),
        }
    }

    fn level(&self, tokens: f64, since: Instant, now: Instant) -> f64 {
        let earned = now.saturating_duration_since(since).as_secs_f64() / self.refill.as_secs_f64();
        (tokens + earned).min(f64::from(self.burst))
    }

    /// Takes a token for `key` if one is there.
    pub fn take(&mut self, key: &str, now: Instant) -> bool {
        if !self.map.contains_key(key) && self.map.len() >= self.max_keys {
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

    /// Keys tracked now.
    pub fn tracked(&self) -> usize {
        self.map.len()
    }

    fn evict(&mut self, now: Instant) {
        let full = f64::from(self.burst);
        let before = self.map.len();
        let refill = self.refill.as_secs_f64();
        self.map.retain(|_, (t, since)| {
            *t + now.saturating_duration_since(*since).as_secs_f64() / refill < full
        });
        if self.map.len() == before {
            let mut by_age: Vec<(Instant, String)> = self
                .map
                .iter()
                .map(|(k, (_, at))| (*at, k.clone()))
                .collect();
            by_age.sort();
            let n = (self.max_keys / 8).max(1);
            for (_, k) in by_age.into_iter().take(n) {
                self.map.remove(&k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_takes_a_burst_then_one_per_refill() {
        let t0 = Instant::now();
        let mut r = RateLimit::new(2, Duration::from_secs(5), 100);
        assert!(r.take("a", t0));
        assert!(r.take("a", t0));
        assert!(!r.take("a", t0));
        assert!(r.take("b", t0), "keys are independent");
        assert!(!r.take("a", t0 + Duration::from_secs(4)));
        assert!(r.take("a", t0 + Duration::from_secs(10)));
    }

    #[test]
    fn made_up_keys_do_not_grow_memory_without_bound() {
        let t0 = Instant::now();
        let mut r = RateLimit::new(1, Duration::from_secs(60), 100);
        for i in 0..1000 {
            r.take(&format!("k{i}"), t0);
        }
        assert!(r.tracked() <= 100);
    }
}
