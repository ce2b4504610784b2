//! The Prometheus endpoint: `GET /metrics` on its own listener (`[metrics] bind`), optionally
//! behind a bearer token (`[metrics] token_file`). Each scrape encodes the event families of
//! [`crate::metrics::Metrics`] and the levels sampled now by [`StatusSources::levels`].

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use super::status::StatusSources;
use super::task::{Part, Tasks};
use crate::config::Config;
use crate::metrics::CONTENT_TYPE;

#[derive(Debug, Clone)]
struct Exporter {
    sources: Arc<StatusSources>,
    /// `Bearer {token}`, when a token is required.
    expected: Option<String>,
}

/// Reads the token file: its first line, without surrounding white space.
fn read_token(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read metrics.token_file {}: {e}", path.display()))?;
    let token = text.lines().next().unwrap_or("").trim().to_owned();
    if token.is_empty() {
        return Err(format!("metrics.token_file {} is empty", path.display()));
    }
    Ok(token)
}

/// Compares without stopping at the first differing byte, so the time taken says nothing about
/// how much of a guessed token was right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn metrics(State(e): State<Exporter>, headers: HeaderMap) -> Response {
    if let Some(expected) = &e.expected {
        let given = headers
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !same(given, expected.as_bytes()) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "a bearer token is required (metrics.token_file)\n",
            )
                .into_response();
        }
    }
    let sources = e.sources.clone();
    // Sampling reads the store's size and the outboxes: keep it off the reactor.
    let body = tokio::task::spawn_blocking(move || {
        let levels = sources.levels();
        sources.live.metrics.encode(&levels)
    })
    .await;
    match body {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Serves `/metrics` on `listener` until `shutdown`.
async fn serve(
    listener: tokio::net::TcpListener,
    sources: Arc<StatusSources>,
    token: Option<String>,
    shutdown: CancellationToken,
) {
    let state = Exporter {
        sources,
        expected: token.map(|t| format!("Bearer {t}")),
    };
    let app = Router::new()
        .route("/metrics", get(metrics))
        .with_state(state);
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "metrics listening");
    }
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
    {
        tracing::error!(error = %e, "metrics endpoint stopped");
    }
}

/// Starts the metrics endpoint when `[metrics] bind` is set; a problem (unreadable token, address
/// in use) is returned for a technical alert and never stops the gateway.
pub(super) async fn start(
    config: &Config,
    tasks: &mut Tasks,
    status: &Arc<StatusSources>,
) -> Option<String> {
    let bind = config.metrics.bind?;
    let token = match config.metrics.token_file.as_deref().map(read_token) {
        Some(Err(e)) => return Some(format!("{e}; metrics are not served")),
        Some(Ok(t)) => Some(t),
        None => None,
    };
    let listener = match tokio::net::TcpListener::bind(bind).await {
        Ok(l) => l,
        Err(e) => return Some(format!("cannot listen on {bind} for metrics: {e}")),
    };
    let stop = tasks.token(Part::Http);
    tasks.spawn(Part::Http, serve(listener, status.clone(), token, stop));
    None
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"Bearer abc", b"Bearer abc"));
        assert!(!same(b"Bearer abd", b"Bearer abc"));
        assert!(!same(b"Bearer ab", b"Bearer abc"));
        assert!(!same(b"", b"Bearer abc"));
    }
}
