//! The dashboard's accept loop: `axum::serve` has no connection limits or header timeout, so
//! sockets are accepted here and served with hyper directly.
//!
//! - At most [`Limits::max_connections`] connections at once and [`Limits::per_address`] per
//!   source address (the pure [`Admission`]); a socket over either cap is closed at once, so the
//!   kernel's backlog never fills up with sockets nobody serves.
//! - A request's headers must arrive within [`Limits::header_timeout`]; the same timer closes a
//!   keep-alive connection that sits idle between requests. Half-open and silent sockets are
//!   therefore gone after seconds, and cannot pile up to the open-file limit. An event stream is
//!   not affected: while its response runs, no request head is awaited.
//! - The source address goes into each request (the [`PeerAddr`] extension) for login
//!   throttling and logs.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::log_limit::{LogLimit, Verdict};

/// The source address of a request's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeerAddr(pub(crate) SocketAddr);

/// Connection limits of the dashboard.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections at once.
    pub max_connections: usize,
    /// Connections at once from one source address (a station PC's browser opens about six and
    /// one event stream per tab).
    pub per_address: usize,
    /// Time to send a request's headers, and longest idle time between requests.
    pub header_timeout: Duration,
}

/// Connections at once without a smaller open-file limit.
pub(crate) const MAX_CONNECTIONS: usize = 512;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: MAX_CONNECTIONS,
            per_address: 32,
            header_timeout: Duration::from_secs(10),
        }
    }
}

impl Limits {
    /// The defaults, with the connection cap inside the process's open-file limit.
    pub fn for_open_files() -> Self {
        let (_, http) = crate::fd_limit::caps(
            crate::fd_limit::current(),
            crate::config::MqttConfig::default().max_connections,
            MAX_CONNECTIONS,
        );
        let d = Self::default();
        Self {
            max_connections: http,
            per_address: d.per_address.min(http),
            ..d
        }
    }
}

/// Why a connection was closed at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    /// Every connection slot is taken.
    Total,
    /// This address has its share.
    Address,
}

/// Connections held, per address: pure.
#[derive(Debug)]
pub(crate) struct Admission {
    limits: Limits,
    total: usize,
    by_addr: HashMap<IpAddr, usize>,
}

impl Admission {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            limits,
            total: 0,
            by_addr: HashMap::new(),
        }
    }

    /// Takes a slot for a connection from `ip`.
    pub(crate) fn admit(&mut self, ip: IpAddr) -> Result<(), Full> {
        if self.total >= self.limits.max_connections {
            return Err(Full::Total);
        }
        let n = self.by_addr.entry(ip).or_default();
        if *n >= self.limits.per_address {
            return Err(Full::Address);
        }
        *n += 1;
        self.total += 1;
        Ok(())
    }

    /// Gives back the slot of a connection from `ip`.
    pub(crate) fn release(&mut self, ip: IpAddr) {
        if let Some(n) = self.by_addr.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.by_addr.remove(&ip);
            }
            self.total = self.total.saturating_sub(1);
        }
    }
}

/// Gives a connection's slot back however its task ends.
struct Slot(Arc<Mutex<Admission>>, IpAddr);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .release(self.1);
    }
}

/// Serves `app` on `listener` until `shutdown`; then open connections finish their current
/// request (event streams end on the same token) and the loop returns.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let admission = Arc::new(Mutex::new(Admission::new(limits)));
    let mut refused = LogLimit::new(Duration::from_secs(10));
    let mut accept_errors = LogLimit::new(Duration::from_secs(10));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (tcp, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(error) => {
                    // Out of file descriptors or memory: back off instead of spinning.
                    if let Verdict::Log { repeats, total } = accept_errors.hit(Instant::now()) {
                        tracing::error!(%error, failures = total, since_last_line = repeats, "the dashboard cannot accept connections");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        let admitted = admission
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .admit(peer.ip());
        if let Err(full) = admitted {
            if let Verdict::Log { repeats, total } = refused.hit(Instant::now()) {
                let why = match full {
                    Full::Total => "every connection slot is taken",
                    Full::Address => "this address has its share of connections",
                };
                tracing::warn!(%peer, reason = why, refused = total, since_last_line = repeats, "dashboard connection refused");
            }
            drop(tcp);
            continue;
        }
        let slot = Slot(admission.clone(), peer.ip());
        // Alert events are small writes that must not wait for Nagle.
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let stop = shutdown.clone();
        connections.spawn(async move {
            let _slot = slot;
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(PeerAddr(peer));
                    let mut app = app.clone();
                    async move { tower_service::Service::call(&mut app, req).await }
                },
            );
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .max_buf_size(64 * 1024);
            let conn = http.serve_connection(TokioIo::new(tcp), service);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(error) = r {
                        tracing::debug!(%peer, %error, "dashboard connection ended");
                    }
                }
                () = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    while connections.join_next().await.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_capped_in_total_and_per_address() {
        let mut a = Admission::new(Limits {
            max_connections: 3,
            per_address: 2,
            header_timeout: Duration::from_secs(1),
        });
        let x: IpAddr = "10.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let y: IpAddr = "10.0.0.2".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        assert_eq!(a.admit(x), Ok(()));
        assert_eq!(a.admit(x), Ok(()));
        assert_eq!(a.admit(x), Err(Full::Address));
        assert_eq!(a.admit(y), Ok(()));
        assert_eq!(a.admit(y), Err(Full::Total));
        a.release(x);
        assert_eq!(a.admit(y), Ok(()));
        a.release(y);
        a.release(y);
        a.release(y);
        assert_eq!(a.total, 1);
    }

    #[test]
    fn the_cap_fits_the_open_file_limit() {
        let l = Limits::for_open_files();
        assert!(l.max_connections >= 1 && l.max_connections <= MAX_CONNECTIONS);
        assert!(l.per_address <= l.max_connections);
    }
}
