//! One MQTT connection out (the local link to the embedded broker, or an uplink), draining a
//! durable outbox.
//!
//! An outbox message leaves the outbox only on the PUBACK for its own packet. To know which
//! packet id a message got without relying on rumqttc's internal numbering, one outbox message is
//! in flight at a time (stop-and-wait): at a loopback round trip of well under a millisecond this
//! still moves thousands of alert revisions a second, far beyond any care home's alert rate.
//! rumqttc's own retransmission queue is discarded on every disconnect: the outbox is the single
//! source of truth and is replayed from its start on every (re)connect. Receivers deduplicate on
//! `id` + `revision`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use rumqttc::{
    AsyncClient, Event, EventLoop, LastWill, MqttOptions, NetworkOptions, Outgoing, Packet, QoS,
    TlsConfiguration, Transport,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use ulid::Ulid;

use crate::config::UplinkUrl;
use crate::store::{Outbox, OutboxEntry};

/// How a link connects.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// `"local"` or the uplink id.
    pub id: Arc<str>,
    /// Broker address.
    pub url: UplinkUrl,
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
    Delivered { link: Arc<str>, alert: Ulid },
    /// A message arrived on a subscribed topic.
    Message {
        link: Arc<str>,
        topic: String,
        payload: Vec<u8>,
    },
    /// Connection state changed.
    Connection {
        link: Arc<str>,
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
}

/// Telemetry to send at QoS 0: (topic, payload). Dropped, never queued, when the link is busy.
pub type Telemetry = (String, Vec<u8>);

/// Sends telemetry without waiting; counts a drop when the link cannot take it.
pub fn offer_telemetry(tx: &mpsc::Sender<Telemetry>, stats: &LinkStats, msg: Telemetry) {
    if tx.try_send(msg).is_err() {
        stats.telemetry_dropped.fetch_add(1, Ordering::Relaxed);
    }
}

struct InFlight {
    key: u64,
    alert: Option<Ulid>,
    pkid: Option<u16>,
}

// Short enough that a returning broker gets the backlog within seconds.
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// Runs the link until `shutdown`; on shutdown it publishes `offline` and disconnects.
pub async fn run(
    settings: LinkSettings,
    outbox: Outbox,
    mut telemetry: mpsc::Receiver<Telemetry>,
    events: mpsc::Sender<LinkEvent>,
    stats: Arc<LinkStats>,
    shutdown: CancellationToken,
) {
    let (client, mut eventloop) = connect_options(&settings);
    let link = settings.id.clone();
    let mut connected = false;
    let mut backoff = Duration::from_millis(500);
    let mut inflight: Option<InFlight> = None;
    loop {
        if connected && inflight.is_none() {
            match outbox.after(None, 1) {
                Ok(next) => {
                    if let Some((key, entry)) = next.into_iter().next() {
                        if publish(&client, &entry).is_ok() {
                            inflight = Some(InFlight {
                                key,
                                alert: entry.alert,
                                pkid: None,
                            });
                        }
                    }
                }
                Err(e) => tracing::error!(link = %link, error = %e, "outbox read failed"),
            }
        }
        tokio::select! {
            biased;
            () = shutdown.cancelled() => {
                if connected {
                    goodbye(&settings, &client, &mut eventloop).await;
                }
                return;
            }
            ev = eventloop.poll() => match ev {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    connected = true;
                    stats.connected.store(true, Ordering::Relaxed);
                    backoff = Duration::from_millis(500);
                    inflight = None;
                    if let Some(filter) = &settings.subscribe {
                        let _ = client.try_subscribe(filter.clone(), QoS::AtLeastOnce);
                    }
                    // QoS 0 keeps the single QoS 1 slot for outbox messages; the last will covers
                    // a lost "online" on the broker side.
                    let _ = client.try_publish(settings.status_topic.clone(), QoS::AtMostOnce, true, settings.online_payload.clone());
                    tracing::info!(link = %link, "connected");
                    let _ = events.send(LinkEvent::Connection { link: link.clone(), connected: true, detail: String::new() }).await;
                }
                Ok(Event::Outgoing(Outgoing::Publish(pkid))) if pkid != 0 => {
                    if let Some(f) = inflight.as_mut() {
                        f.pkid = Some(pkid);
                    }
                }
                Ok(Event::Incoming(Packet::PubAck(ack))) => {
                    if let Some(f) = inflight.take_if(|f| f.pkid == Some(ack.pkid)) {
                        if let Err(e) = outbox.remove(f.key) {
                            tracing::error!(link = %link, error = %e, "outbox remove failed");
                        }
                        stats.acked.fetch_add(1, Ordering::Relaxed);
                        if let Some(alert) = f.alert {
                            let _ = events.send(LinkEvent::Delivered { link: link.clone(), alert }).await;
                        }
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let _ = events.send(LinkEvent::Message { link: link.clone(), topic: p.topic.clone(), payload: p.payload.to_vec() }).await;
                }
                Ok(_) => {}
                Err(e) => {
                    stats.connect_failures.fetch_add(1, Ordering::Relaxed);
                    if connected {
                        tracing::warn!(link = %link, error = %e, "connection lost; the outbox keeps every alert");
                        let _ = events.send(LinkEvent::Connection { link: link.clone(), connected: false, detail: e.to_string() }).await;
                    } else {
                        // A refused connection or bad credentials must be visible without
                        // flooding the log: the first failure and then every 32nd.
                        let n = stats.connect_failures.load(Ordering::Relaxed);
                        if n == 1 || n % 32 == 0 {
                            tracing::warn!(link = %link, error = %e, failures = n, "cannot connect; alerts wait in the outbox");
                        } else {
                            tracing::debug!(link = %link, error = %e, "connect failed");
                        }
                    }
                    connected = false;
                    stats.connected.store(false, Ordering::Relaxed);
                    inflight = None;
                    // The outbox, not rumqttc's memory, decides what is resent.
                    eventloop.pending.clear();
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            },
            () = outbox.woken(), if connected && inflight.is_none() => {}
            msg = telemetry.recv(), if connected => {
                let Some((topic, payload)) = msg else { continue };
                if client.try_publish(topic, QoS::AtMostOnce, false, payload).is_err() {
                    stats.telemetry_dropped.fetch_add(1, Ordering::Relaxed);
                }
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

fn connect_options(s: &LinkSettings) -> (AsyncClient, EventLoop) {
    let mut opts = MqttOptions::new(s.client_id.clone(), s.url.host.clone(), s.url.port);
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
    let (client, mut eventloop) = AsyncClient::new(opts, 4096);
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
