//! The embedded broker: rumqttd in-process on its own threads, behind the guard of `mqtt::front`.
//! rumqttd listens on an internal loopback port; clients reach it only through the front on the
//! configured address, which caps connections and refuses the CONNECTs that would make rumqttd
//! panic (`mqtt::guard`). `Broker::start()` blocks and has no shutdown, so it runs on a dedicated
//! thread and ends with the process. The gateway's own connection to it is an in-process link
//! (rumqttd's `LinkTx`/`LinkRx`, no TCP) with a random client id that the guard reserves, so no
//! client can take it over or crowd it out.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rumqttd::{Config, ConnectionSettings, RouterConfig, ServerSettings};

use super::guard::{Guard, GuardSettings};
use super::interest::Interest;

/// Router slots beyond the guard's cap: the router counts a closed connection until it has
/// processed its disconnect, and in-process links take slots too. It must never be full while
/// the guard admits, or it refuses a client and the next CONNECT with that id panics rumqttd.
const ROUTER_HEADROOM: usize = 64;

/// The running embedded broker.
#[derive(Debug)]
pub struct EmbeddedBroker {
    /// The guarded address clients use (`[mqtt] bind`).
    pub public: SocketAddr,
    /// rumqttd itself on loopback (behind the guard; nothing of the gateway dials it).
    pub internal: SocketAddr,
    /// Clients the guard admits at once (the config's `max_connections`, within the open-file
    /// limit).
    pub max_connections: usize,
    /// The gateway's in-process link to the router.
    pub local: LocalEndpoints,
    /// What the broker's clients subscribe to (the pipeline publishes readings only where
    /// someone listens).
    pub interest: Arc<Interest>,
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
fn config(addr: SocketAddr, guarded_connections: usize) -> Config {
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
            max_connections: guarded_connections.saturating_mul(2) + ROUTER_HEADROOM,
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

/// Starts rumqttd on an internal loopback port and the guarded front on `addr` (at most
/// `max_connections` clients, none with a client id in `reserved`), and waits until both accept
/// connections.
pub async fn start(
    addr: SocketAddr,
    max_connections: usize,
    mut reserved: Vec<String>,
) -> Result<EmbeddedBroker, BrokerError> {
    let public = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| BrokerError::Bind { addr, source })?;
    let public_addr = public.local_addr().unwrap_or(addr);
    let (cap, _) = crate::fd_limit::caps(crate::fd_limit::current(), max_connections, 512);
    if cap < max_connections {
        tracing::warn!(
            configured = max_connections,
            admitted = cap,
            open_file_limit = crate::fd_limit::current(),
            "the open-file limit is too low for [mqtt] max_connections; admitting fewer clients (set LimitNOFILE)"
        );
    }
    let internal = internal_port()?;
    let cfg = config(internal, cap);
    let (failed_tx, failed_rx) = std::sync::mpsc::channel::<String>();
    // The router runs from `new`; the gateway's link registers before any listener opens, under
    // a random client id the guard refuses to anybody else.
    let mut broker = rumqttd::Broker::new(cfg);
    let client_id = format!("pingan-gateway-{}", ulid::Ulid::new());
    let (tx, rx) = broker
        .link(&client_id)
        .map_err(|e| BrokerError::Link(e.to_string()))?;
    reserved.push(client_id);
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            if let Err(e) = broker.start() {
                tracing::error!(error = %e, "embedded MQTT broker stopped");
                let _ = failed_tx.send(e.to_string());
            }
        })
        .map_err(|source| BrokerError::Bind { addr, source })?;
    let mut ready = false;
    for _ in 0..100 {
        if failed_rx.try_recv().is_ok() {
            break;
        }
        if tokio::net::TcpStream::connect(internal).await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !ready {
        return Err(BrokerError::NotReady(addr));
    }
    let guard = Guard::new(GuardSettings::new(cap, reserved));
    let interest = Arc::new(Interest::default());
    tokio::spawn(super::front::run(public, internal, guard, interest.clone()));
    Ok(EmbeddedBroker {
        public: public_addr,
        internal,
        max_connections: cap,
        local: LocalEndpoints { tx, rx },
        interest,
    })
}

/// A free loopback port for rumqttd (bound, then released for rumqttd to take).
fn internal_port() -> Result<SocketAddr, BrokerError> {
    let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    std::net::TcpListener::bind(any)
        .and_then(|l| l.local_addr())
        .map_err(|source| BrokerError::Bind { addr: any, source })
}
