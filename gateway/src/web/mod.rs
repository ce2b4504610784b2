//! The nurse-station dashboard and REST API.
//!
//! - [`backend`]: what the dashboard needs from the gateway (the [`Backend`] trait and views).
//! - [`auth`]: staff accounts (argon2id) and sessions over the store's accounts; [`add_user`],
//!   [`create_demo_user`].
//! - `api`: REST handlers under `/api/v1`; `events`: Server-Sent Events of alert changes.
//! - `admin`: care records and staff accounts, for admins (and `pingan user` with the tool
//!   token); [`staff`]: the account rules (last admin, sessions ended on disable).
//! - `reports`: the response report (JSON, CSV) and shift handovers; `devices`: device
//!   commands and their records; [`tool`]: read access to reports for `pingan report`.
//! - `session`: the session extractor (cookie + CSRF header); `throttle`: login limits per
//!   address and per user.
//! - `listener`: the accept loop (connection caps per address and in total, header and idle
//!   timeouts).
//! - `request`: parsing of ids, bodies and queries; `error`: every failure as `{"error": …}`.
//! - `assets`: the embedded single-page dashboard (`gateway/assets/`).
//! - [`memory`]: an in-memory [`Backend`] around the real alert engine, for tests and demos.
//!
//! Acknowledge and resolve go to [`Backend::acknowledge`] / [`Backend::resolve`], the same alert
//! engine path as MQTT commands; device commands to [`Backend::device_command`], the same device
//! task as MQTT device commands.

mod admin;
mod api;
mod assets;
pub mod auth;
pub mod backend;
mod devices;
mod error;
mod events;
mod listener;
pub mod memory;
mod reports;
mod request;
mod session;
pub mod staff;
mod throttle;
pub mod tool;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;

pub use assets::page_weight;
pub use auth::{
    AuthError, add_user, add_user_as, create_demo_user, default_role, generate_password,
    set_password,
};
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
        .route("/devices/{id}/commands/{command}", post(devices::command))
        .route("/devices/{id}/actions", get(devices::device_actions))
        .route("/actions", get(devices::actions))
        .route("/report", get(reports::report))
        .route(
            "/handover",
            get(reports::handover_preview).post(reports::handover_now),
        )
        .route("/handovers", get(reports::handovers))
        .route("/care", get(admin::care_view))
        .route("/care/residents/{id}", post(admin::set_flags))
        .route("/care/residents/{id}/reset", post(admin::reset_flags))
        .route("/care/escalation", post(admin::set_escalation))
        .route("/care/escalation/reset", post(admin::reset_escalation))
        .route("/accounts", get(admin::accounts).post(admin::add_account))
        .route("/accounts/{user}/{action}", post(admin::account_action))
        .route("/events", get(events::events))
        .route("/openapi.yaml", get(assets::openapi));
    Router::new()
        .route("/", get(assets::index))
        .route("/app.js", get(assets::app_js))
        .route("/i18n.js", get(assets::i18n_js))
        .route("/devices.js", get(assets::devices_js))
        .route("/shift.js", get(assets::shift_js))
        .route("/admin.js", get(assets::admin_js))
        .route("/app.css", get(assets::app_css))
        .route("/healthz", get(api::health))
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
