//! Admission of clients to the embedded broker, pure (the time is passed in). The I/O side is
//! `mqtt::front`, which proxies every admitted connection to rumqttd on an internal port.
//!
//! Why a guard: rumqttd 0.20 panics while holding its will-handler mutex when a client connects
//! with the client id of an earlier connection the router refused (upstream issue #1062:
//! `server/broker.rs` keeps the refused connection's will sender in a map, and the next
//! `try_send(..).unwrap()` on it fails). The poisoned mutex makes every later CONNECT panic:
//! the broker accepts sockets and never serves another client. The router refuses a connection
//! when it is full, when the client id contains `+ $ # /`, and when the CONNACK cannot be written
//! because the client already left. The guard makes all three unreachable from outside:
//!
//! - at most `max_connections` sockets at once, well below the router's own limit (the router
//!   counts closed connections until it has processed their disconnect);
//! - client ids with `+ $ # /`, ids only the gateway uses, and MQTT 5 (the listener speaks 3.1.1)
//!   are refused with a CONNACK by the guard itself;
//! - the front holds the connection to rumqttd open until rumqttd's CONNACK has arrived, so its
//!   write never fails;
//! - one handshake per client id at a time, connects per client id and in total rate-limited, so
//!   a reconnect storm cannot make a client's session flap thousands of times.

use std::collections::HashSet;
use std::time::Duration;

use tokio::time::Instant;

use super::connect_packet::Connect;
use crate::rate_limit::RateLimit;

/// How the guard admits clients.
#[derive(Debug, Clone)]
pub struct GuardSettings {
    /// Sockets held at once (handshaking or connected).
    pub max_connections: usize,
    /// Client ids outside clients may not use (the gateway's own).
    pub reserved: Vec<String>,
    /// Connects one client id may make in a burst, then one per `per_id_refill`.
    pub per_id_burst: u32,
    /// See `per_id_burst`.
    pub per_id_refill: Duration,
    /// Connects of all clients in a burst, then one per `total_refill`.
    pub total_burst: u32,
    /// See `total_burst`.
    pub total_refill: Duration,
}

impl GuardSettings {
    /// The defaults for `max_connections` clients and the gateway's `reserved` ids.
    pub fn new(max_connections: usize, reserved: Vec<String>) -> Self {
        Self {
            max_connections,
            reserved,
            per_id_burst: 5,
            per_id_refill: Duration::from_secs(1),
            total_burst: 200,
            total_refill: Duration::from_millis(5),
        }
    }
}

/// Why a client was turned away.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Every slot is taken.
    #[error("the broker has {0} connections, its limit")]
    Full(usize),
    /// Not MQTT 3.1 / 3.1.1.
    #[error("MQTT protocol level {0} is not served (3.1.1 only)")]
    Protocol(u8),
    /// A client id rumqttd would refuse (and then panic on the next try).
    #[error("client id {0:?} contains + $ # or /")]
    InvalidId(String),
    /// A client id of the gateway itself.
    #[error("client id {0:?} is reserved for the gateway")]
    Reserved(String),
    /// The same client id is still connecting.
    #[error("client id {0:?} is connecting already")]
    Handshaking(String),
    /// Too many connects with this client id, or in total.
    #[error("too many connects{0}; slow down")]
    Rate(String),
}

impl Refusal {
    /// The CONNACK return code to answer with, if the client is answered at all.
    pub fn connack_code(&self) -> Option<u8> {
        match self {
            Self::Full(_) => None,
            Self::Protocol(_) => Some(1),
            Self::InvalidId(_) | Self::Reserved(_) => Some(2),
            Self::Handshaking(_) | Self::Rate(_) => Some(3),
        }
    }
}

/// The guard's state. See the module docs.
#[derive(Debug)]
pub struct Guard {
    settings: GuardSettings,
    open: usize,
    handshaking: HashSet<String>,
    per_id: RateLimit,
    total: RateLimit,
}

impl Guard {
    /// A guard with no connections.
    pub fn new(settings: GuardSettings) -> Self {
        Self {
            per_id: RateLimit::new(
                settings.per_id_burst,
                settings.per_id_refill,
                settings.max_connections.saturating_mul(4).max(64),
            ),
            total: RateLimit::new(settings.total_burst, settings.total_refill, 1),
            settings,
            open: 0,
            handshaking: HashSet::new(),
        }
    }

    /// A socket was accepted: it takes a slot or is closed at once.
    pub fn accept(&mut self) -> Result<(), Refusal> {
        if self.open >= self.settings.max_connections {
            return Err(Refusal::Full(self.open));
        }
        self.open += 1;
        Ok(())
    }

