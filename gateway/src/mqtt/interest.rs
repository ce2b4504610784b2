//! Who listens on the embedded broker: the topic filters of every connected client, as the front
//! reads them from their SUBSCRIBE and UNSUBSCRIBE packets (`mqtt::subscribe_packet`). The
//! pipeline publishes a device's readings on its local topic only while some filter matches it:
//! publishing and routing readings nobody receives was the broker's largest cost on a busy box.
//!
//! Conservative on purpose: a client whose packets could not be followed, or with more than
//! [`MAX_FILTERS`] filters, counts as interested in everything; a subscription the broker
//! refuses still counts. Only live connections count: a persistent session's subscriptions end
//! with its connection here (rumqttd does not queue QoS 0 readings for absent clients anyway).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::subscribe_packet::Change;

/// Filters kept per connection; more make the connection "interested in everything". Small on
/// purpose: a change makes the pipeline match each device's topic against every filter again, so
/// the total (connections × filters) bounds what a client churning subscriptions can cost.
pub const MAX_FILTERS: usize = 32;

#[derive(Debug, Default)]
struct Conn {
    filters: Vec<String>,
    everything: bool,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    conns: HashMap<u64, Conn>,
}

/// The subscriptions of the embedded broker's clients.
#[derive(Debug, Default)]
pub struct Interest {
    inner: Mutex<Inner>,
    /// Bumped on every change, so readers recompute only then.
    generation: AtomicU64,
}

impl Interest {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new connection with no subscriptions; it leaves when the handle is dropped.
    pub fn open(self: &Arc<Self>) -> Subscriber {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        inner.conns.insert(id, Conn::default());
        Subscriber {
            interest: self.clone(),
            id,
        }
    }

    /// Changes whenever any subscription changes.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether any connected client's filter matches `topic`.
    pub fn wants(&self, topic: &str) -> bool {
        self.lock()
            .conns
            .values()
            .any(|c| c.everything || c.filters.iter().any(|f| matches(f, topic)))
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

/// One client connection's part of [`Interest`].
#[derive(Debug)]
pub struct Subscriber {
    interest: Arc<Interest>,
    id: u64,
}

impl Subscriber {
    /// Applies what the client's packets changed.
    pub fn apply(&self, change: Change) {
        {
            let mut inner = self.interest.lock();
            let Some(conn) = inner.conns.get_mut(&self.id) else {
                return;
            };
            match change {
                Change::Subscribe(filters) => {
                    for f in filters {
                        if !conn.filters.contains(&f) {
                            conn.filters.push(f);
                        }
                    }
                    if conn.filters.len() > MAX_FILTERS {
                        conn.filters = Vec::new();
                        conn.everything = true;
                    }
                }
                Change::Unsubscribe(filters) => conn.filters.retain(|f| !filters.contains(f)),
                Change::Everything => {
                    conn.filters = Vec::new();
                    conn.everything = true;
                }
            }
        }
        self.interest.bump();
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.interest.lock().conns.remove(&self.id);
        self.interest.bump();
    }
}

/// MQTT 3.1.1 topic-filter matching (§4.7): `+` one level, `#` this level and every one below,
/// wildcards at the first level do not match `$` topics; `$share/{group}/` is stripped.
pub fn matches(filter: &str, topic: &str) -> bool {
    let filter = match filter.strip_prefix("$share/") {
        Some(rest) => match rest.split_once('/') {
            Some((_, f)) => f,
            None => return false,
        },
        None => filter,
    };
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_matching_follows_the_spec() {
        let topic = "pingan/home/readings/w1";
        for (filter, want) in [
            ("pingan/#", true),
            ("#", true),
            ("pingan/home/readings/+", true),
            ("pingan/+/readings/#", true),
            ("pingan/home/readings/w1/#", true),
            ("pingan/home/readings/w1", true),
            ("+/+/+/+", true),
            ("$share/g/pingan/home/#", true),
            ("pingan/home/readings", false),
            ("pingan/home/alerts/#", false),
            ("pingan/home/readings/w2", false),
            ("pingan/home/readings/w1/x", false),
            ("+/+/+", false),
            ("$share/g", false),
        ] {
            assert_eq!(matches(filter, topic), want, "{filter}");
        }
        assert!(!matches("#", "$SYS/x"));
        assert!(!matches("+/x", "$SYS/x"));
        assert!(matches("$SYS/#", "$SYS/x"));
    }

    #[test]
    fn interest_follows_subscriptions_and_connections() {
        let interest = Arc::new(Interest::default());
        let topic = "pingan/h/readings/w1";
        assert!(!interest.wants(topic));
        let a = interest.open();
        let g0 = interest.generation();
        a.apply(Change::Subscribe(vec!["pingan/h/alerts/#".into()]));
        assert!(!interest.wants(topic));
        a.apply(Change::Subscribe(vec!["pingan/#".into()]));
        assert!(interest.wants(topic));
        assert!(interest.generation() > g0);
        a.apply(Change::Unsubscribe(vec!["pingan/#".into()]));
        assert!(!interest.wants(topic));
        let b = interest.open();
        b.apply(Change::Everything);
        assert!(interest.wants(topic));
        let g1 = interest.generation();
        drop(b);
        assert!(
            !interest.wants(topic),
            "a closed connection listens no more"
        );
        assert!(interest.generation() > g1);
        let many: Vec<String> = (0..=MAX_FILTERS).map(|i| format!("x/{i}")).collect();
        a.apply(Change::Subscribe(many));
        assert!(interest.wants(topic), "too many filters: everything");
    }
}
