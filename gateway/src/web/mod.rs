//! The nurse-station dashboard and REST API.
//!
//! - [`backend`]: what the dashboard needs from the gateway (the [`Backend`] trait and views).
//! - [`auth`]: staff accounts (argon2id) and sessions over the store's accounts; [`add_user`],
//!   [`create_demo_user`].
//! - `api`: REST handlers under `/api/v1`; `events`: Server-Sent Events of alert changes.
//! - `session`: the session extractor (cookie + CSRF header); `throttle`: login limits per
//!   address and per user.
//! - `listener`: the accept loop (connection caps per address and in total, header and idle
//!   timeouts).
//! - `request`: parsing of ids, bodies and queries; `error`: every failure as `{"error": …}`.
//! - `assets`: the embedded single-page dashboard (`gateway/assets/`).
//! - [`memory`]: an in-memory [`Backend`] around the real alert engine, for tests and demos.
//!
//! Acknowledge and resolve go to [`Backend::acknowledge`] / [`Backend::resolve`], the same alert
//! engine path as MQTT commands.

mod api;
mod assets;
pub mod auth;
pub mod backend;
mod error;
mod events;
mod listener;
pub mod memory;
mod request;
mod session;
mod throttle;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;

pub use assets::page_weight;
pub use auth::{AuthError, add_user, create_demo_user, generate_password, set_password};
pub use backend::Backend;
pub use error::ApiError;
pub use listener::Limits;

/// Why the dashboard stopped.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The HTTP server failed.
    #[error("dashboard server: {0}")]
    Io(#[from] std::io::Error),
}

/// Shared by every handler.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) auth: Arc<auth::Auth>,
    /// Ends the event streams so a graceful shutdown does not wait for browsers.
    pub(crate) shutdown: CancellationToken,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// The dashboard and REST API over `backend`.
pub fn router(backend: Arc<dyn Backend>) -> Router {
    router_with_shutdown(backend, CancellationToken::new())
}

fn router_with_shutdown(backend: Arc<dyn Backend>, shutdown: CancellationToken) -> Router {
    let auth = Arc::new(auth::Auth::new(backend.accounts()));
    let state = AppState {
        backend,
        auth,
        shutdown,
    };
    let api = Router::new()
        .route("/login", post(api::login))
        .route("/logout", post(api::logout))
        .route("/me", get(api::me))
        .route("/alerts", get(api::alerts))
        .route("/alerts/{id}", get(api::alert))
        .route("/alerts/{id}/ack", post(api::acknowledge))
        .route("/alerts/{id}/resolve", post(api::resolve))
        .route("/residents", get(api::residents))
        .route("/devices", get(api::devices))
        .route("/status", get(api::status))
        .route("/events", get(events::events))
        .route("/openapi.yaml", get(assets::openapi));
    Router::new()
        .route("/", get(assets::index))
        .route("/app.js", get(assets::app_js))
        .route("/i18n.js", get(assets::i18n_js))
        .route("/app.css", get(assets::app_css))
        .nest("/api/v1", api)
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(DefaultBodyLimit::max(request::MAX_BODY))
        .layer(axum::middleware::map_response(assets::security_headers))
        .with_state(state)
}

/// Serves the dashboard on `listener` until `shutdown` is cancelled (open event streams end
/// then), with the default [`Limits`] inside the open-file limit.
pub async fn serve(
    listener: tokio::net::TcpListener,
    backend: Arc<dyn Backend>,
    shutdown: CancellationToken,
) -> Result<(), WebError> {
    serve_with(listener, backend, shutdown, Limits::for_open_files()).await
}

/// [`serve`] with explicit connection limits.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    backend: Arc<dyn Backend>,
    shutdown: CancellationToken,
    limits: Limits,
) -> Result<(), WebError> {
    let app = router_with_shutdown(backend, shutdown.clone());
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, max_connections = limits.max_connections, per_address = limits.per_address, "dashboard listening");
    }
    listener::serve(listener, app, limits, shutdown).await?;
    Ok(())
}
