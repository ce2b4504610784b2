//! One MQTT connection out (the local link to the embedded broker, or an uplink), draining a
//! durable outbox: a thin I/O loop around the pure [`state`] machine and, for an uplink to a
//! broker cluster, the pure [`endpoints`] rotation over its nodes.
//!
//! An outbox message leaves the outbox only on the PUBACK for its own packet. To know which
//! packet id a message got without relying on rumqttc's internal numbering, one outbox message is
//! in flight at a time (stop-and-wait): at a loopback round trip of well under a millisecond this
//! still moves thousands of alert revisions a second, far beyond any care home's alert rate.
//! rumqttc's own retransmission queue is discarded on every disconnect: the outbox is the single
//! source of truth and is replayed from its start on every (re)connect. Receivers deduplicate on
//! `id` + `revision`.

mod endpoints;
mod state;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use endpoints::Endpoints;
use rumqttc::{
    AsyncClient, Event, EventLoop, LastWill, MqttOptions, NetworkOptions, Outgoing, Packet, QoS,
    TlsConfiguration, Transport,
};
use state::LinkState;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use ulid::Ulid;

use crate::config::{LinkId, UplinkUrl};
use crate::log_limit::Verdict;
use crate::store::{Outbox, OutboxEntry};

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

/// Telemetry to send at QoS 0: (topic, payload). Dropped, never queued, when the link is busy.
pub type Telemetry = (String, Vec<u8>);

/// Sends telemetry without waiting; counts a drop when the link cannot take it.
pub fn offer_telemetry(tx: &mpsc::Sender<Telemetry>, stats: &LinkStats, msg: Telemetry) {
    if tx.try_send(msg).is_err() {
        stats.telemetry_dropped.fetch_add(1, Ordering::Relaxed);
    }
}

/// How long a broker may sit on a message before the connection is dropped and the outbox
/// replays on a fresh one (a broker that keeps the session alive with PINGRESPs but never
/// acknowledges would otherwise stall the link forever).
pub const PUBACK_TIMEOUT: Duration = Duration::from_secs(15);

/// One link's task: its connection settings, the outbox it drains, and where it reports.
#[derive(Debug)]
pub struct LinkTask {
    /// How it connects.
    pub settings: LinkSettings,
    /// The durable outbox it drains.
    pub outbox: Outbox,
    /// Telemetry to forward at QoS 0 (dropped, never queued, when the link is busy).
    pub telemetry: mpsc::Receiver<Telemetry>,
    /// Receipts, inbound messages and connection changes.
    pub events: mpsc::Sender<LinkEvent>,
    /// Counters shared with the status view.
    pub stats: Arc<LinkStats>,
    /// Stops the link: it publishes `offline` and disconnects.
    pub shutdown: CancellationToken,
}

