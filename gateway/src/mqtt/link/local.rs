//! The local link: the gateway's in-process connection to the embedded broker's router (rumqttd
//! `LinkTx`/`LinkRx`), draining the local outbox with the same state machine as an uplink.
//!
//! What "acknowledged" means here: rumqttd's local links publish at QoS 0 (the router does not
//! acknowledge their publishes), so after each outbox message the link sends a PINGREQ through
//! the same in-order channel. The router handles a link's packets in order and answers the
//! PINGREQ only after it has appended the publish before it to its commit log, so the PINGRESP is
//! the router's receipt for that message: then it leaves the outbox. Router and gateway live and
//! die in one process: what the router holds is lost only with the gateway, whose outboxes then
//! replay at the next start.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rumqttd::local::LinkTx;
use rumqttd::protocol::{Packet, PingReq, Publish};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::drain::{remove_acked, sleep_until};
use super::state::LinkState;
use super::types::{LOCAL_ACK_TIMEOUT, LinkEvent, LinkStats, TelemetryMsg};
use crate::config::LinkId;
use crate::mqtt::broker::LocalEndpoints;
use crate::store::Outbox;

/// The local link's task.
#[derive(Debug)]
pub struct LocalLinkTask {
    /// The in-process connection to the router.
    pub endpoints: LocalEndpoints,
    /// The local outbox.
    pub outbox: Outbox,
    /// Per-device readings and health for local apps (QoS 0).
    pub telemetry: mpsc::Receiver<TelemetryMsg>,
    /// Receipts, inbound commands and connection changes.
    pub events: mpsc::Sender<LinkEvent>,
    /// Counters shared with the status view.
    pub stats: Arc<LinkStats>,
    /// Topic filter of the commands it takes.
    pub subscribe: String,
    /// Retained status topic and its payloads.
    pub status: (String, String, String),
    /// Stops the link: it publishes `offline` (retained) first.
    pub shutdown: CancellationToken,
}

impl LocalLinkTask {
    /// Runs until the shutdown token is cancelled or the router is gone.
    pub async fn run(self) {
        let Self {
            endpoints: LocalEndpoints { mut tx, mut rx },
            outbox,
            mut telemetry,
            events,
            stats,
            subscribe,
            status: (status_topic, online, offline),
            shutdown,
        } = self;
        let link = LinkId::local();
        let mut state = LinkState::new(LOCAL_ACK_TIMEOUT);
        let mut pings: u16 = 0;
        let up = tx.subscribe(subscribe).is_ok()
            && send(&mut tx, Publish::new(status_topic.clone(), online, true)).await;
        if !up {
            tracing::error!("the embedded broker's router refused the gateway's own link");
            return;
        }
        state.on_connected();
        stats.connected.store(true, Ordering::Relaxed);
        let _ = events
            .send(LinkEvent::Connection {
                link: link.clone(),
                connected: true,
                detail: String::new(),
            })
            .await;
        let mut telemetry_open = true;
        loop {
            if let Some(cursor) = state.ready_to_send() {
                match outbox.next(cursor) {
                    Ok(Some((key, entry))) => {
                        let publish = Publish::new(entry.topic, entry.payload, entry.retain);
                        pings = pings.wrapping_add(1).max(1);
                        if send(&mut tx, publish).await
                            && tx.send(Packet::PingReq(PingReq)).await.is_ok()
                        {
                            state.on_sent(key, entry.alert, Instant::now());
                            state.on_packet_id(pings);
                        }
                    }
                    Ok(None) => {}
                    Err(e) => tracing::error!(link = %link, error = %e, "outbox read failed"),
                }
            }
            let deadline = state.puback_deadline();
            tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    let _ = send(&mut tx, Publish::new(status_topic, offline, true)).await;
                    return;
                }
                n = rx.next() => match n {
                    Ok(Some(rumqttd::Notification::Forward(f))) => {
                        let topic = String::from_utf8_lossy(&f.publish.topic).into_owned();
                        let payload = f.publish.payload.to_vec();
                        let _ = events.send(LinkEvent::Message { link: link.clone(), topic, payload }).await;
                    }
                    Ok(Some(rumqttd::Notification::DeviceAck(ack))) => {
                        if matches!(Packet::from(ack), Packet::PingResp(_)) {
                            if let Some(acked) = state.on_puback(pings) {
                                stats.acked.fetch_add(1, Ordering::Relaxed);
                                remove_acked(&link, &outbox, &mut state, acked.key);
                                if let Some(alert) = acked.alert {
                                    let _ = events.send(LinkEvent::Delivered { link: link.clone(), alert }).await;
                                }
                            }
                        }
                    }
                    Ok(Some(rumqttd::Notification::Unschedule)) => {
                        // The router paused forwarding to us until we say we are ready.
                        if rx.wake().await.is_err() {
                            router_gone(&link, &stats, &events, &shutdown).await;
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(link = %link, error = %e, "the embedded broker's router is gone");
                        router_gone(&link, &stats, &events, &shutdown).await;
                        return;
                    }
                },
                () = sleep_until(deadline), if deadline.is_some() => {
                    if state.puback_overdue(Instant::now()) {
                        tracing::error!(link = %link, "the embedded broker's router did not take a message in time");
                        stats.ack_timeouts.fetch_add(1, Ordering::Relaxed);
                        router_gone(&link, &stats, &events, &shutdown).await;
                        return;
                    }
                }
                () = outbox.woken(), if state.ready_to_send().is_some() => {}
                msg = telemetry.recv(), if telemetry_open => match msg {
                    Some(TelemetryMsg::Item(t)) => {
                        if tx.try_publish(t.topic.to_string(), t.body).is_err() {
                            stats.telemetry_dropped.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    // Local apps get every reading as it comes: nothing to batch.
                    Some(TelemetryMsg::PollEnd(_)) => {}
                    None => telemetry_open = false,
                },
            }
        }
    }
}

async fn send(tx: &mut LinkTx, publish: Publish) -> bool {
    tx.send(Packet::Publish(publish, None)).await.is_ok()
}

/// The router cannot take messages any more: the link reports itself down (the service raises a
/// technical alert and stops feeding the watchdog) and waits for the shutdown. The outbox keeps
/// everything for the next start.
async fn router_gone(
    link: &LinkId,
    stats: &LinkStats,
    events: &mpsc::Sender<LinkEvent>,
    shutdown: &CancellationToken,
) {
    stats.connected.store(false, Ordering::Relaxed);
    let _ = events
        .send(LinkEvent::Connection {
            link: link.clone(),
            connected: false,
            detail: "embedded broker router gone".into(),
        })
        .await;
    shutdown.cancelled().await;
}
