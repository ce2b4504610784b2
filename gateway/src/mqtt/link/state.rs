//! A link's connection state as a pure state machine (after rumqttc's `state.rs`: methods change
//! the state and say what to do; the I/O loop in the parent module does it). Time comes in as a
//! value, so reconnect backoff, the PUBACK deadline and log rates are table-tested without a
//! broker.
//!
//! Stop-and-wait: one outbox message is in flight at a time, so the PUBACK for its packet id
//! identifies it without relying on rumqttc's internal numbering. The outbox is read from a
//! cursor just past the last acknowledged key, so a message whose PUBACK arrived is never sent
//! again in this run, even when removing it from the outbox failed.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::time::Instant;
use ulid::Ulid;

use crate::log_limit::{LogLimit, Verdict};
use crate::store::OutboxKey;

/// First wait before reconnecting.
pub(crate) const MIN_BACKOFF: Duration = Duration::from_millis(500);
/// Longest wait: a returning broker gets the backlog within seconds.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// At most one log line per this period for a repeated problem.
pub(crate) const LOG_PERIOD: Duration = Duration::from_secs(60);

/// The message in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InFlight {
    /// Its outbox key.
    pub key: OutboxKey,
    /// The alert it carries, if any.
    pub alert: Option<Ulid>,
    /// The packet id rumqttc gave it, once sent.
    pub pkid: Option<u16>,
    /// When it was handed to the client.
    pub sent_at: Instant,
}

/// A message the broker confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Acked {
    /// Its outbox key: remove it.
    pub key: OutboxKey,
    /// The alert it carried: report delivery.
    pub alert: Option<Ulid>,
}

/// What to do after a connection error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The link had been connected (a lost connection, not a failed attempt).
    pub was_connected: bool,
    /// Wait this long before the next attempt.
    pub backoff: Duration,
    /// Whether (and how) to log it.
    pub log: Verdict,
}

/// A link's state; see the module docs.
#[derive(Debug)]
pub(crate) struct LinkState {
    connected: bool,
    backoff: Duration,
    inflight: Option<InFlight>,
    /// Disk keys at or below this were acknowledged in this run.
    cursor: Option<u64>,
    /// Acknowledged keys whose removal failed; retried after every acknowledgement.
    unremoved: BTreeSet<OutboxKey>,
    puback_timeout: Duration,
    failures: LogLimit,
    remove_errors: LogLimit,
}

impl LinkState {
    /// A disconnected link whose broker must acknowledge a message within `puback_timeout`.
    pub(crate) fn new(puback_timeout: Duration) -> Self {
        Self {
            connected: false,
            backoff: MIN_BACKOFF,
            inflight: None,
            cursor: None,
            unremoved: BTreeSet::new(),
            puback_timeout,
            failures: LogLimit::new(LOG_PERIOD),
            remove_errors: LogLimit::new(LOG_PERIOD),
        }
    }

    /// Connected now.
    pub(crate) fn connected(&self) -> bool {
        self.connected
    }

    /// The broker accepted the connection: backoff resets, nothing is in flight (rumqttc's own
    /// retransmissions were discarded; the outbox decides what is sent). Returns how many failed
    /// attempts preceded it.
    pub(crate) fn on_connected(&mut self) -> u64 {
        self.connected = true;
        self.backoff = MIN_BACKOFF;
        self.inflight = None;
        self.failures.clear()
    }

    /// Where to read the next outbox message from (the disk cursor), when one may be sent now.
    pub(crate) fn ready_to_send(&self) -> Option<Option<u64>> {
        (self.connected && self.inflight.is_none()).then_some(self.cursor)
    }

    /// A message was handed to the client at `now`.
    pub(crate) fn on_sent(&mut self, key: OutboxKey, alert: Option<Ulid>, now: Instant) {
        self.inflight = Some(InFlight {
            key,
            alert,
            pkid: None,
            sent_at: now,
        });
    }

    /// rumqttc wrote a QoS 1 publish with this packet id (the one in flight).
    pub(crate) fn on_packet_id(&mut self, pkid: u16) {
        if let Some(f) = self.inflight.as_mut().filter(|f| f.pkid.is_none()) {
            f.pkid = Some(pkid);
        }
    }

    /// A PUBACK arrived: the message in flight, if it is the one acknowledged.
    pub(crate) fn on_puback(&mut self, pkid: u16) -> Option<Acked> {
        let f = self.inflight.take_if(|f| f.pkid == Some(pkid))?;
        if let OutboxKey::Disk(k) = f.key {
            self.cursor = Some(self.cursor.map_or(k, |c| c.max(k)));
        }
        Some(Acked {
            key: f.key,
            alert: f.alert,
        })
    }

    /// Outcome of removing an acknowledged message. A failure is
    /// remembered (the message is not sent again) and its log line rate-limited.
    pub(crate) fn on_removed(&mut self, key: OutboxKey, ok: bool, now: Instant) -> Option<Verdict> {
        if ok {
            self.unremoved.remove(&key);
            if self.unremoved.is_empty() {
                self.remove_errors.clear();
            }
            None
        } else {
            self.unremoved.insert(key);
            Some(self.remove_errors.hit(now))
        }
    }

    /// Acknowledged messages still in the outbox because removing them failed.
    pub(crate) fn unremoved(&self) -> Vec<OutboxKey> {
        self.unremoved.iter().copied().collect()
    }

    /// Whether the broker has kept the message in flight past the deadline at `now`: the
    /// connection must be dropped so the outbox replays on a fresh one.
    pub(crate) fn puback_overdue(&self, now: Instant) -> bool {
        self.inflight
            .as_ref()
            .is_some_and(|f| now.saturating_duration_since(f.sent_at) >= self.puback_timeout)
    }

    /// When the message in flight becomes overdue.
    pub(crate) fn puback_deadline(&self) -> Option<Instant> {
        self.inflight
            .as_ref()
            .map(|f| f.sent_at + self.puback_timeout)
    }

    /// The connection failed (or an attempt did) at `now`.
    pub(crate) fn on_error(&mut self, now: Instant) -> Failure {
        let was_connected = std::mem::replace(&mut self.connected, false);
        self.inflight = None;
        let backoff = self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        Failure {
            was_connected,
            backoff,
            log: self.failures.hit(now),
        }
    }
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
