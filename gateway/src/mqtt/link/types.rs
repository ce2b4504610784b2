//! What links and the service exchange: how a link connects, what it reports, its counters, and
//! the telemetry it forwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use ulid::Ulid;

use crate::config::{LinkId, UplinkUrl};

/// How a link connects.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// The local broker's link or the uplink's id.
    pub id: LinkId,
    /// Broker addresses: the nodes of one cluster, dialled in order (`endpoints`); at least one.
    pub urls: Vec<UplinkUrl>,
    /// MQTT client id (stable: persistent sessions are keyed on it).
    pub client_id: String,
    /// User name and password.
    pub credentials: Option<(String, String)>,
    /// TLS client config for `mqtts://`.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// `false` keeps the broker-side session (subscriptions, queued commands) across reconnects.
    pub clean_session: bool,
    /// Topic filter to subscribe to (alert commands), if this link accepts commands.
    pub subscribe: Option<String>,
    /// Retained status topic; the last will publishes `offline` there.
    pub status_topic: String,
    /// Payloads for the status topic.
    pub online_payload: String,
    /// Published by the broker if the connection dies, and by us on clean shutdown.
    pub offline_payload: String,
    /// How long the broker may take to acknowledge a message.
    pub ack_timeout: Duration,
    /// Telemetry goes out in one batch per driver and this interval (none: no telemetry).
    pub telemetry_interval: Option<Duration>,
    /// Topic names (batch topics).
    pub topics: crate::mqtt::Topics,
    /// The site id (in batch payloads).
    pub site: String,
}

/// What a link reports to the service.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkEvent {
    /// The broker acknowledged (PUBACK) a message carrying this alert.
    Delivered { link: LinkId, alert: Ulid },
    /// A message arrived on a subscribed topic.
    Message {
        link: LinkId,
        topic: String,
        payload: Vec<u8>,
    },
    /// Connection state changed.
    Connection {
        link: LinkId,
        connected: bool,
        detail: String,
    },
}

/// Counters of one link, shared with the status view.
#[derive(Debug, Default)]
pub struct LinkStats {
    /// Connected now.
    pub connected: AtomicBool,
    /// Outbox messages acknowledged by the broker.
    pub acked: AtomicU64,
    /// Telemetry messages dropped (link down or busy).
    pub telemetry_dropped: AtomicU64,
    /// Connection attempts that failed.
    pub connect_failures: AtomicU64,
    /// Connections dropped because the broker did not acknowledge a message in time.
    pub ack_timeouts: AtomicU64,
}

/// A reading (or a device's health) for a link, at QoS 0: serialized once and shared by every
/// link. The local link publishes it on its per-device `topic`; an uplink collects it into the
/// batch of its `group` (the driver instance). Dropped, never queued, when the link is busy.
#[derive(Debug, Clone)]
pub struct Telemetry {
    /// `pingan/{site}/readings/{device}` (or `…/devices/{device}/health`).
    pub topic: Arc<str>,
    /// The driver instance that read it.
    pub group: Arc<str>,
    /// The JSON payload.
    pub body: Bytes,
}

/// What the pipeline feeds a link's telemetry queue.
#[derive(Debug, Clone)]
pub enum TelemetryMsg {
    /// A reading or health message.
    Item(Telemetry),
    /// A poll of a device of this group (driver instance) ended: an uplink sends the group's
    /// batch now.
    PollEnd(Arc<str>),
}

/// Sends telemetry without waiting; counts a drop when the link cannot take it.
pub fn offer_telemetry(tx: &mpsc::Sender<TelemetryMsg>, stats: &LinkStats, msg: TelemetryMsg) {
    if tx.try_send(msg).is_err() {
        stats.telemetry_dropped.fetch_add(1, Ordering::Relaxed);
    }
}

/// How long the embedded broker may sit on a message before the connection is dropped and the
/// outbox replays on a fresh one (a broker that keeps the session alive with PINGRESPs but never
/// acknowledges would otherwise stall the link forever); uplinks set their own `ack_timeout`.
pub const LOCAL_ACK_TIMEOUT: Duration = Duration::from_secs(15);
