//! Staff accounts managed while the gateway runs, by an admin on the dashboard or by `pingan user`
//! through the running gateway's API (it holds the database): add, disable, enable, set a new
//! password, change the role. Each change is one [`Act`] the caller records in the audit.
//!
//! Rules: the site keeps at least one enabled admin (an admin cannot disable or demote the last
//! one, themselves included); disabling an account or setting its password ends its sessions at
//! once; a role change applies to the account's next request (roles are read per request).
//! Changes run one at a time in this process (the last-admin check and the write must not
//! interleave); another process cannot change accounts meanwhile, sled locks the database.

use pingan_drivers::Timestamp;
use serde::{Deserialize, Serialize};

use super::auth::{AuthError, check_name, default_role, generate_password, hash_record};
use crate::alert::{Act, Role};
use crate::store::{Accounts, UserRecord};

/// An account as the staff page shows it (never its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffView {
    /// User name.
    pub user: String,
    /// Role.
    pub role: Role,
    /// Cannot log in.
    pub disabled: bool,
    /// When the password was last set.
    pub password_set_at: Timestamp,
}

impl StaffView {
    fn new(user: &str, r: &UserRecord) -> Self {
        Self {
            user: user.to_owned(),
            role: r.role,
            disabled: r.disabled,
            password_set_at: r.set_at,
        }
    }
}

/// What to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new account; the role defaults as for `pingan user add`, the password is generated
    /// when not given.
    Add {
        /// Role.
        role: Option<Role>,
        /// Password.
        password: Option<String>,
    },
    /// Cannot log in any more; sessions end now.
    Disable,
    /// Can log in again.
    Enable,
    /// A new password (generated when not given); sessions end now.
    Password(Option<String>),
    /// Another role.
    Role(Role),
}

/// A change made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// The account after it.
    pub account: StaffView,
    /// A generated password, shown once.
    pub generated: Option<String>,
    /// What to record in the audit.
    pub act: Act,
}

/// Every account, by name.
pub fn list(accounts: &Accounts) -> Result<Vec<StaffView>, AuthError> {
    let mut v: Vec<StaffView> = accounts
        .users()?
        .iter()
        .map(|(n, r)| StaffView::new(n, r))
        .collect();
    v.sort_by(|a, b| a.user.cmp(&b.user));
    Ok(v)
}

/// Whether `name` is the only enabled admin.
fn last_admin(accounts: &Accounts, name: &str) -> Result<bool, AuthError> {
    let admins: Vec<String> = accounts
        .users()?
        .into_iter()
        .filter(|(_, u)| u.role == Role::Admin && !u.disabled)
        .map(|(n, _)| n)
        .collect();
    Ok(admins.len() == 1 && admins[0] == name)
}

