//! The embedded broker's front door: accepts clients on the configured address, lets the pure
//! [`Guard`](super::guard::Guard) decide on each CONNECT, and proxies admitted connections to
//! rumqttd on an internal loopback port (the module docs of `mqtt::guard` say why).
//!
//! Per connection: take a slot (or close at once) → read the CONNECT within
//! [`CONNECT_TIMEOUT`] (idle sockets are closed, not kept) → the guard's verdict (a refusal is
//! answered with a CONNACK by the front itself) → connect to rumqttd, forward the CONNECT and
//! wait for rumqttd's CONNACK before anything else, so rumqttd never sees a client vanish
//! mid-handshake → copy bytes both ways until either side closes, reading the client's
//! SUBSCRIBE and UNSUBSCRIBE packets on the way (`mqtt::interest`: who listens to what).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout};

use super::connect_packet::{self, Connect, MAX_CONNECT};
use super::guard::{Guard, Refusal};
use super::interest::{Interest, Subscriber};
use super::subscribe_packet::Scanner;
use crate::log_limit::{LogLimit, Verdict};

/// A client must send CONNECT this soon after connecting.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// rumqttd must answer a CONNECT this soon.
const CONNACK_TIMEOUT: Duration = Duration::from_secs(10);
/// Refusals and accept errors are logged at most once per this.
const LOG_PERIOD: Duration = Duration::from_secs(10);

/// What the front shares between its connections.
#[derive(Debug)]
struct Shared {
    guard: Mutex<Guard>,
    refused: Mutex<LogLimit>,
    upstream: SocketAddr,
    interest: Arc<Interest>,
}

impl Shared {
    fn guard(&self) -> MutexGuard<'_, Guard> {
        self.guard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn log_refusal(&self, peer: SocketAddr, why: &Refusal) {
        let verdict = self
            .refused
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .hit(Instant::now());
        if let Verdict::Log { repeats, total } = verdict {
            tracing::warn!(%peer, reason = %why, refused = total, since_last_line = repeats, "MQTT client refused by the broker guard");
        }
    }
}

/// Gives the slot back when a connection ends, however it ends.
struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.guard().closed();
    }
}

/// Ends a client id's handshake when the attempt ends, however it ends.
struct Handshake(Arc<Shared>, String);

impl Drop for Handshake {
    fn drop(&mut self) {
        self.0.guard().handshake_done(&self.1);
    }
}

/// Serves `listener` until the process ends, proxying admitted clients to `upstream`.
/// Every client's subscriptions are read on the way into `interest`.
pub async fn run(
    listener: TcpListener,
    upstream: SocketAddr,
    guard: Guard,
    interest: Arc<Interest>,
) {
    let shared = Arc::new(Shared {
        guard: Mutex::new(guard),
        refused: Mutex::new(LogLimit::new(LOG_PERIOD)),
        upstream,
        interest,
    });
    let mut accept_errors = LogLimit::new(LOG_PERIOD);
    loop {
        let (sock, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(error) => {
                // Out of file descriptors or memory: back off instead of spinning.
                if let Verdict::Log { repeats, total } = accept_errors.hit(Instant::now()) {
                    tracing::error!(%error, failures = total, since_last_line = repeats, "the MQTT broker cannot accept connections");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let admitted = shared.guard().accept();
        match admitted {
            Ok(()) => {
                let slot = Slot(shared.clone());
                tokio::spawn(serve(sock, peer, slot));
            }
            Err(why) => {
                shared.log_refusal(peer, &why);
                drop(sock);
            }
        }
    }
}

async fn serve(mut client: TcpStream, peer: SocketAddr, slot: Slot) {
    let shared = slot.0.clone();
    let _ = client.set_nodelay(true);
    let Ok(Some((connect, first))) = timeout(CONNECT_TIMEOUT, read_connect(&mut client)).await
    else {
        // Silent, slow or not MQTT: the socket is closed and its slot freed.
        return;
    };
    let admitted = shared.guard().connect(&connect, Instant::now());
    if let Err(why) = admitted {
        shared.log_refusal(peer, &why);
        if let Some(code) = why.connack_code() {
            let _ = timeout(
                Duration::from_secs(1),
                client.write_all(&connect_packet::connack(code)),
            )
            .await;
        }
        return;
    }
    let handshake = Handshake(shared.clone(), connect.client_id.clone());
    let Ok(Ok(mut broker)) = timeout(CONNACK_TIMEOUT, TcpStream::connect(shared.upstream)).await
    else {
        tracing::warn!(%peer, "the embedded broker did not take a connection");
        return;
    };
    let _ = broker.set_nodelay(true);
    let mut connack = [0u8; 4];
    let answered = timeout(CONNACK_TIMEOUT, async {
        broker.write_all(&first).await?;
        broker.read_exact(&mut connack).await
    })
    .await;
    // Only now may the attempt end: rumqttd has written its CONNACK.
    drop(handshake);
    if !matches!(answered, Ok(Ok(_))) || client.write_all(&connack).await.is_err() {
        return;
    }
    let subscriber = shared.interest.open();
    // A client may send its SUBSCRIBE right behind the CONNECT, in the bytes already forwarded.
    let mut scanner = Scanner::default();
    for change in scanner.feed(&first) {
        subscriber.apply(change);
    }
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_broker, mut to_broker) = broker.into_split();
    // Either direction ending ends the connection: the other side is closed with it (a client
    // that half-closes after DISCONNECT expects nothing more; rumqttd's last bytes were copied).
    tokio::select! {
        _ = tokio::io::copy(&mut from_broker, &mut to_client) => {}
        () = client_to_broker(&mut from_client, &mut to_broker, scanner, &subscriber) => {}
    }
}

/// Copies the client's packets to rumqttd, reading its subscriptions on the way.
async fn client_to_broker(
    from: &mut tokio::net::tcp::OwnedReadHalf,
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    mut scanner: Scanner,
    subscriber: &Subscriber,
) {
    let mut buf = vec![0u8; 8192];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let Some(chunk) = buf.get(..n) else { return };
        for change in scanner.feed(chunk) {
            subscriber.apply(change);
        }
        if to.write_all(chunk).await.is_err() {
            return;
        }
    }
}

/// Reads until a whole CONNECT is there: (the CONNECT, every byte read so far). `None` for
/// anything else.
async fn read_connect(client: &mut TcpStream) -> Option<(Connect, Vec<u8>)> {
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 4096];
    loop {
        let n = client.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(chunk.get(..n)?);
        match connect_packet::parse(&buf) {
            Ok(Some(c)) => return Some((c, buf)),
            Ok(None) if buf.len() <= MAX_CONNECT => {}
            _ => return None,
        }
    }
}
