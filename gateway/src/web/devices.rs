//! Device commands from the dashboard: a person runs one of a device's profile commands
//! (silence a sounder, reset a detector; the page asks for confirmation first); the command is
//! carried out by the device's driver and recorded with the person, and the record, with the
//! device's answer, is the response.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use pingan_drivers::DeviceId;

use super::AppState;
use super::api::body_bytes;
use super::backend::BackendError;
use super::error::ApiError;
use super::request;
use super::session::Session;
use crate::alert::ActionRecord;

/// Records listed by default.
const DEFAULT_ACTIONS: usize = 50;

pub(crate) async fn command(
    State(st): State<AppState>,
    s: Session,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ActionRecord>, ApiError> {
    let Path((device, command)) =
        path.map_err(|e| ApiError::BadRequest(format!("bad path: {e}")))?;
    let device = request::name(&device, "device id")?;
    let command = request::name(&command, "command name")?;
    let body = body_bytes(body)?;
    request::require_json(&headers, &body)?;
    let cmd = request::command(&body, &s.record.user)?;
    let known = st
        .backend
        .devices()
        .into_iter()
        .find(|d| d.id == device)
        .ok_or_else(|| BackendError::NotFound(format!("no device {device}")))?;
    if !known.commands.iter().any(|c| c.name == command) {
        return Err(
            BackendError::NotFound(format!("device {device} has no command {command}")).into(),
        );
    }
    let record = st
        .backend
        .device_command(DeviceId::new(device), command.to_owned(), cmd.by, cmd.note)
        .await?;
    Ok(Json(record))
}

pub(crate) async fn device_actions(
    State(st): State<AppState>,
    _s: Session,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<ActionRecord>>, ApiError> {
    let Path(device) = path.map_err(|e| ApiError::BadRequest(format!("bad path: {e}")))?;
    let device = request::name(&device, "device id")?;
    let limit = request::limit(q.as_deref(), DEFAULT_ACTIONS)?;
    Ok(Json(
        st.backend.actions(Some(DeviceId::new(device)), limit)?,
    ))
}

pub(crate) async fn actions(
    State(st): State<AppState>,
    _s: Session,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<ActionRecord>>, ApiError> {
    let limit = request::limit(q.as_deref(), DEFAULT_ACTIONS)?;
    Ok(Json(st.backend.actions(None, limit)?))
}
