//! A hand-written MQTT 3.1.1 peer that accepts connections, subscriptions and pings but never
//! acknowledges a QoS 1 PUBLISH: the broker that keeps a session alive while swallowing every
//! alert. No real broker can be made to do that, so this one is written out (STYLE.md).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The peer's counters.
#[derive(Debug, Default)]
pub struct SilentCounts {
    /// CONNECT packets accepted.
    pub connects: AtomicUsize,
    /// QoS 1 PUBLISH packets swallowed.
    pub publishes: AtomicUsize,
}

/// A running silent broker on 127.0.0.1.
#[derive(Debug)]
pub struct SilentBroker {
    /// Its port.
    pub port: u16,
    /// What it saw.
    pub counts: Arc<SilentCounts>,
}

impl SilentBroker {
    /// Starts it on an ephemeral port; its threads end with the test process.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let counts = Arc::new(SilentCounts::default());
        let c = counts.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let c = c.clone();
                std::thread::spawn(move || serve(stream, &c));
            }
        });
        Self { port, counts }
    }

    /// CONNECTs so far.
    pub fn connects(&self) -> usize {
        self.counts.connects.load(Ordering::Relaxed)
    }

    /// QoS 1 PUBLISHes swallowed so far.
    pub fn publishes(&self) -> usize {
        self.counts.publishes.load(Ordering::Relaxed)
    }
}

fn read_packet(s: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut first = [0u8; 1];
    s.read_exact(&mut first).ok()?;
    let (mut len, mut shift) = (0usize, 0);
    loop {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).ok()?;
        len |= usize::from(b[0] & 0x7f) << shift;
        if b[0] & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 21 {
            return None;
        }
    }
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    Some((first[0], body))
}

fn serve(mut s: TcpStream, counts: &SilentCounts) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(120)));
    while let Some((header, body)) = read_packet(&mut s) {
        let reply: Vec<u8> = match header >> 4 {
            // CONNECT → CONNACK, session not present, accepted.
            1 => {
                counts.connects.fetch_add(1, Ordering::Relaxed);
                vec![0x20, 0x02, 0x00, 0x00]
            }
            // PUBLISH: QoS 1 is counted and never acknowledged.
            3 => {
                if (header >> 1) & 0x03 == 1 {
                    counts.publishes.fetch_add(1, Ordering::Relaxed);
                }
                Vec::new()
            }
            // SUBSCRIBE → SUBACK granting QoS 1 for each filter.
            8 => {
                let (id0, id1) = (body.first().copied(), body.get(1).copied());
                let (Some(a), Some(b)) = (id0, id1) else {
                    return;
                };
                vec![0x90, 0x03, a, b, 0x01]
            }
            // PINGREQ → PINGRESP: the session looks perfectly alive.
            12 => vec![0xd0, 0x00],
            // DISCONNECT.
            14 => return,
            _ => Vec::new(),
        };
        if !reply.is_empty() && s.write_all(&reply).is_err() {
            return;
        }
    }
}
