//! Staff accounts and login sessions, in the trees `web/users` and `web/sessions`. The store keeps
//! the records; the dashboard's auth module decides what goes in them (password hashes, session
//! keys), so no other part of the gateway ever needs the raw database.

use pingan_drivers::Timestamp;
use serde::{Deserialize, Serialize};

use super::error::StoreError;
use crate::alert::Role;

/// Tree of staff accounts: user name → [`UserRecord`].
pub const USERS_TREE: &str = "web/users";
/// Tree of login sessions: session key (the SHA-256 of the token, chosen by the auth module) →
/// [`SessionRecord`].
pub const SESSIONS_TREE: &str = "web/sessions";

/// A stored account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    /// argon2id PHC string (never a password).
    pub phc: String,
    /// When the password was set.
    pub set_at: Timestamp,
    /// What the account may do. Accounts stored before roles existed have none and read as
    /// admin: they were all made at the box by whoever runs it (docs/STORAGE.md).
    #[serde(default = "legacy_role")]
    pub role: Role,
    /// A disabled account cannot log in and has no sessions.
    #[serde(default)]
    pub disabled: bool,
}

fn legacy_role() -> Role {
    Role::Admin
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The account.
    pub user: String,
    /// Required in `X-CSRF-Token` on every POST of this session.
    pub csrf: String,
    /// Login time.
    pub created_at: Timestamp,
    /// After this the session is gone.
    pub expires_at: Timestamp,
}

/// Accounts and sessions. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Accounts {
    users: sled::Tree,
    sessions: sled::Tree,
}

fn db_err(source: sled::Error) -> StoreError {
    StoreError::Db {
        path: "accounts".into(),
        source,
    }
}

fn encode<T: Serialize>(what: &'static str, v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    })
}

impl Accounts {
    pub(super) fn open(db: &sled::Db) -> Result<Self, StoreError> {
        Ok(Self {
            users: db.open_tree(USERS_TREE).map_err(db_err)?,
            sessions: db.open_tree(SESSIONS_TREE).map_err(db_err)?,
        })
    }

    /// The account `name`, if it exists.
    pub fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        match self.users.get(name).map_err(db_err)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    what: "user",
                    detail: e.to_string(),
                }),
        }
    }

    /// Adds an account unless the name is taken; `false` when it was.
    pub fn add_user(&self, name: &str, record: &UserRecord) -> Result<bool, StoreError> {
        let value = encode("user", record)?;
        let added = self
            .users
            .compare_and_swap(name, None as Option<&[u8]>, Some(value))
            .map_err(db_err)?
            .is_ok();
        self.users.flush().map_err(db_err)?;
        Ok(added)
    }

    /// Every account, by name.
    pub fn users(&self) -> Result<Vec<(String, UserRecord)>, StoreError> {
        let mut out = Vec::new();
        for item in self.users.iter() {
            let (k, v) = item.map_err(db_err)?;
            let record = serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                what: "user",
                detail: e.to_string(),
            })?;
            out.push((String::from_utf8_lossy(&k).into_owned(), record));
        }
        Ok(out)
    }

    /// Creates or replaces an account.
    pub fn put_user(&self, name: &str, record: &UserRecord) -> Result<(), StoreError> {
        self.users
            .insert(name, encode("user", record)?)
            .map_err(db_err)?;
        self.users.flush().map_err(db_err)?;
        Ok(())
    }

    /// The session stored under `key`; an unreadable record is removed and reads as none.
    pub fn session(&self, key: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        let Some(v) = self.sessions.get(key).map_err(db_err)? else {
            return Ok(None);
        };
        match serde_json::from_slice(&v) {
            Ok(s) => Ok(Some(s)),
            Err(_) => {
                self.sessions.remove(key).map_err(db_err)?;
                Ok(None)
            }
        }
    }

    /// Stores a session under `key`.
    pub fn put_session(&self, key: &[u8], record: &SessionRecord) -> Result<(), StoreError> {
        self.sessions
            .insert(key, encode("session", record)?)
            .map_err(db_err)?;
        Ok(())
    }

    /// Removes the session under `key`.
    pub fn remove_session(&self, key: &[u8]) -> Result<(), StoreError> {
        self.sessions.remove(key).map_err(db_err)?;
        Ok(())
    }

    /// The keys of every stored session.
    pub fn session_keys(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.sessions
            .iter()
            .keys()
            .map(|k| k.map(|k| k.to_vec()).map_err(db_err))
            .collect()
    }

    /// Removes every session whose key `doomed` picks; returns how many.
    pub fn remove_sessions_by_key(
        &self,
        doomed: impl Fn(&[u8]) -> bool,
    ) -> Result<usize, StoreError> {
        let mut n = 0;
        for k in self.sessions.iter().keys() {
            let k = k.map_err(db_err)?;
            if doomed(&k) {
                self.sessions.remove(k).map_err(db_err)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Removes every session `doomed` picks (and every unreadable one); returns how many.
    pub fn remove_sessions(
        &self,
        doomed: impl Fn(&SessionRecord) -> bool,
    ) -> Result<usize, StoreError> {
        let mut n = 0;
        for item in self.sessions.iter() {
            let (k, v) = item.map_err(db_err)?;
            let gone = serde_json::from_slice::<SessionRecord>(&v).map_or(true, |s| doomed(&s));
            if gone {
                self.sessions.remove(k).map_err(db_err)?;
                n += 1;
            }
        }
        Ok(n)
    }
}
