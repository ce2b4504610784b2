//! The [`Session`] extractor: a handler that takes it runs only for a logged-in user, and for a
//! state-changing method only with the session's CSRF token in `X-CSRF-Token`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};

use super::AppState;
use super::auth::{SESSION_TTL, SessionRecord, constant_time_eq};
use super::error::ApiError;

/// Name of the session cookie.
pub(crate) const COOKIE: &str = "pingan_session";
/// Header carrying the CSRF token.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// A logged-in user's session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The session token (the cookie's value).
    pub(crate) token: String,
    /// The stored session.
    pub(crate) record: SessionRecord,
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = session_token(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let record = state
            .auth
            .session(token, state.backend.now())?
            .ok_or(ApiError::Unauthorized)?;
        if !is_safe(&parts.method) {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            if !constant_time_eq(sent, record.csrf.as_bytes()) {
                return Err(ApiError::Csrf);
            }
        }
        Ok(Self {
            token: token.to_owned(),
            record,
        })
    }
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The session token from the `Cookie` headers, if any.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(cookie_value)
}

/// Finds our cookie in one `Cookie` header value (`a=1; pingan_session=…; b=2`).
pub(crate) fn cookie_value(header: &str) -> Option<&str> {
    header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name.trim() == COOKIE).then(|| value.trim().trim_matches('"'))
    })
}

/// The `Set-Cookie` value that stores a session in the browser. No `Secure`: the dashboard is
/// served over plain HTTP on the site's LAN; `SameSite=Strict` keeps it off cross-site requests.
pub(crate) fn set_cookie(token: &str) -> String {
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        SESSION_TTL.as_secs()
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_the_session_cookie_among_others() {
        assert_eq!(cookie_value("a=1; pingan_session=abc; b=2"), Some("abc"));
        assert_eq!(cookie_value("pingan_session=abc"), Some("abc"));
        assert_eq!(cookie_value("xpingan_session=abc"), None);
        assert_eq!(cookie_value("a=1"), None);
        assert_eq!(cookie_value(""), None);
    }

    proptest! {
        #[test]
        fn cookie_parsing_never_panics(s in ".*") {
            let _ = cookie_value(&s);
        }

        #[test]
        fn a_set_cookie_token_is_read_back(token in "[0-9a-f]{64}", other in "[a-z]{1,8}=[a-z0-9]{0,8}") {
            let header = format!("{other}; {}", set_cookie(&token).split(';').next().unwrap_or_default());
            prop_assert_eq!(cookie_value(&header), Some(token.as_str()));
        }
    }
}
