//! Read access for tools on the gateway's machine: `pingan report` runs while the gateway holds
//! the database, so it asks the running gateway instead, with the secret the gateway writes to
//! `pingan-api-token` in its data directory (readable by its own user only) at every start.
//!
//! The token reads reports (the [`Reader`] extractor of the report route) and manages staff
//! accounts (`admin::Manager`, for `pingan user`), nothing else: who
//! can read the data directory can read the database anyway once the gateway stops, so the
//! token grants nothing that file access does not.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::AppState;
use super::auth::{constant_time_eq, random_token};
use super::error::ApiError;
use super::session::Session;

/// A fresh tool token: 256 random bits as hex.
pub fn new_tool_token() -> String {
    random_token()
}

/// A logged-in person, or a local tool with the tool token in `Authorization: Bearer …`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader;

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let Some(sent) = bearer {
            return match state.backend.tool_token() {
                Some(t) if constant_time_eq(t.as_bytes(), sent.trim().as_bytes()) => Ok(Self),
                _ => Err(ApiError::Unauthorized),
            };
        }
        Session::from_request_parts(parts, state)
            .await
            .map(|_| Self)
    }
}
