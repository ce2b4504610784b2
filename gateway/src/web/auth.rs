//! Staff accounts and sessions: password hashing, login with throttling, session tokens. The
//! records live in the store's [`Accounts`] trees:
//!
//! - `web/users`: user name → [`UserRecord`] (an argon2id PHC string; never a password).
//! - `web/sessions`: SHA-256 of the session token → [`SessionRecord`] with the session's CSRF
//!   token and expiry. The token itself (256 random bits, hex) lives only in the browser's
//!   cookie: a copy of the database does not log anybody in.
//!
//! Logins are throttled per source address and per user name before any password is verified
//! (`throttle`); failures and refusals are logged with the source address.
//!
//! There is no default account: staff are added with `pingan user add NAME` (or by an admin on
//! the dashboard, `staff`); `pingan demo` creates a demo admin account with a random password
//! ([`create_demo_user`]). An account is a nurse or an admin ([`Role`]); the first account of a
//! site is an admin, later ones nurses unless said otherwise. A disabled account cannot log in.

use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use pingan_drivers::Timestamp;
use rand::{Rng, RngCore};

use super::throttle::{Gate, Throttle};
use crate::alert::Role;
use crate::log_limit::{LogLimit, Verdict};
use crate::store::StoreError;
pub(crate) use crate::store::{Accounts, SessionRecord, UserRecord};

/// How long a session lasts: one long nursing shift.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// The demo account's name.
pub const DEMO_USER: &str = "demo";

const MIN_PASSWORD: usize = 8;
const MAX_PASSWORD: usize = 1024;
const MAX_NAME: usize = 64;

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The user name is empty, too long, or has control characters or spaces at its ends.
    #[error("invalid user name {0:?}: 1 to 64 characters, no control characters")]
    InvalidName(String),
    /// The password is too short or too long.
    #[error("{0}")]
    WeakPassword(String),
    /// `add_user` for a name that exists.
    #[error("user {0:?} exists already")]
    UserExists(String),
    /// No account with this name.
    #[error("no user {0:?}")]
    UnknownUser(String),
    /// The change would leave the site without an enabled admin account.
    #[error("the site must keep at least one enabled admin account")]
    LastAdmin,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed (out of memory, bad parameters).
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Why a login was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoginError {
    /// Wrong name or password (which one is not said).
    #[error("wrong user name or password")]
    BadCredentials,
    /// Too many failed logins from this address.
    #[error("too many failed logins; try again in {retry_after_s} s")]
    Throttled {
        /// Seconds until the next attempt is accepted.
        retry_after_s: u64,
    },
    /// The account store failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
}

/// Adds a staff account with the role for a new account ([`default_role`]). Fails if the name
/// exists.
pub fn add_user(accounts: &Accounts, name: &str, password: &str) -> Result<Role, AuthError> {
    let role = default_role(accounts)?;
    add_user_as(accounts, name, password, role)?;
    Ok(role)
}

/// Adds a staff account with `role`. Fails if the name exists.
pub fn add_user_as(
    accounts: &Accounts,
    name: &str,
    password: &str,
    role: Role,
) -> Result<(), AuthError> {
    let name = check_name(name)?;
    let record = hash_record(password, role)?;
    if accounts.add_user(name, &record)? {
        Ok(())
    } else {
        Err(AuthError::UserExists(name.to_owned()))
    }
}

/// The role of a new account when none is given: admin while the site has no enabled admin (the
/// first account), nurse after.
pub fn default_role(accounts: &Accounts) -> Result<Role, AuthError> {
    let has_admin = accounts
        .users()?
        .iter()
        .any(|(_, u)| u.role == Role::Admin && !u.disabled);
    Ok(if has_admin { Role::Nurse } else { Role::Admin })
}

/// Sets the password of an account, creating it if needed (with [`default_role`]), and ends its
/// open sessions. An existing account keeps its role and whether it is disabled.
pub fn set_password(accounts: &Accounts, name: &str, password: &str) -> Result<(), AuthError> {
    let name = check_name(name)?;
    let old = accounts.user(name)?;
    let role = match &old {
        Some(u) => u.role,
        None => default_role(accounts)?,
    };
    let mut record = hash_record(password, role)?;
    record.disabled = old.is_some_and(|u| u.disabled);
    accounts.remove_sessions(|s| s.user == name)?;
    accounts.put_user(name, &record)?;
    Ok(())
}

