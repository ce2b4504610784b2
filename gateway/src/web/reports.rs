//! The manager's and the shift's pages: the response report (JSON or CSV) and the shift
//! handover (the current shift so far, made on demand, and the recorded ones).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::api::body_bytes;
use super::error::ApiError;
use super::request;
use super::session::Session;
use super::tool::Reader;
use crate::alert::Locale;
use crate::report::{Handover, csv, response};

/// Handovers listed by default.
const DEFAULT_HANDOVERS: usize = 20;

pub(crate) async fn report(
    State(st): State<AppState>,
    _r: Reader,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let setup = st.backend.report_setup();
    let now = st.backend.now();
    let q = request::report_query(q.as_deref(), setup.tz(), now)?;
    let trails = st.backend.trails(q.from, q.to, false)?;
    let report = response::build(&setup, &trails, q.from, q.to, now);
    if !q.csv {
        return Ok(Json(report).into_response());
    }
    let locale = q
        .lang
        .unwrap_or_else(|| Locale::from_tag(&st.backend.status().locale));
    // A byte-order mark, so spreadsheet programs read the Chinese labels as UTF-8.
    let body = format!("\u{feff}{}", csv::render(&report, locale));
    let name = format!(
        "attachment; filename=\"pingan-report-{}-{}.csv\"",
        report.from.millis(),
        report.to.millis()
    );
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

pub(crate) async fn handover_preview(
    State(st): State<AppState>,
    _s: Session,
) -> Result<Json<Handover>, ApiError> {
    Ok(Json(st.backend.handover_preview()?))
}

pub(crate) async fn handover_now(
    State(st): State<AppState>,
    s: Session,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Handover>, ApiError> {
    let body = body_bytes(body)?;
    request::require_json(&headers, &body)?;
    let cmd = request::command(&body, &s.record.user)?;
    Ok(Json(st.backend.handover_now(cmd.by.display()).await?))
}

pub(crate) async fn handovers(
    State(st): State<AppState>,
    _s: Session,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<Handover>>, ApiError> {
    let limit = request::limit(q.as_deref(), DEFAULT_HANDOVERS)?;
    Ok(Json(st.backend.handovers(limit)?))
}