    /// A socket that took a slot is closed.
    pub fn closed(&mut self) {
        self.open = self.open.saturating_sub(1);
    }

    /// Sockets held now.
    pub fn open(&self) -> usize {
        self.open
    }

    /// A CONNECT arrived: `Ok` starts its handshake (end it with [`Guard::handshake_done`]).
    pub fn connect(&mut self, c: &Connect, now: Instant) -> Result<(), Refusal> {
        let id = &c.client_id;
        if !matches!(c.level, 3 | 4) {
            return Err(Refusal::Protocol(c.level));
        }
        if id.contains(['+', '$', '#', '/']) {
            return Err(Refusal::InvalidId(id.clone()));
        }
        if self.settings.reserved.iter().any(|r| r == id) {
            return Err(Refusal::Reserved(id.clone()));
        }
        if !id.is_empty() && self.handshaking.contains(id) {
            return Err(Refusal::Handshaking(id.clone()));
        }
        if !self.total.take("", now) {
            return Err(Refusal::Rate(String::new()));
        }
        // An empty id gets a fresh UUID from rumqttd: there is no session to flap, and every
        // `mosquitto_pub` without `-i` would otherwise share one bucket.
        if !id.is_empty() && !self.per_id.take(id, now) {
            return Err(Refusal::Rate(format!(" with client id {id:?}")));
        }
        if !id.is_empty() {
            self.handshaking.insert(id.clone());
        }
        Ok(())
    }

    /// rumqttd answered the CONNECT of `client_id` (or the attempt ended).
    pub fn handshake_done(&mut self, client_id: &str) {
        self.handshaking.remove(client_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str) -> Connect {
        Connect {
            level: 4,
            clean_session: true,
            keep_alive: 30,
            client_id: id.into(),
            len: 0,
        }
    }

    fn guard(max: usize) -> Guard {
        Guard::new(GuardSettings::new(max, vec!["pingan-t-gateway".into()]))
    }

    #[test]
    fn sockets_beyond_the_cap_are_closed_and_slots_come_back() {
        let mut g = guard(2);
        assert_eq!(g.accept(), Ok(()));
        assert_eq!(g.accept(), Ok(()));
        assert_eq!(g.accept(), Err(Refusal::Full(2)));
        g.closed();
        assert_eq!(g.accept(), Ok(()));
        assert_eq!(g.open(), 2);
    }

    #[test]
    fn ids_rumqttd_would_refuse_and_the_gateways_own_are_answered_by_the_guard() {
        let mut g = guard(10);
        let t = Instant::now();
        for id in ["a/b", "a+", "#", "$SYS"] {
            assert_eq!(g.connect(&c(id), t), Err(Refusal::InvalidId(id.into())));
        }
        assert_eq!(
            g.connect(&c("pingan-t-gateway"), t),
            Err(Refusal::Reserved("pingan-t-gateway".into()))
        );
        let mut v5 = c("x");
        v5.level = 5;
        assert_eq!(g.connect(&v5, t), Err(Refusal::Protocol(5)));
        assert_eq!(Refusal::InvalidId(String::new()).connack_code(), Some(2));
        assert_eq!(Refusal::Full(1).connack_code(), None);
    }

    #[test]
    fn one_handshake_per_client_id_at_a_time() {
        let mut g = guard(10);
        let t = Instant::now();
        assert_eq!(g.connect(&c("app"), t), Ok(()));
        assert_eq!(
            g.connect(&c("app"), t),
            Err(Refusal::Handshaking("app".into()))
        );
        g.handshake_done("app");
        assert_eq!(g.connect(&c("app"), t), Ok(()));
        assert_eq!(
            g.connect(&c(""), t),
            Ok(()),
            "empty ids get their own from rumqttd"
        );
        assert_eq!(g.connect(&c(""), t), Ok(()));
    }

    #[test]
    fn a_reconnect_storm_with_one_id_is_slowed_to_one_connect_a_second() {
        let mut g = guard(10);
        let t = Instant::now();
        let mut ok = 0;
        for i in 0..100u64 {
            let at = t + Duration::from_millis(10 * i);
            if g.connect(&c("storm"), at).is_ok() {
                ok += 1;
                g.handshake_done("storm");
            }
        }
        // 5 at once, then one per second over the second the storm lasted.
        assert!((5..=7).contains(&ok), "{ok}");
        assert_eq!(g.connect(&c("calm"), t + Duration::from_secs(1)), Ok(()));
    }

    #[test]
    fn clients_without_an_id_are_limited_only_by_the_total_rate() {
        let mut g = guard(10);
        let t = Instant::now();
        for i in 0..20 {
            assert_eq!(g.connect(&c(""), t), Ok(()), "anonymous-id connect {i}");
        }
    }
}