/// Creates (or resets) the demo account, an enabled admin, with a fresh random password: returns
/// (name, password).
pub fn create_demo_user(accounts: &Accounts) -> Result<(String, String), AuthError> {
    let password = generate_password();
    let record = hash_record(&password, Role::Admin)?;
    accounts.remove_sessions(|s| s.user == DEMO_USER)?;
    accounts.put_user(DEMO_USER, &record)?;
    Ok((DEMO_USER.to_owned(), password))
}

/// A random password that is easy to read out and type: 4 groups of 4 characters from an
/// alphabet without look-alikes (about 78 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    let mut out = String::with_capacity(19);
    for i in 0..16 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let c = ALPHABET
            .get(rng.gen_range(0..ALPHABET.len()))
            .copied()
            .unwrap_or(b'x');
        out.push(char::from(c));
    }
    out
}

/// Checks a user name: trimmed, 1..=64 characters, no control characters.
pub(crate) fn check_name(name: &str) -> Result<&str, AuthError> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME
        && name.trim() == name
        && !name.chars().any(char::is_control);
    if ok {
        Ok(name)
    } else {
        Err(AuthError::InvalidName(name.to_owned()))
    }
}

pub(crate) fn hash_record(password: &str, role: Role) -> Result<UserRecord, AuthError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(AuthError::WeakPassword(format!(
            "the password must have at least {MIN_PASSWORD} characters"
        )));
    }
    if password.len() > MAX_PASSWORD {
        return Err(AuthError::WeakPassword(format!(
            "the password must have at most {MAX_PASSWORD} bytes"
        )));
    }
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let phc = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| AuthError::Hash(e.to_string()))?
        .to_string();
    Ok(UserRecord {
        phc,
        set_at: Timestamp::now(),
        role,
        disabled: false,
    })
}