impl LinkTask {
    /// Runs the link until its shutdown token is cancelled.
    pub async fn run(self) {
        let Self {
            settings,
            outbox,
            mut telemetry,
            events,
            stats,
            shutdown,
        } = self;
        let link = settings.id.clone();
        let Some(mut endpoints) = Endpoints::new(settings.urls.clone()) else {
            tracing::error!(link = %link, "no broker address; the link does not run");
            return;
        };
        let (client, mut eventloop) = connect_options(&settings, endpoints.current());
        let mut state = LinkState::new(PUBACK_TIMEOUT);
        // A link without telemetry has its queue's sender dropped at once; a closed queue must
        // not be polled again (it would return at once, forever).
        let mut telemetry_open = true;
        loop {
            if let Some(cursor) = state.ready_to_send() {
                send_next(&link, &outbox, &client, &mut state, cursor);
            }
            let deadline = state.puback_deadline();
            tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    if state.connected() {
                        goodbye(&settings, &client, &mut eventloop).await;
                    }
                    return;
                }
                ev = eventloop.poll() => match ev {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let failed = state.on_connected();
                        endpoints.on_connected();
                        stats.connected.store(true, Ordering::Relaxed);
                        if let Some(filter) = &settings.subscribe {
                            let _ = client.try_subscribe(filter.clone(), QoS::AtLeastOnce);
                        }
                        // QoS 0 keeps the single QoS 1 slot for outbox messages; the last will
                        // covers a lost "online" on the broker side.
                        let _ = client.try_publish(settings.status_topic.clone(), QoS::AtMostOnce, true, settings.online_payload.clone());
                        let node = endpoints.current();
                        tracing::info!(link = %link, broker = %format!("{}:{}", node.host, node.port), failed_attempts = failed, "connected");
                        let _ = events.send(LinkEvent::Connection { link: link.clone(), connected: true, detail: String::new() }).await;
                    }
                    Ok(Event::Outgoing(Outgoing::Publish(pkid))) if pkid != 0 => state.on_packet_id(pkid),
                    Ok(Event::Incoming(Packet::PubAck(ack))) => {
                        if let Some(acked) = state.on_puback(ack.pkid) {
                            stats.acked.fetch_add(1, Ordering::Relaxed);
                            remove_acked(&link, &outbox, &mut state, acked.key);
                            if let Some(alert) = acked.alert {
                                let _ = events.send(LinkEvent::Delivered { link: link.clone(), alert }).await;
                            }
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let _ = events.send(LinkEvent::Message { link: link.clone(), topic: p.topic.clone(), payload: p.payload.to_vec() }).await;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let f = state.on_error(Instant::now());
                        stats.connect_failures.fetch_add(1, Ordering::Relaxed);
                        stats.connected.store(false, Ordering::Relaxed);
                        if f.was_connected {
                            let _ = events.send(LinkEvent::Connection { link: link.clone(), connected: false, detail: e.to_string() }).await;
                        }
                        if let Verdict::Log { repeats, total } = f.log {
                            if f.was_connected {
                                tracing::warn!(link = %link, error = %e, "connection lost; the outbox keeps every alert");
                            } else {
                                tracing::warn!(link = %link, error = %e, failures = total, since_last_line = repeats, "cannot connect; alerts wait in the outbox");
                            }
                        }
                        // The outbox, not rumqttc's memory, decides what is resent.
                        eventloop.pending.clear();
                        // A cluster: the next node at once, the backoff after a full round.
                        let wait = endpoints.on_failure(f.backoff);
                        if endpoints.len() > 1 {
                            eventloop.mqtt_options = mqtt_options(&settings, endpoints.current());
                        }
                        tokio::select! {
                            () = shutdown.cancelled() => return,
                            () = tokio::time::sleep(wait) => {}
                        }
                    }
                },
                () = sleep_until(deadline), if deadline.is_some() => {
                    if state.puback_overdue(Instant::now()) {
                        tracing::warn!(link = %link, timeout_s = PUBACK_TIMEOUT.as_secs(), "the broker did not acknowledge in time; reconnecting so the outbox replays");
                        stats.ack_timeouts.fetch_add(1, Ordering::Relaxed);
                        // Drop the socket; the next poll opens a fresh connection.
                        eventloop.clean();
                        eventloop.pending.clear();
                        state.on_error(Instant::now());
                        let _ = endpoints.on_failure(Duration::ZERO);
                        if endpoints.len() > 1 {
                            eventloop.mqtt_options = mqtt_options(&settings, endpoints.current());
                        }
                        stats.connected.store(false, Ordering::Relaxed);
                        let _ = events.send(LinkEvent::Connection { link: link.clone(), connected: false, detail: "no PUBACK in time".into() }).await;
                    }
                }
                () = outbox.woken(), if state.ready_to_send().is_some() => {}
                msg = telemetry.recv(), if state.connected() && telemetry_open => {
                    match msg {
                        Some((topic, payload)) => {
                            if client.try_publish(topic, QoS::AtMostOnce, false, payload).is_err() {
                                stats.telemetry_dropped.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        None => telemetry_open = false,
                    }
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Reads the next outbox message after `cursor` and hands it to the client.
fn send_next(
    link: &LinkId,
    outbox: &Outbox,
    client: &AsyncClient,
    state: &mut LinkState,
    cursor: Option<u64>,
) {
    match outbox.after(cursor, 1) {
        Ok(next) => {
            if let Some((key, entry)) = next.into_iter().next() {
                if publish(client, &entry).is_ok() {
                    state.on_sent(key, entry.alert, Instant::now());
                }
            }
        }
        Err(e) => tracing::error!(link = %link, error = %e, "outbox read failed"),
    }
}

/// Removes an acknowledged message (and retries earlier failed removals).
fn remove_acked(link: &LinkId, outbox: &Outbox, state: &mut LinkState, key: u64) {
    let mut keys = state.unremoved();
    keys.push(key);
    for k in keys {
        let result = outbox.remove(k);
        let now = Instant::now();
        if let Some(Verdict::Log { repeats, total }) = state.on_removed(k, result.is_ok(), now) {
            if let Err(e) = result {
                tracing::error!(link = %link, error = %e, failures = total, since_last_line = repeats, "outbox remove failed; the message was delivered and is not sent again");
            }
        }
    }
}

fn publish(client: &AsyncClient, e: &OutboxEntry) -> Result<(), rumqttc::ClientError> {
    client.try_publish(
        e.topic.clone(),
        QoS::AtLeastOnce,
        e.retain,
        e.payload.clone().into_bytes(),
    )
}

/// The client's options for dialling `url` (one node of the link's cluster).
fn mqtt_options(s: &LinkSettings, url: &UplinkUrl) -> MqttOptions {
    let mut opts = MqttOptions::new(s.client_id.clone(), url.host.clone(), url.port);
    opts.set_keep_alive(Duration::from_secs(15));
    opts.set_clean_session(s.clean_session);
    opts.set_max_packet_size(512 * 1024, 512 * 1024);
    opts.set_last_will(LastWill::new(
        s.status_topic.clone(),
        s.offline_payload.clone(),
        QoS::AtLeastOnce,
        true,
    ));
    if let Some((user, pass)) = &s.credentials {
        opts.set_credentials(user.clone(), pass.clone());
    }
    if let Some(tls) = &s.tls {
        opts.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            tls.clone(),
        )));
    }
    opts
}

fn connect_options(s: &LinkSettings, url: &UplinkUrl) -> (AsyncClient, EventLoop) {
    let (client, mut eventloop) = AsyncClient::new(mqtt_options(s, url), 4096);
    // Without TCP_NODELAY each QoS 1 round trip waits ~40 ms for delayed ACKs.
    let mut net = NetworkOptions::new();
    net.set_tcp_nodelay(true);
    net.set_connection_timeout(5);
    eventloop.set_network_options(net);
    (client, eventloop)
}

async fn goodbye(s: &LinkSettings, client: &AsyncClient, eventloop: &mut EventLoop) {
    let _ = client.try_publish(
        s.status_topic.clone(),
        QoS::AtLeastOnce,
        true,
        s.offline_payload.clone(),
    );
    let _ = client.try_disconnect();
    let deadline = tokio::time::sleep(Duration::from_secs(2));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => break,
            ev = eventloop.poll() => match ev {
                Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
}
