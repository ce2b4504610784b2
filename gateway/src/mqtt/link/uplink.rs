//! An uplink: an MQTT connection out (rumqttc) to an institution's or hospital's broker,
//! draining its durable outbox with the pure [`super::state`] machine, and forwarding telemetry in
//! batches per driver and interval.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use pingan_drivers::Timestamp;
use rumqttc::{
    AsyncClient, Event, EventLoop, LastWill, MqttOptions, NetworkOptions, Outgoing, Packet, QoS,
    TlsConfiguration, Transport,
};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::batch::{self, Batcher};
use super::drain::{remove_acked, sleep_until};
use super::endpoints::Endpoints;
use super::state::LinkState;
use super::types::{LinkEvent, LinkSettings, LinkStats, TelemetryMsg};
use crate::config::{LinkId, UplinkUrl};
use crate::log_limit::Verdict;
use crate::store::{Outbox, OutboxEntry};

/// Most telemetry messages taken from the queue in one turn of the link's loop.
const DRAIN_MAX: usize = 1024;

/// One link's task: its connection settings, the outbox it drains, and where it reports.
#[derive(Debug)]
pub struct LinkTask {
    /// How it connects.
    pub settings: LinkSettings,
    /// The durable outbox it drains.
    pub outbox: Outbox,
    /// Telemetry to forward at QoS 0 (dropped, never queued, when the link is busy).
    pub telemetry: mpsc::Receiver<TelemetryMsg>,
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
        let mut state = LinkState::new(settings.ack_timeout);
        // A link without telemetry has its queue's sender dropped at once; a closed queue must
        // not be polled again (it would return at once, forever).
        let mut telemetry_open = true;
        let mut batcher = Batcher::new(settings.topics.clone(), &settings.site);
        let batch_every = settings
            .telemetry_interval
            .unwrap_or(Duration::from_secs(60));
        // When the oldest reading waiting in a batch must leave (no timer while nothing waits).
        let mut flush_at: Option<Instant> = None;
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
                        tracing::warn!(link = %link, timeout_s = settings.ack_timeout.as_secs(), "the broker did not acknowledge in time; reconnecting so the outbox replays");
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
                msg = telemetry.recv(), if telemetry_open => {
                    // One wake-up takes what is queued (a poll's readings), not one reading per
                    // turn of this loop: every turn polls the connection afresh, which cost more
                    // than batching the reading. Bounded, so the outbox is looked at in between.
                    let mut next = msg;
                    for _ in 0..DRAIN_MAX {
                        match next {
                            Some(TelemetryMsg::Item(t)) => {
                                flush_at.get_or_insert_with(|| Instant::now() + batch_every);
                                if let Some(b) = batcher.add(t, Timestamp::now()) {
                                    publish_batch(&client, &stats, state.connected(), b);
                                }
                            }
                            Some(TelemetryMsg::PollEnd(group)) => {
                                if let Some(b) = batcher.take_group(&group, Timestamp::now()) {
                                    publish_batch(&client, &stats, state.connected(), b);
                                }
                                if batcher.is_empty() {
                                    flush_at = None;
                                }
                            }
                            None => {
                                telemetry_open = false;
                                break;
                            }
                        }
                        next = match telemetry.try_recv() {
                            Ok(m) => Some(m),
                            Err(mpsc::error::TryRecvError::Empty) => break,
                            Err(mpsc::error::TryRecvError::Disconnected) => None,
                        };
                    }
                }
                () = sleep_until(flush_at), if flush_at.is_some() => {
                    flush_at = None;
                    for b in batcher.take(Timestamp::now()) {
                        publish_batch(&client, &stats, state.connected(), b);
                    }
                }
            }
        }
    }
}

/// Publishes a telemetry batch at QoS 0, or counts its readings as dropped while disconnected.
fn publish_batch(client: &AsyncClient, stats: &LinkStats, connected: bool, b: batch::Batch) {
    let sent = connected
        && client
            .try_publish(b.topic, QoS::AtMostOnce, false, b.payload)
            .is_ok();
    if !sent {
        stats.telemetry_dropped.fetch_add(1, Ordering::Relaxed);
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
    match outbox.next(cursor) {
        Ok(Some((key, entry))) => {
            if publish(client, &entry).is_ok() {
                state.on_sent(key, entry.alert, Instant::now());
            }
        }
        Ok(None) => {}
        Err(e) => tracing::error!(link = %link, error = %e, "outbox read failed"),
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