/// One account change at a time.
static CHANGING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Applies `change` to the account `name`. Blocking (a new password is hashed with argon2).
pub fn apply(accounts: &Accounts, name: &str, change: Change) -> Result<Done, AuthError> {
    let _one = CHANGING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let name = check_name(name)?;
    if let Change::Add { role, password } = change {
        let role = match role {
            Some(r) => r,
            None => default_role(accounts)?,
        };
        let generated = password.is_none().then(generate_password);
        let pw = password.or_else(|| generated.clone()).unwrap_or_default();
        let record = hash_record(&pw, role)?;
        if !accounts.add_user(name, &record)? {
            return Err(AuthError::UserExists(name.to_owned()));
        }
        return Ok(Done {
            account: StaffView::new(name, &record),
            generated,
            act: Act::AccountAdded { role },
        });
    }
    let mut record = accounts
        .user(name)?
        .ok_or_else(|| AuthError::UnknownUser(name.to_owned()))?;
    let mut generated = None;
    let act = match change {
        // Looked up above: the name is taken.
        Change::Add { .. } => return Err(AuthError::UserExists(name.to_owned())),
        Change::Disable => {
            if last_admin(accounts, name)? {
                return Err(AuthError::LastAdmin);
            }
            record.disabled = true;
            Act::AccountDisabled
        }
        Change::Enable => {
            record.disabled = false;
            Act::AccountEnabled
        }
        Change::Password(password) => {
            generated = password.is_none().then(generate_password);
            let pw = password.or_else(|| generated.clone()).unwrap_or_default();
            let fresh = hash_record(&pw, record.role)?;
            record.phc = fresh.phc;
            record.set_at = fresh.set_at;
            Act::PasswordReset
        }
        Change::Role(role) => {
            if role != Role::Admin && last_admin(accounts, name)? {
                return Err(AuthError::LastAdmin);
            }
            let before = record.role;
            record.role = role;
            Act::RoleChanged {
                before,
                after: role,
            }
        }
    };
    accounts.put_user(name, &record)?;
    if matches!(act, Act::AccountDisabled | Act::PasswordReset) {
        let ended = accounts.remove_sessions(|s| s.user == name)?;
        tracing::info!(user = %name, sessions = ended, "account sessions ended");
    }
    Ok(Done {
        account: StaffView::new(name, &record),
        generated,
        act,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SessionRecord;

    fn db() -> Accounts {
        crate::store::Store::temporary()
            .unwrap()
            .accounts()
            .unwrap()
    }

    fn add(db: &Accounts, name: &str, role: Option<Role>) -> Done {
        apply(
            db,
            name,
            Change::Add {
                role,
                password: None,
            },
        )
        .unwrap()
    }

    #[test]
    fn the_first_account_is_an_admin_and_later_ones_nurses() {
        let db = db();
        assert_eq!(add(&db, "wang", None).account.role, Role::Admin);
        let li = add(&db, "li", None);
        assert_eq!(li.account.role, Role::Nurse);
        assert_eq!(li.generated.as_deref().map(str::len), Some(19));
        assert!(matches!(
            apply(
                &db,
                "li",
                Change::Add {
                    role: None,
                    password: None
                }
            ),
            Err(AuthError::UserExists(_))
        ));
        assert_eq!(list(&db).unwrap().len(), 2);
    }

    #[test]
    fn disabling_ends_sessions_and_the_last_admin_stays() {
        let db = db();
        add(&db, "wang", Some(Role::Admin));
        add(&db, "li", Some(Role::Nurse));
        let session = SessionRecord {
            user: "li".into(),
            csrf: "x".into(),
            created_at: Timestamp(0),
            expires_at: Timestamp(i64::MAX),
        };
        db.put_session(b"k", &session).unwrap();
        let done = apply(&db, "li", Change::Disable).unwrap();
        assert_eq!(done.act, Act::AccountDisabled);
        assert!(db.session(b"k").unwrap().is_none(), "the session ended");
        assert!(matches!(
            apply(&db, "wang", Change::Disable),
            Err(AuthError::LastAdmin)
        ));
        assert!(matches!(
            apply(&db, "wang", Change::Role(Role::Nurse)),
            Err(AuthError::LastAdmin)
        ));
        assert!(matches!(
            apply(&db, "nobody", Change::Enable),
            Err(AuthError::UnknownUser(_))
        ));
        apply(&db, "li", Change::Role(Role::Admin)).unwrap();
        assert!(
            matches!(
                apply(&db, "wang", Change::Role(Role::Nurse)),
                Err(AuthError::LastAdmin)
            ),
            "a disabled admin does not count"
        );
        apply(&db, "li", Change::Enable).unwrap();
        let done = apply(&db, "wang", Change::Role(Role::Nurse)).unwrap();
        assert_eq!(
            done.act,
            Act::RoleChanged {
                before: Role::Admin,
                after: Role::Nurse
            }
        );
    }

    #[test]
    fn records_without_a_role_read_as_enabled_admins() {
        let old = r#"{"phc":"$argon2id$x","set_at":5}"#;
        let r: UserRecord = serde_json::from_str(old).unwrap();
        assert_eq!((r.role, r.disabled), (Role::Admin, false));
    }
}