fn verify(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash of nothing anybody knows, verified against for unknown names so that a wrong name
/// takes as long as a wrong password.
fn dummy_phc() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(generate_password().as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Random 256 bits as 64 hex digits.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key a session is stored under: the SHA-256 of its token, so the database holds nothing
/// that logs in.
pub(crate) fn session_key(token: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut key = [0u8; 32];
    key.copy_from_slice(d.as_ref());
    key
}

/// Whether `s` looks like a token we issued (64 lowercase hex digits).
pub(crate) fn is_token(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Compares secrets in time independent of where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Accounts, sessions and the login throttle of a running dashboard.
#[derive(Debug)]
pub(crate) struct Auth {
    accounts: Accounts,
    throttle: Mutex<Throttle>,
    /// Refused logins are logged at a low rate (a flood must not fill the disk).
    refused_log: Mutex<LogLimit>,
    /// Each argon2 verification takes ~19 MiB and a core for tens of milliseconds: bound how
    /// many run at once so a login flood cannot starve or OOM the gateway that sends alerts.
    verifying: tokio::sync::Semaphore,
}

/// Password verifications running at once.
const MAX_VERIFYING: usize = 2;

/// Where a login came from, for throttling and logs (`0.0.0.0` when the transport did not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Peer(pub(crate) IpAddr);

impl Auth {
    /// Auth over the store's accounts. Sessions stored under their raw token by an older
    /// version are removed: nobody can use them any more.
    pub(crate) fn new(accounts: Accounts) -> Self {
        match accounts.remove_sessions_by_key(|k| k.len() != 32) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                sessions = n,
                "removed sessions stored under raw tokens; those users log in again"
            ),
            Err(error) => tracing::warn!(%error, "cannot remove old sessions"),
        }
        Self {
            accounts,
            throttle: Mutex::new(Throttle::default()),
            refused_log: Mutex::new(LogLimit::new(Duration::from_secs(10))),
            verifying: tokio::sync::Semaphore::new(MAX_VERIFYING),
        }
    }

    /// The accounts this dashboard logs in against.
    pub(crate) fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// The role of an enabled account; `None` for an unknown or disabled one.
    pub(crate) fn role_of(&self, name: &str) -> Result<Option<Role>, AuthError> {
        Ok(self
            .accounts
            .user(name)?
            .filter(|u| !u.disabled)
            .map(|u| u.role))
    }

    fn throttle(&self) -> MutexGuard<'_, Throttle> {
        self.throttle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Checks a name and password and opens a session: returns its token and record. `now` is
    /// the time the attempt started; `clock` reads the time after a hold or verification.
    pub(crate) async fn login(
        &self,
        name: &str,
        password: &str,
        peer: Peer,
        now: Timestamp,
        clock: &(dyn Fn() -> Timestamp + Send + Sync),
    ) -> Result<(String, SessionRecord), LoginError> {
        let addr = peer.0;
        // A name that cannot exist is refused before it costs memory or CPU; it still counts
        // against the address.
        if check_name(name).is_err() {
            self.throttle().failure_without_attempt(addr, now);
            tracing::warn!(%addr, "dashboard login failed: invalid user name");
            return Err(LoginError::BadCredentials);
        }
        let gate = self.throttle().begin(addr, name, now);
        let hold = match gate {
            Gate::Refuse { retry_after } => {
                let verdict = self
                    .refused_log
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .hit(tokio::time::Instant::now());
                if let Verdict::Log { repeats, total } = verdict {
                    tracing::warn!(%addr, user = %name, retry_after_s = retry_after.as_secs_f32(), refused = total, since_last_line = repeats, "dashboard login throttled: too many failures from this address");
                }
                return Err(LoginError::Throttled {
                    retry_after_s: retry_after.as_secs().max(1),
                });
            }
            Gate::Go { hold } => hold,
        };
        // From here the attempt is counted; it must be finished however this future ends.
        let mut attempt = Attempt {
            auth: self,
            addr,
            user: name,
            clock,
            ok: false,
        };
        if !hold.is_zero() {
            tracing::warn!(%addr, user = %name, hold_ms = hold.as_millis() as u64, "dashboard login held: repeated failures for this user");
            tokio::time::sleep(hold).await;
        }
        attempt.ok = attempt.verify(password).await?;
        let ok = attempt.ok;
        drop(attempt);
        if !ok {
            tracing::warn!(%addr, user = %name, "dashboard login failed: wrong user name or password");
            return Err(LoginError::BadCredentials);
        }
        let now = clock();
        self.sweep(now)?;
        let token = random_token();
        let record = SessionRecord {
            user: name.to_owned(),
            csrf: random_token(),
            created_at: now,
            expires_at: now.plus(SESSION_TTL),
        };
        self.accounts
            .put_session(&session_key(&token), &record)
            .map_err(AuthError::from)?;
        tracing::info!(%addr, user = %name, "dashboard login");
        Ok((token, record))
    }

    /// The live session of a token, if any.
    pub(crate) fn session(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, AuthError> {
        if !is_token(token) {
            return Ok(None);
        }
        let key = session_key(token);
        match self.accounts.session(&key)? {
            Some(s) if now < s.expires_at => Ok(Some(s)),
            Some(_) => {
                // Expired: forget it.
                self.accounts.remove_session(&key)?;
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// Ends a session.
    pub(crate) fn logout(&self, token: &str) -> Result<(), AuthError> {
        self.accounts.remove_session(&session_key(token))?;
        Ok(())
    }

    /// Drops expired sessions (run at each login, so the tree stays small without a timer).
    fn sweep(&self, now: Timestamp) -> Result<(), AuthError> {
        self.accounts.remove_sessions(|s| s.expires_at <= now)?;
        Ok(())
    }
}

/// A login attempt the throttle let through: reports its outcome when dropped, so an attempt
/// whose client went away mid-verification still counts (as a failure).
struct Attempt<'a> {
    auth: &'a Auth,
    addr: IpAddr,
    user: &'a str,
    clock: &'a (dyn Fn() -> Timestamp + Send + Sync),
    ok: bool,
}

impl Attempt<'_> {
    async fn verify(&self, password: &str) -> Result<bool, LoginError> {
        let stored = self
            .auth
            .accounts
            .user(self.user)
            .map_err(AuthError::from)?
            // A disabled account is refused like an unknown name, after the same work.
            .filter(|u| !u.disabled)
            .map(|u| u.phc);
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| dummy_phc().to_owned());
        let pw = password.to_owned();
        let _permit = self
            .auth
            .verifying
            .acquire()
            .await
            .map_err(|e| AuthError::Hash(e.to_string()))?;
        // argon2 takes tens of milliseconds of CPU: keep it off the reactor.
        let ok = tokio::task::spawn_blocking(move || verify(&phc, &pw))
            .await
            .map_err(|e| AuthError::Hash(e.to_string()))?;
        Ok(ok && known)
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        let now = (self.clock)();
        self.auth
            .throttle()
            .finish(self.addr, self.user, self.ok, now);
    }
}

#[cfg(test)]
mod tests;
