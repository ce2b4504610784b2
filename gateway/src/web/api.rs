//! REST handlers under `/api/v1` (described in `docs/openapi.yaml`).

use std::cmp::Reverse;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pingan_drivers::Timestamp;
use serde::Serialize;

use super::AppState;
use super::auth::{Peer, SessionRecord};
use super::backend::{AlertDetail, DeviceView, ResidentView, StatusView};
use super::error::ApiError;
use super::listener::PeerAddr;
use super::request::{self, MAX_BODY};
use super::session::{self, Session};
use crate::alert::{Alert, AlertState, Role};

/// What `/login` and `/me` return: the account, the CSRF token for POSTs, and the server's
/// clock so the dashboard's countdowns do not depend on the station PC's clock.
#[derive(Debug, Serialize)]
pub(crate) struct Me {
    user: String,
    /// `nurse` or `admin`: the dashboard shows the admin's pages to admins only (the API checks
    /// again on every request).
    role: Role,
    csrf: String,
    expires_at: Timestamp,
    now: Timestamp,
}

impl Me {
    fn new(s: SessionRecord, role: Role, now: Timestamp) -> Self {
        Self {
            user: s.user,
            role,
            csrf: s.csrf,
            expires_at: s.expires_at,
            now,
        }
    }
}

pub(crate) async fn login(
    State(st): State<AppState>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body)?;
    if body.is_empty() {
        return Err(ApiError::BadRequest(
            "send {\"user\": …, \"password\": …}".into(),
        ));
    }
    request::require_json(&headers, &body)?;
    let l = request::login(&body)?;
    // Served without the listener (tests over a bare router), the address is unknown.
    let peer = extensions
        .get::<PeerAddr>()
        .map_or(Peer(std::net::Ipv4Addr::UNSPECIFIED.into()), |p| {
            Peer(p.0.ip())
        });
    let now = st.backend.now();
    let backend = st.backend.clone();
    let clock = move || backend.now();
    let (token, record) = st
        .auth
        .login(&l.user, &l.password, peer, now, &clock)
        .await?;
    let now = st.backend.now();
    let role = st.auth.role_of(&record.user)?.unwrap_or(Role::Nurse);
    with_cookie(
        Json(Me::new(record, role, now)).into_response(),
        &session::set_cookie(&token),
    )
}

pub(crate) async fn logout(State(st): State<AppState>, s: Session) -> Result<Response, ApiError> {
    st.auth.logout(&s.token)?;
    with_cookie(
        StatusCode::NO_CONTENT.into_response(),
        &session::clear_cookie(),
    )
}

pub(crate) async fn me(State(st): State<AppState>, s: Session) -> Result<Json<Me>, ApiError> {
    // A disabled account has no sessions; one that lost its record meanwhile is a nurse.
    let role = st.auth.role_of(&s.record.user)?.unwrap_or(Role::Nurse);
    Ok(Json(Me::new(s.record, role, st.backend.now())))
}

pub(crate) async fn alerts(
    State(st): State<AppState>,
    _s: Session,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<Alert>>, ApiError> {
    let recent = request::recent_s(q.as_deref())?;
    let mut list = st.backend.alerts(recent);
    sort_for_list(&mut list);
    Ok(Json(list))
}

pub(crate) async fn alert(
    State(st): State<AppState>,
    _s: Session,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<AlertDetail>, ApiError> {
    let id = request::alert_id(&path(id)?)?;
    st.backend
        .alert(id)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no alert with id {id}")))
}

pub(crate) async fn acknowledge(
    st: State<AppState>,
    s: Session,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Alert>, ApiError> {
    person_command(st, s, id, headers, body, Act::Acknowledge).await
}

pub(crate) async fn resolve(
    st: State<AppState>,
    s: Session,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Alert>, ApiError> {
    person_command(st, s, id, headers, body, Act::Resolve).await
}

/// What a person does to an alert from the dashboard.
#[derive(Debug, Clone, Copy)]
enum Act {
    Acknowledge,
    Resolve,
}

/// The shared path of acknowledge and resolve: id, JSON body, the person, then the engine.
async fn person_command(
    State(st): State<AppState>,
    s: Session,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    act: Act,
) -> Result<Json<Alert>, ApiError> {
    let id = request::alert_id(&path(id)?)?;
    let body = body_bytes(body)?;
    request::require_json(&headers, &body)?;
    let cmd = request::command(&body, &s.record.user)?;
    let alert = match act {
        Act::Acknowledge => st.backend.acknowledge(id, cmd.by, cmd.note).await?,
        Act::Resolve => st.backend.resolve(id, cmd.by, cmd.note).await?,
    };
    Ok(Json(alert))
}

pub(crate) async fn residents(State(st): State<AppState>, _s: Session) -> Json<Vec<ResidentView>> {
    Json(st.backend.residents())
}

pub(crate) async fn devices(State(st): State<AppState>, _s: Session) -> Json<Vec<DeviceView>> {
    Json(st.backend.devices())
}

pub(crate) async fn status(State(st): State<AppState>, _s: Session) -> Json<StatusView> {
    Json(st.backend.status())
}

/// Unknown paths: a JSON 404 like every other error.
/// `GET /healthz`, without a session (load balancers and monitoring): the health report, 200
/// when nothing needs a person and 503 when something does (docs/CLI.md). It carries no
/// personal data. Computed off the reactor: it reads the store's size and the outboxes.
pub(crate) async fn health(State(st): State<AppState>) -> Response {
    let backend = st.backend.clone();
    let Ok(Some(report)) = tokio::task::spawn_blocking(move || backend.health()).await else {
        return ApiError::NotFound("no health report".into()).into_response();
    };
    let code = match report.status {
        crate::health::Overall::Ok => StatusCode::OK,
        crate::health::Overall::Attention => StatusCode::SERVICE_UNAVAILABLE,
    };
    (code, [(header::CACHE_CONTROL, "no-store")], Json(report)).into_response()
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound("no such path".into())
}

/// The order nurses work in: alerts nobody acknowledged first, then acknowledged, then
/// resolved; within each, higher priority first, then newest first (a new alert lands on top of
/// its priority band, where it is seen).
pub(crate) fn sort_for_list(list: &mut [Alert]) {
    list.sort_by_key(|a| {
        let group = match a.state {
            s if !s.is_acknowledged() => 0u8,
            AlertState::Acknowledged => 1,
            _ => 2,
        };
        let time = if group == 2 {
            a.resolved_at.unwrap_or(a.raised_at)
        } else {
            a.raised_at
        };
        (group, Reverse(a.priority), Reverse(time), a.id)
    });
}

pub(crate) fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(MAX_BODY)
        } else {
            ApiError::BadRequest(format!("could not read the body: {e}"))
        }
    })
}

fn path(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    p.map(|Path(s)| s)
        .map_err(|e| ApiError::BadRequest(format!("bad path: {e}")))
}

fn with_cookie(mut resp: Response, cookie: &str) -> Result<Response, ApiError> {
    let v =
        HeaderValue::from_str(cookie).map_err(|e| ApiError::BadRequest(format!("cookie: {e}")))?;
    resp.headers_mut().insert(header::SET_COOKIE, v);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// A known path with the wrong method.
pub(crate) async fn method_not_allowed() -> (StatusCode, Json<serde_json::Value>) {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(
            serde_json::json!({ "error": "method not allowed on this path", "code": "method_not_allowed" }),
        ),
    )
}
