//! Parsing of what clients send: alert ids in paths, command and login bodies, query strings.
//! Pure functions over bytes and text, so they are property-tested for "never panics, always a
//! typed error".

use axum::http::{HeaderMap, header};
use pingan_drivers::Timestamp;
use serde::Deserialize;
use ulid::Ulid;

use super::error::ApiError;
use crate::alert::{Actor, Locale, check_person, parse_alert_id};
use crate::report::period;

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

/// The default span of a report: the last seven days.
pub(crate) const DEFAULT_REPORT_DAYS: i64 = 7;
/// Most records a list returns.
pub(crate) const MAX_LIMIT: usize = 200;
/// Longest device id or command name in a path.
const MAX_NAME: usize = 64;

/// What a report request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReportQuery {
    /// Alerts raised from…
    pub(crate) from: Timestamp,
    /// …to (exclusive).
    pub(crate) to: Timestamp,
    /// CSV instead of JSON.
    pub(crate) csv: bool,
    /// The language of the CSV's labels (default: the site's).
    pub(crate) lang: Option<Locale>,
}

/// The `key=value` pairs of a query string, percent-decoded (`+` is a space, so an offset
/// `+08:00` is sent as `%2B08:00`). A pair that does not decode is a bad request.
pub(crate) fn query_pairs(query: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let Some(q) = query else {
        return Ok(Vec::new());
    };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(k)?, percent_decode(v)?))
        })
        .collect()
}

fn percent_decode(s: &str) -> Result<String, ApiError> {
    let bad = || ApiError::BadRequest(format!("bad percent-encoding in the query: {s:?}"));
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = [bytes.next().ok_or_else(bad)?, bytes.next().ok_or_else(bad)?];
                let hex = std::str::from_utf8(&hex).map_err(|_| bad())?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            }
            b => out.push(b),
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// Parses `from`, `to` (or `range` = `today` | `yesterday` | `week` | `month`, in the site's
/// local days), `format` (`json` | `csv`) and `lang` (`zh-CN` | `en`) of a report request; times
/// in `tz` (see `report::period`). Default: the seven days before `now`.
pub(crate) fn report_query(
    query: Option<&str>,
    tz: chrono_tz::Tz,
    now: Timestamp,
) -> Result<ReportQuery, ApiError> {
    let mut from = None;
    let mut to = None;
    let mut csv = false;
    let mut lang = None;
    let time = |v: &str, end| {
        period::parse_time(v, tz, end).map_err(|e| ApiError::BadRequest(e.to_string()))
    };
    for (k, v) in query_pairs(query)? {
        match k.as_str() {
            "from" => from = Some(time(&v, false)?),
            "to" => to = Some(time(&v, true)?),
            "range" => {
                let (f, t) = period::named_span(&v, now, tz).ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "range must be today, yesterday, week or month, not {v:?}"
                    ))
                })?;
                from = Some(f);
                to = Some(t);
            }
            "format" => {
                csv = match v.as_str() {
                    "csv" => true,
                    "json" => false,
                    _ => {
                        return Err(ApiError::BadRequest(format!(
                            "format must be json or csv, not {v:?}"
                        )));
                    }
                }
            }
            "lang" => {
                lang = Some(match v.as_str() {
                    "zh-CN" => Locale::ZhCn,
                    "en" => Locale::En,
                    _ => {
                        return Err(ApiError::BadRequest(format!(
                            "lang must be zh-CN or en, not {v:?}"
                        )));
                    }
                })
            }
            _ => {}
        }
    }
    // "Up to now" includes what was raised this very millisecond (`to` is exclusive).
    let to = to.unwrap_or(Timestamp(now.millis() + 1));
    let from = from.unwrap_or_else(|| Timestamp(to.millis() - DEFAULT_REPORT_DAYS * 86_400_000));
    period::check_span(from, to).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(ReportQuery {
        from,
        to,
        csv,
        lang,
    })
}

/// `limit` from a query string, `default` when absent, at most [`MAX_LIMIT`].
pub(crate) fn limit(query: Option<&str>, default: usize) -> Result<usize, ApiError> {
    for (k, v) in query_pairs(query)? {
        if k == "limit" {
            return v
                .parse::<usize>()
                .map(|n| n.min(MAX_LIMIT))
                .map_err(|_| ApiError::BadRequest(format!("limit must be a number, not {v:?}")));
        }
    }
    Ok(default)
}

/// A device id or command name from a path: 1 to 64 characters, no `/`, spaces at the ends or
/// control characters.
pub(crate) fn name<'a>(s: &'a str, what: &str) -> Result<&'a str, ApiError> {
    let ok = !s.is_empty()
        && s.chars().count() <= MAX_NAME
        && s.trim() == s
        && !s.contains('/')
        && !s.chars().any(char::is_control);
    if ok {
        Ok(s)
    } else {
        Err(ApiError::BadRequest(format!(
            "{s:?} is not a {what}: 1 to {MAX_NAME} characters, no '/'"
        )))
    }
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

        #[test]
        fn report_and_limit_queries_never_panic(q in ".{0,80}") {
            let _ = report_query(Some(&q), chrono_tz::Asia::Shanghai, Timestamp(0));
            let _ = limit(Some(&q), 10);
            let _ = name(&q, "device id");
        }
    }

    #[test]
    fn report_query_reads_encoded_times_and_defaults_to_a_week() {
        let tz = chrono_tz::Asia::Shanghai;
        let now = Timestamp(1_782_835_200_000);
        let q = report_query(None, tz, now).unwrap();
        // "Up to now" includes what was raised this very millisecond.
        assert_eq!(q.to, Timestamp(now.millis() + 1));
        assert_eq!(q.to.millis() - q.from.millis(), 7 * 86_400_000);
        let q = report_query(
            Some("from=2026-06-30T23%3A00%3A00%2B08%3A00&to=2026-07-01&format=csv&lang=en"),
            tz,
            now,
        )
        .unwrap();
        assert_eq!(q.from, Timestamp(now.millis() - 3_600_000));
        assert_eq!(q.to, Timestamp(now.millis() + 86_400_000));
        assert!(q.csv);
        assert_eq!(q.lang, Some(Locale::En));
        for bad in [
            "from=tomorrow",
            "format=xml",
            "lang=fr",
            "from=%zz",
            "from=2026-07-02&to=2026-07-01",
        ] {
            assert!(
                matches!(
                    report_query(Some(bad), tz, now),
                    Err(ApiError::BadRequest(_))
                ),
                "{bad}"
            );
        }
    }
}
