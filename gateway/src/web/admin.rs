//! The admin's pages: care records (a resident's care flags, the escalation) and staff accounts.
//! Only an enabled admin account may use them ([`Admin`]: 403 `forbidden` otherwise); staff
//! accounts may also be managed by `pingan user` on the gateway's machine with the tool token
//! ([`Manager`]), since the running gateway holds the database. Every change is recorded in the
//! audit (tree `actions`) with who made it, when, and the state before and after.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::Serialize;
use serde_json::{Map, Value};

use super::AppState;
use super::api::body_bytes;
use super::auth::{AuthError, constant_time_eq};
use super::backend::BackendError;
use super::error::ApiError;
use super::request::{self, Command};
use super::session::Session;
use super::staff::{self, Change, StaffView};
use crate::alert::{ActionRecord, ActionSubject, Actor, Role, Via};
use crate::care::{CareRecords, CareView};
use crate::config::{CareFlag, EscalationPolicy};

/// A logged-in, enabled admin.
#[derive(Debug, Clone)]
pub(crate) struct Admin(pub(crate) Session);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let s = Session::from_request_parts(parts, state).await?;
        match state.auth.role_of(&s.record.user)? {
            Some(Role::Admin) => Ok(Self(s)),
            _ => Err(ApiError::Forbidden),
        }
    }
}

/// An admin on the dashboard, or `pingan user` on the gateway's machine (the tool token).
#[derive(Debug, Clone)]
pub(crate) enum Manager {
    /// The dashboard.
    Person(Session),
    /// The command line, through the running gateway.
    Tool,
}

impl FromRequestParts<AppState> for Manager {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let Some(sent) = bearer {
            return match state.backend.tool_token() {
                Some(t) if constant_time_eq(t.as_bytes(), sent.trim().as_bytes()) => Ok(Self::Tool),
                _ => Err(ApiError::Unauthorized),
            };
        }
        Admin::from_request_parts(parts, state)
            .await
            .map(|a| Self::Person(a.0))
    }
}

/// Splits a JSON body into the fields `keys` of the change and the person (`name`, `note`).
fn split(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    keys: &[&str],
    user: &str,
) -> Result<(Map<String, Value>, Command), ApiError> {
    let body = body_bytes(body)?;
    request::require_json(headers, &body)?;
    let mut all = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(ApiError::BadRequest("send a JSON object".into())),
            Err(e) => return Err(ApiError::BadRequest(format!("malformed JSON: {e}"))),
        }
    };
    let mut mine = Map::new();
    for k in keys {
        if let Some(v) = all.remove(*k) {
            mine.insert((*k).to_owned(), v);
        }
    }
    let rest = serde_json::to_vec(&all).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok((mine, request::command(&rest, user)?))
}

fn field<T: serde::de::DeserializeOwned>(
    m: &mut Map<String, Value>,
    key: &str,
) -> Result<Option<T>, ApiError> {
    match m.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v)
            .map(Some)
            .map_err(|e| ApiError::Unprocessable(format!("{key}: {e}"))),
    }
}

fn care(st: &AppState) -> Result<&CareRecords, ApiError> {
    st.backend.care().ok_or_else(|| {
        BackendError::Unavailable("this gateway keeps no care records".into()).into()
    })
}

fn path(p: Result<Path<String>, PathRejection>, what: &str) -> Result<String, ApiError> {
    let Path(s) = p.map_err(|e| ApiError::BadRequest(format!("bad path: {e}")))?;
    Ok(request::name(&s, what)?.to_owned())
}

pub(crate) async fn care_view(
    State(st): State<AppState>,
    _a: Admin,
) -> Result<Json<CareView>, ApiError> {
    Ok(Json(care(&st)?.view()))
}

