//! The web layer's error: every failure of a request becomes a status code and a JSON body
//! `{"error": "...", "code": "..."}`, never a panic and never an HTML page. `error` is an English
//! sentence for logs and scripts; `code` is a stable word the dashboard shows in the person's
//! language (with `by` for `already_acknowledged`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::alert::CommandError;
use crate::care::CareError;

use super::auth::{AuthError, LoginError};
use super::backend::BackendError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid session cookie.
    #[error("not logged in")]
    Unauthorized,
    /// The account may not do this (care records and staff accounts need an admin).
    #[error("this needs an admin account")]
    Forbidden,
    /// A POST without the session's `X-CSRF-Token` header.
    #[error("missing or wrong X-CSRF-Token header")]
    Csrf,
    /// Wrong user name or password.
    #[error("wrong user name or password")]
    BadCredentials,
    /// Too many failed logins for this user.
    #[error("too many failed logins; try again in {retry_after_s} s")]
    Throttled {
        /// Seconds until the next attempt is accepted.
        retry_after_s: u64,
    },
    /// The request itself is malformed (body, query, path).
    #[error("{0}")]
    BadRequest(String),
    /// The body is not declared as JSON.
    #[error("the body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// The body is larger than the limit.
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    /// Well-formed but unacceptable values (too long, empty).
    #[error("{0}")]
    Unprocessable(String),
    /// No such resource.
    #[error("{0}")]
    NotFound(String),
    /// The alert engine refused a command.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// Storage of accounts or sessions failed.
    #[error("account storage failed: {0}")]
    Auth(#[from] AuthError),
    /// The gateway could not do it (no such device or command, a stopped part, storage).
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// A care-record change was refused.
    #[error(transparent)]
    Care(#[from] CareError),
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::BadCredentials => Self::BadCredentials,
            LoginError::Throttled { retry_after_s } => Self::Throttled { retry_after_s },
            LoginError::Auth(e) => Self::Auth(e),
        }
    }
}

impl ApiError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized | Self::BadCredentials => StatusCode::UNAUTHORIZED,
            Self::Csrf | Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Command(CommandError::UnknownAlert(_)) => StatusCode::NOT_FOUND,
            Self::Command(CommandError::AlreadyAcknowledged { .. }) => StatusCode::CONFLICT,
            Self::Command(CommandError::MissingPerson | CommandError::InvalidPerson(_)) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::Auth(AuthError::InvalidName(_) | AuthError::WeakPassword(_)) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::Auth(AuthError::UserExists(_) | AuthError::LastAdmin) => StatusCode::CONFLICT,
            Self::Auth(AuthError::UnknownUser(_)) => StatusCode::NOT_FOUND,
            Self::Auth(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Backend(BackendError::NotFound(_)) => StatusCode::NOT_FOUND,
            Self::Backend(BackendError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Care(CareError::UnknownResident(_)) => StatusCode::NOT_FOUND,
            Self::Care(CareError::InvalidEscalation(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Care(CareError::Store(_)) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable word for this error in the body's `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Csrf => "csrf",
            Self::Forbidden => "forbidden",
            Self::BadCredentials => "bad_credentials",
            Self::Throttled { .. } => "throttled",
            Self::BadRequest(_) => "bad_request",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TooLarge(_) => "too_large",
            Self::Unprocessable(_) => "unprocessable",
            Self::NotFound(_) | Self::Backend(BackendError::NotFound(_)) => "not_found",
            Self::Command(CommandError::UnknownAlert(_)) => "unknown_alert",
            Self::Command(CommandError::AlreadyAcknowledged { .. }) => "already_acknowledged",
            Self::Command(CommandError::MissingPerson) => "missing_person",
            Self::Command(CommandError::InvalidPerson(_)) => "invalid_person",
            Self::Auth(AuthError::InvalidName(_)) => "invalid_name",
            Self::Auth(AuthError::WeakPassword(_)) => "weak_password",
            Self::Auth(AuthError::UserExists(_)) => "user_exists",
            Self::Auth(AuthError::UnknownUser(_)) => "unknown_user",
            Self::Auth(AuthError::LastAdmin) => "last_admin",
            Self::Auth(_) => "internal",
            Self::Backend(BackendError::Unavailable(_)) | Self::Care(CareError::Store(_)) => {
                "unavailable"
            }
            Self::Care(CareError::UnknownResident(_)) => "unknown_resident",
            Self::Care(CareError::InvalidEscalation(_)) => "invalid_escalation",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut body = serde_json::json!({ "error": self.to_string(), "code": self.code() });
        if let Self::Command(CommandError::AlreadyAcknowledged { by, .. }) = &self {
            body["by"] = serde_json::Value::String(by.clone());
        }
        let mut resp = (status, axum::Json(body)).into_response();
        if let Self::Throttled { retry_after_s } = self {
            if let Ok(v) = HeaderValue::from_str(&retry_after_s.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}
