//! The one subscriber on Mosquitto: it takes the receipt time of every telemetry message of any
//! gateway, turns it into per-value ages ([`crate::receive`]) and counts them; and it answers
//! ThingsBoard IoT Gateway's `getSessionLimits` RPC the way a ThingsBoard server without rate
//! limits would, since that gateway publishes nothing until it has the answer.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, QoS};

use crate::receive::{Changes, Format};

/// What arrived since the last [`Tally::take`].
#[derive(Debug, Default, Clone)]
pub(crate) struct Tally {
    /// Telemetry messages.
    pub(crate) messages: u64,
    /// Register values whose change could be identified.
    pub(crate) values: u64,
    /// Values that were not the simulator's (wrong register or value).
    pub(crate) unknown: u64,
    /// Age of each value at receipt, in milliseconds.
    pub(crate) ages_ms: Vec<f64>,
    /// `getSessionLimits` requests answered.
    pub(crate) rpc_answered: u64,
}

/// The shared tally.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counts(Arc<Mutex<Tally>>);

impl Counts {
    /// Returns what arrived and starts afresh.
    pub(crate) fn take(&self) -> Tally {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Values counted since the last [`Counts::take`].
    pub(crate) fn values(&self) -> u64 {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values
    }
}

/// What ThingsBoard answers a gateway with no rate limits configured (its defaults for
/// inflight messages and payload size).
const SESSION_LIMITS: &str =
    r#"{"maxPayloadSize":65536,"maxInflightMessages":100,"rateLimits":{},"gatewayRateLimits":{}}"#;

/// Connects to Mosquitto on `port`, subscribes to every gateway's telemetry and counts it.
pub(crate) async fn start(port: u16, changes: Changes) -> anyhow::Result<Counts> {
    let mut opts = MqttOptions::new("bench-subscriber", "127.0.0.1", port);
    opts.set_max_packet_size(1 << 22, 1 << 22);
    opts.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = AsyncClient::new(opts, 10_000);
    let mut net = rumqttc::NetworkOptions::new();
    net.set_tcp_nodelay(true);
    eventloop.set_network_options(net);
    for filter in [
        "pingan/+/readings/#",
        "pingan/+/telemetry/#",
        "nodered/bench/#",
        "v1/gateway/telemetry",
        "v1/devices/me/rpc/request/+",
    ] {
        client.subscribe(filter, QoS::AtMostOnce).await?;
    }
    let counts = Counts::default();
    let tally = counts.clone();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Incoming::Publish(p))) => {
                    let at_ns = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos() as i128);
                    if let Some(id) = p.topic.strip_prefix("v1/devices/me/rpc/request/") {
                        if String::from_utf8_lossy(&p.payload).contains("getSessionLimits") {
                            let topic = format!("v1/devices/me/rpc/response/{id}");
                            let _ =
                                client.try_publish(topic, QoS::AtLeastOnce, false, SESSION_LIMITS);
                            tally
                                .0
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .rpc_answered += 1;
                        }
                        continue;
                    }
                    let Some(format) = Format::of(&p.topic) else {
                        continue;
                    };
                    let values = format.values(&p.topic, &p.payload);
                    let mut t = tally
                        .0
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    t.messages += 1;
                    for (a, raw) in values {
                        match changes.age_ns(a, raw, at_ns) {
                            Some(age) => {
                                t.values += 1;
                                t.ages_ms.push(age as f64 / 1e6);
                            }
                            None => t.unknown += 1,
                        }
                    }
                }
                Ok(_) => {}
                // Mosquitto outlives every gateway; this is its shutdown at the end.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    });
    Ok(counts)
}
