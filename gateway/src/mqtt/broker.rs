//! The embedded broker: rumqttd in-process on its own threads. `Broker::start()` blocks and has
//! no shutdown, so it runs on a dedicated thread and ends with the process. The gateway's own
//! connection to it is an in-process link (no TCP loopback) with an unguessable client id, so
//! no client on the network can take it over or crowd it out of a socket.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use rumqttd::{Config, ConnectionSettings, RouterConfig, ServerSettings};

/// The embedded broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The address is taken or not ours.
    #[error(
        "cannot listen on {addr} for the embedded MQTT broker: {source} (is another broker, e.g. a system mosquitto, using the port? set [mqtt] bind or --mqtt-port)"
    )]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The broker did not come up.
    #[error("the embedded MQTT broker on {0} did not start")]
    NotReady(SocketAddr),
    /// The gateway's in-process link was refused by the router.
    #[error("the embedded MQTT broker refused the gateway's own link: {0}")]
    Link(String),
}

/// rumqttd's router defaults are zeros (zero segments panic, zero connections reject everyone), so
/// every limit is set here.
fn config(addr: SocketAddr, max_connections: usize) -> Config {
    let connections = ConnectionSettings {
        connection_timeout_ms: 10_000,
        // Alert evidence (accelerometer around a fall) can reach tens of KB.
        max_payload_size: 256 * 1024,
        max_inflight_count: 200,
        auth: None,
        external_auth: None,
        // Publishes to topics nobody subscribed are dropped instead of creating a commit log per
        // topic (one per alert id would grow without bound).
        dynamic_filters: false,
    };
    let server = ServerSettings {
        name: "pingan-v4".to_owned(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 1,
        connections,
    };
    Config {
        id: 0,
        router: RouterConfig {
            max_connections,
            max_outgoing_packet_count: 1000,
            max_segment_size: 1 << 20,
            max_segment_count: 10,
            custom_segment: None,
            initialized_filters: None,
            shared_subscriptions_strategy: Default::default(),
        },
        v4: Some(HashMap::from([("v4".to_owned(), server)])),
        v5: None,
        ws: None,
        cluster: None,
        console: None,
        bridge: None,
        prometheus: None,
        metrics: None,
    }
}

/// The gateway's in-process connection to the embedded broker's router.
pub struct LocalEndpoints {
    /// Publishes and subscriptions into the router.
    pub tx: rumqttd::local::LinkTx,
    /// What the router sends back: acknowledgements and forwarded publishes.
    pub rx: rumqttd::local::LinkRx,
}

impl std::fmt::Debug for LocalEndpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEndpoints").finish_non_exhaustive()
    }
}

/// Starts the broker on `addr`, waits until it accepts connections and returns the gateway's
/// in-process link to it.
pub async fn start(
    addr: SocketAddr,
    max_connections: usize,
) -> Result<LocalEndpoints, BrokerError> {
    // rumqttd logs a bind failure on its own thread and carries on; check first so the user gets
    // a clear error instead of a gateway without a broker.
    drop(std::net::TcpListener::bind(addr).map_err(|source| BrokerError::Bind { addr, source })?);
    let cfg = config(addr, max_connections);
    // The router runs from `new`; the link registers before the listeners open, so no client can
    // claim the gateway's slot first. Its client id is random: nobody can collide with it.
    let mut broker = rumqttd::Broker::new(cfg);
    let client_id = format!("pingan-gateway-{}", ulid::Ulid::new());
    let (tx, rx) = broker
        .link(&client_id)
        .map_err(|e| BrokerError::Link(e.to_string()))?;
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            if let Err(e) = broker.start() {
                tracing::error!(error = %e, "embedded MQTT broker stopped");
            }
        })
        .map_err(|source| BrokerError::Bind { addr, source })?;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(LocalEndpoints { tx, rx });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(BrokerError::NotReady(addr))
}