pub(crate) async fn set_flags(
    State(st): State<AppState>,
    Admin(s): Admin,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ActionRecord>, ApiError> {
    let id = path(id, "resident id")?;
    let (mut m, cmd) = split(&headers, body, &["care_flags"], &s.record.user)?;
    let flags: Vec<CareFlag> = field(&mut m, "care_flags")?
        .ok_or_else(|| ApiError::Unprocessable("care_flags: expected a list of flags".into()))?;
    let now = st.backend.now();
    Ok(Json(
        care(&st)?
            .set_flags(&id, Some(flags), &cmd.by, Via::Http, cmd.note, now)
            .await?,
    ))
}

pub(crate) async fn reset_flags(
    State(st): State<AppState>,
    Admin(s): Admin,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ActionRecord>, ApiError> {
    let id = path(id, "resident id")?;
    let (_, cmd) = split(&headers, body, &[], &s.record.user)?;
    let now = st.backend.now();
    Ok(Json(
        care(&st)?
            .set_flags(&id, None, &cmd.by, Via::Http, cmd.note, now)
            .await?,
    ))
}

pub(crate) async fn set_escalation(
    State(st): State<AppState>,
    Admin(s): Admin,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ActionRecord>, ApiError> {
    let (mut m, cmd) = split(&headers, body, &["policies"], &s.record.user)?;
    let policies: Vec<EscalationPolicy> = field(&mut m, "policies")?
        .ok_or_else(|| ApiError::Unprocessable("policies: expected a list of policies".into()))?;
    let now = st.backend.now();
    Ok(Json(
        care(&st)?
            .set_escalation(Some(policies), &cmd.by, Via::Http, cmd.note, now)
            .await?,
    ))
}

pub(crate) async fn reset_escalation(
    State(st): State<AppState>,
    Admin(s): Admin,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ActionRecord>, ApiError> {
    let (_, cmd) = split(&headers, body, &[], &s.record.user)?;
    let now = st.backend.now();
    Ok(Json(
        care(&st)?
            .set_escalation(None, &cmd.by, Via::Http, cmd.note, now)
            .await?,
    ))
}

pub(crate) async fn accounts(
    State(st): State<AppState>,
    _m: Manager,
) -> Result<Json<Vec<StaffView>>, ApiError> {
    Ok(Json(staff::list(st.auth.accounts())?))
}

/// The answer to an account change.
#[derive(Debug, Serialize)]
pub(crate) struct AccountChanged {
    account: StaffView,
    /// A generated password, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    record: ActionRecord,
}

/// Who acts and through what: the admin's account (and typed name), or the command line's
/// `name` (the operating-system user `pingan user` runs as).
fn actor(m: &Manager, cmd: Command) -> (Actor, Via, Option<String>) {
    match m {
        Manager::Person(_) => (cmd.by, Via::Http, cmd.note),
        Manager::Tool => (
            Actor::named(cmd.by.name.unwrap_or_else(|| "pingan user".into())),
            Via::Cli,
            cmd.note,
        ),
    }
}

async fn change(
    st: &AppState,
    m: &Manager,
    name: &str,
    change: Change,
    cmd: Command,
) -> Result<Json<AccountChanged>, ApiError> {
    let (by, via, note) = actor(m, cmd);
    // argon2 takes tens of milliseconds of CPU: off the reactor.
    let accounts = st.auth.accounts().clone();
    let user = name.to_owned();
    let done = tokio::task::spawn_blocking(move || staff::apply(&accounts, &user, change))
        .await
        .map_err(|e| AuthError::Hash(e.to_string()))??;
    let record = ActionRecord {
        at: st.backend.now(),
        by: by.display(),
        account: by.account.clone(),
        via,
        subject: ActionSubject::Account(done.account.user.clone()),
        act: done.act,
        note,
        ok: true,
        error: None,
    };
    st.backend.record_action(record.clone()).await?;
    tracing::info!(user = %name, by = %record.by, action = ?record.act, "staff account changed");
    Ok(Json(AccountChanged {
        account: done.account,
        password: done.generated,
        record,
    }))
}

fn user_of(m: &Manager) -> &str {
    match m {
        Manager::Person(s) => &s.record.user,
        // The command line names its person in `name`; the account part is a placeholder.
        Manager::Tool => "pingan user",
    }
}

pub(crate) async fn add_account(
    State(st): State<AppState>,
    m: Manager,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AccountChanged>, ApiError> {
    let (mut f, cmd) = split(&headers, body, &["user", "role", "password"], user_of(&m))?;
    let user: String = field(&mut f, "user")?
        .ok_or_else(|| ApiError::Unprocessable("user: expected the new user name".into()))?;
    let add = Change::Add {
        role: field(&mut f, "role")?,
        password: field(&mut f, "password")?,
    };
    change(&st, &m, &user, add, cmd).await
}

/// `POST /accounts/{user}/{what}`: `disable`, `enable`, `password`, `role`.
pub(crate) async fn account_action(
    State(st): State<AppState>,
    m: Manager,
    p: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AccountChanged>, ApiError> {
    let Path((user, what)) = p.map_err(|e| ApiError::BadRequest(format!("bad path: {e}")))?;
    let (mut f, cmd) = split(&headers, body, &["password", "role"], user_of(&m))?;
    let c = match what.as_str() {
        "disable" => Change::Disable,
        "enable" => Change::Enable,
        "password" => Change::Password(field(&mut f, "password")?),
        "role" => Change::Role(
            field(&mut f, "role")?
                .ok_or_else(|| ApiError::Unprocessable("role: expected nurse or admin".into()))?,
        ),
        other => return Err(ApiError::NotFound(format!("no account action {other:?}"))),
    };
    change(&st, &m, &user, c, cmd).await
}
