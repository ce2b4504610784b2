//! Parsing of what clients send: alert ids in paths, command and login bodies, query strings.
//! Pure functions over bytes and text, so they are property-tested for "never panics, always a
//! typed error".

use axum::http::{HeaderMap, header};
use serde::Deserialize;
use ulid::Ulid;

use super::error::ApiError;
use crate::alert::{Actor, check_person, parse_alert_id};

/// Largest request body accepted, bytes.
pub(crate) const MAX_BODY: usize = 16 * 1024;
/// Longest person name in a command, characters.
pub(crate) const MAX_PERSON: usize = crate::alert::MAX_PERSON;
/// Longest note in a command, characters.
pub(crate) const MAX_NOTE: usize = 2000;
/// Default window of resolved alerts in the list, seconds.
pub(crate) const DEFAULT_RECENT_S: u64 = 3600;
/// Longest window of resolved alerts in the list, seconds.
pub(crate) const MAX_RECENT_S: u64 = 7 * 86_400;

/// An acknowledge or resolve command from the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    /// Who: the logged-in account and the name typed beside it.
    pub(crate) by: Actor,
    /// The person's note.
    pub(crate) note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandBody {
    /// The person acting, when not the logged-in account (a shared station PC).
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// A login request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Login {
    /// Account name.
    pub(crate) user: String,
    /// Password.
    pub(crate) password: String,
}

/// Parses an alert id from a path segment (ids outside the ULID range are refused, see
/// `alert::id`).
pub(crate) fn alert_id(s: &str) -> Result<Ulid, ApiError> {
    parse_alert_id(s).map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// Parses an acknowledge/resolve body for the logged-in `user`. An empty body means "me, no
/// note". A typed `name` is kept beside the account, never instead of it: the audit records the
/// account and shows `name (account)`.
pub(crate) fn command(body: &[u8], user: &str) -> Result<Command, ApiError> {
    let parsed = if body.iter().all(u8::is_ascii_whitespace) {
        CommandBody {
            name: None,
            note: None,
        }
    } else {
        json::<CommandBody>(body)?
    };
    let name = parsed.name.as_deref().map(str::trim).unwrap_or_default();
    let name = if name.is_empty() {
        None
    } else {
        Some(check_person(name).map_err(|e| {
            ApiError::Unprocessable(format!(
                "name: {e} (at most {MAX_PERSON} characters, no control or formatting characters)"
            ))
        })?)
    };
    let by = Actor::account_with_name(user, name.map(str::to_owned));
    let note = parsed
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(ApiError::Unprocessable(format!(
            "note: at most {MAX_NOTE} characters"
        )));
    }
    Ok(Command { by, note })
}

/// Parses a login body.
pub(crate) fn login(body: &[u8]) -> Result<Login, ApiError> {
    json(body)
}

/// `recent_s` from a query string such as `recent_s=600`; other keys are ignored.
pub(crate) fn recent_s(query: Option<&str>) -> Result<u64, ApiError> {
    let Some(q) = query else {
        return Ok(DEFAULT_RECENT_S);
    };
    for pair in q.split('&') {
        if let Some(v) = pair.strip_prefix("recent_s=") {
            return v.parse::<u64>().map(|s| s.min(MAX_RECENT_S)).map_err(|_| {
                ApiError::BadRequest(format!("recent_s must be a number of seconds, not {v:?}"))
            });
        }
    }
    Ok(DEFAULT_RECENT_S)
}

/// A non-empty body must be declared JSON: browsers cannot send that cross-site without a CORS
/// preflight, which this server never grants.
pub(crate) fn require_json(headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    if body.is_empty() {
        return Ok(());
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_body_acts_as_the_logged_in_user() {
        assert_eq!(
            command(b"", "li").unwrap(),
            Command {
                by: Actor::account("li"),
                note: None
            }
        );
    }

    #[test]
    fn another_name_keeps_the_account_in_the_audit() {
        let c = command(
            r#"{"name":"王芳","note":" 已到床边 "}"#.as_bytes(),
            "station1",
        )
        .unwrap();
        assert_eq!(c.by.display(), "王芳 (station1)");
        assert_eq!(c.by.account.as_deref(), Some("station1"));
        assert_eq!(c.note.as_deref(), Some("已到床边"));
    }

    #[test]
    fn malformed_or_unknown_fields_are_bad_requests() {
        for body in [
            &b"{"[..],
            b"\"x\"",
            b"{\"nme\":\"x\"}",
            b"\xff\xfe",
            b"null",
        ] {
            assert!(
                matches!(command(body, "li"), Err(ApiError::BadRequest(_))),
                "{body:?}"
            );
        }
    }

    #[test]
    fn overlong_name_or_note_is_unprocessable() {
        let long = format!(r#"{{"note":"{}"}}"#, "x".repeat(MAX_NOTE + 1));
        assert!(matches!(
            command(long.as_bytes(), "li"),
            Err(ApiError::Unprocessable(_))
        ));
        let long = format!(r#"{{"name":"{}"}}"#, "x".repeat(MAX_PERSON + 1));
        assert!(matches!(
            command(long.as_bytes(), "li"),
            Err(ApiError::Unprocessable(_))
        ));
        for name in ["\\u0000", "Li\\u202eadmin", "a\\u2066b"] {
            let body = format!(r#"{{"name":"{name}"}}"#);
            assert!(
                matches!(
                    command(body.as_bytes(), "li"),
                    Err(ApiError::Unprocessable(_))
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn recent_window_defaults_and_is_capped() {
        assert_eq!(recent_s(None).unwrap(), DEFAULT_RECENT_S);
        assert_eq!(recent_s(Some("x=1&recent_s=60")).unwrap(), 60);
        assert_eq!(recent_s(Some("recent_s=999999999")).unwrap(), MAX_RECENT_S);
        assert!(recent_s(Some("recent_s=-1")).is_err());
    }

    #[test]
    fn bad_ulids_are_bad_requests() {
        assert!(alert_id("01ARZ3NDEKTSV4RRFFQ69G5FAV").is_ok());
        for s in [
            "81ARZ3NDEKTSV4RRFFQ69G5FAV",
            "",
            "x",
            "01ARZ3NDEKTSV4RRFFQ69G5FA",
            "01ARZ3NDEKTSV4RRFFQ69G5FA!",
            "../etc",
        ] {
            assert!(matches!(alert_id(s), Err(ApiError::BadRequest(_))), "{s}");
        }
    }

    proptest! {
        #[test]
        fn command_parsing_never_panics(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = command(&body, "li");
        }

        #[test]
        fn json_shaped_commands_never_panic(name in ".{0,80}", note in ".{0,80}") {
            let body = serde_json::json!({ "name": name, "note": note }).to_string();
            if let Ok(c) = command(body.as_bytes(), "li") {
                prop_assert_eq!(c.by.account.as_deref(), Some("li"));
            }
        }

        #[test]
        fn login_and_query_parsing_never_panic(body in proptest::collection::vec(any::<u8>(), 0..128), q in ".{0,40}") {
            let _ = login(&body);
            let _ = recent_s(Some(&q));
        }

        #[test]
        fn alert_id_parsing_never_panics(s in ".{0,40}") {
            let _ = alert_id(&s);
        }
    }
}
