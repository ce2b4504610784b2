//! The sled store: readings (retention, downsampled motion), alerts (latest revision), the audit
//! trail, people's acts on devices ([`records`]), shift handovers, per-uplink outboxes, and a
//! schema-version key. The layout is in docs/STORAGE.md.
//!
//! Calls are synchronous (sled is); the service runs them on blocking threads. Durability is
//! chosen per data class: readings are written in batches and flushed by sled's background
//! flusher; an alert change is flushed before it is published (the service writes with
//! [`Store::put_alert_unflushed`] and calls [`Store::flush`] once per batch).

pub mod accounts;
mod append;
mod chunk;
mod commit;
mod error;
mod keys;
mod open;
pub mod outbox;
mod private;
mod readings;
pub mod records;
mod reopen;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pingan_drivers::{DeviceId, Measurement, Timestamp};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use crate::alert::{Alert, AlertState, AlertTrail, AuditEntry};
use crate::config::LinkId;
pub use accounts::{Accounts, SessionRecord, UserRecord};
pub use error::StoreError;
pub use open::OpenChunks;
pub use outbox::{Outbox, OutboxEntry, OutboxKey};

/// The on-disk layout version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 2;

/// A reading as stored: the measurement's JSON, with motion batches reduced to a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredReading {
    /// The device.
    pub device: DeviceId,
    /// When.
    pub at: Timestamp,
    /// The measurement JSON (`{"kind": …}`).
    pub value: serde_json::Value,
}

impl StoredReading {
    /// The typed measurement, when it is one (motion summaries are not).
    pub fn measurement(&self) -> Option<Measurement> {
        serde_json::from_value(self.value.clone()).ok()
    }
}

/// The gateway's database.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
    /// Marks the directory closed here when the last clone goes (`reopen`); none when temporary.
    _open_mark: Option<Arc<reopen::OpenMark>>,
    db: sled::Db,
    readings: sled::Tree,
    alerts: sled::Tree,
    audit: sled::Tree,
    actions: sled::Tree,
    handovers: sled::Tree,
}

impl Store {
    /// A database that lives in a temporary directory and is deleted when dropped (tests,
    /// demos of the dashboard).
    pub fn temporary() -> Result<Self, StoreError> {
        let config = sled::Config::new().temporary(true);
        Self::open_with(config, Path::new("(temporary)"))
    }

    /// Opens (or creates) the database in `dir` and checks its schema version. The directory
    /// is made private: 0700, its files 0600, the process umask 077 (`store::private`).
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        private::prepare(dir).map_err(|e| StoreError::Db {
            path: dir.to_path_buf(),
            source: sled::Error::Io(e),
        })?;
        let config = sled::Config::new()
            .path(dir)
            // The page cache fills with whatever was written or read last and stays full: on a
            // 1 GB box it is the gateway's largest long-run allocation. 4 MiB instead of 16 took
            // 13 MiB off the store's memory after 12 M readings and read back 9 % slower
            // (docs/STORAGE.md "Memory").
            .cache_capacity(4 << 20)
            // The writer gathers readings for up to 1 s: one sync per batch (docs/STORAGE.md).
            .flush_every_ms(Some(1000));
        let (mut store, mark) = reopen::open(dir, || Self::open_with(config.clone(), dir))?;
        store._open_mark = Some(Arc::new(mark));
        private::tighten(dir);
        Ok(store)
    }

    fn open_with(config: sled::Config, dir: &Path) -> Result<Self, StoreError> {
        let path = dir.to_path_buf();
        let db = config.open().map_err(|source| match &source {
            sled::Error::Io(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                StoreError::Locked { path: path.clone() }
            }
            sled::Error::Io(e) if e.to_string().contains("lock") => {
                StoreError::Locked { path: path.clone() }
            }
            _ => StoreError::Db {
                path: path.clone(),
                source,
            },
        })?;
        let db_err = |source| StoreError::Db {
            path: path.clone(),
            source,
        };
        let meta = db.open_tree("meta").map_err(db_err)?;
        match meta.get("schema_version").map_err(db_err)? {
            None => {
                meta.insert("schema_version", SCHEMA_VERSION.to_string().as_bytes())
                    .map_err(db_err)?;
                db.flush().map_err(db_err)?;
            }
            Some(v) if v.as_ref() == SCHEMA_VERSION.to_string().as_bytes() => {}
            Some(v) => {
                return Err(StoreError::SchemaMismatch {
                    path,
                    found: String::from_utf8_lossy(&v).into_owned(),
                    expected: SCHEMA_VERSION,
                });
            }
        }
        Ok(Self {
            readings: db.open_tree("readings").map_err(db_err)?,
            alerts: db.open_tree("alerts").map_err(db_err)?,
            audit: db.open_tree("audit").map_err(db_err)?,
            actions: db.open_tree(records::ACTIONS_TREE).map_err(db_err)?,
            handovers: db.open_tree(records::HANDOVERS_TREE).map_err(db_err)?,
            db,
            path,
            _open_mark: None,
        })
    }

    fn err(&self, source: sled::Error) -> StoreError {
        StoreError::Db {
            path: self.path.clone(),
            source,
        }
    }

    /// Staff accounts and login sessions.
    pub fn accounts(&self) -> Result<Accounts, StoreError> {
        Accounts::open(&self.db)
    }

    /// Stores an alert revision without flushing (repeats that only bump counters; or a batch
    /// the caller flushes once).
    pub fn put_alert_unflushed(
        &self,
        alert: &Alert,
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_vec(alert).map_err(|e| StoreError::Corrupt {
            what: "alert",
            detail: e.to_string(),
        })?;
        self.alerts
            .insert(alert.id.to_bytes(), json)
            .map_err(|e| self.err(e))?;
        if let Some(a) = audit {
            let json = serde_json::to_vec(a).map_err(|e| StoreError::Corrupt {
                what: "audit",
                detail: e.to_string(),
            })?;
            // Several entries can share a revision only through merges; a seq keeps them apart.
            let mut seq = 0u8;
            while self
                .audit
                .contains_key(keys::audit(a.alert, a.revision, seq))
                .map_err(|e| self.err(e))?
                && seq < u8::MAX
            {
                seq += 1;
            }
            self.audit
                .insert(keys::audit(a.alert, a.revision, seq), json)
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Flushes everything written so far to disk, on a blocking thread (under paused tokio time
    /// a blocking task holds the clock still, so tests of timers do not skip ahead meanwhile).
    pub async fn flush(&self) -> Result<(), StoreError> {
        let db = self.db.clone();
        match tokio::task::spawn_blocking(move || db.flush()).await {
            Ok(result) => result.map(|_| ()).map_err(|e| self.err(e)),
            Err(e) => Err(StoreError::Interrupted(e.to_string())),
        }
    }

    /// Flushes synchronously (shutdown, tools).
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(|e| self.err(e))?;
        Ok(())
    }

    /// One alert's latest revision.
    pub fn alert(&self, id: Ulid) -> Result<Option<Alert>, StoreError> {
        self.alerts
            .get(id.to_bytes())
            .map_err(|e| self.err(e))?
            .map(|v| decode(&v, "alert"))
            .transpose()
    }

    /// Every alert ever raised, oldest first (ULIDs sort by time).
    pub fn alerts(&self) -> Result<Vec<Alert>, StoreError> {
        self.alerts
            .iter()
            .values()
            .map(|v| decode(&v.map_err(|e| self.err(e))?, "alert"))
            .collect()
    }

    /// An alert's audit trail, oldest first.
    pub fn audit(&self, id: Ulid) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit
            .scan_prefix(id.to_bytes())
            .values()
            .map(|v| decode(&v.map_err(|e| self.err(e))?, "audit"))
            .collect()
    }

    /// The alerts raised in `from..to` (by their `raised_at`) with their audit trails, oldest
    /// first; with `open_too`, also every alert still open, whenever it was raised. Reads every
    /// alert's record, decoding in full only those it keeps (alerts are kept forever, so this is
    /// a scan: fine for the few thousand a site raises in a year).
    pub fn trails(
        &self,
        from: Timestamp,
        to: Timestamp,
        open_too: bool,
    ) -> Result<Vec<AlertTrail>, StoreError> {
        #[derive(Deserialize)]
        struct Peek {
            raised_at: Timestamp,
            state: AlertState,
        }
        let mut out = Vec::new();
        for v in self.alerts.iter().values() {
            let v = v.map_err(|e| self.err(e))?;
            let peek: Peek = decode(&v, "alert")?;
            let raised_in = from <= peek.raised_at && peek.raised_at < to;
            if !(raised_in || (open_too && peek.state.is_open())) {
                continue;
            }
            let alert: Alert = decode(&v, "alert")?;
            let audit = self.audit(alert.id)?;
            out.push(AlertTrail { alert, audit });
        }
        Ok(out)
    }

    /// The durable outbox of an uplink.
    pub fn outbox(&self, link: &LinkId) -> Result<Outbox, StoreError> {
        let tree = self
            .db
            .open_tree(format!("outbox/{link}"))
            .map_err(|e| self.err(e))?;
        Ok(Outbox::new(self.db.clone(), tree))
    }

    /// Records a small fact about the running gateway (site id, broker address) so tools that
    /// only have the data directory can find it.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let meta = self.db.open_tree("meta").map_err(|e| self.err(e))?;
        meta.insert(key, value.as_bytes())
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// A fact recorded with [`Store::set_meta`].
    pub fn meta(&self, key: &str) -> Option<String> {
        let meta = self.db.open_tree("meta").ok()?;
        let v = meta.get(key).ok()??;
        Some(String::from_utf8_lossy(&v).into_owned())
    }

    /// The links that have an outbox here.
    pub fn outbox_links(&self) -> Vec<LinkId> {
        self.db
            .tree_names()
            .iter()
            .filter_map(|n| {
                std::str::from_utf8(n)
                    .ok()?
                    .strip_prefix("outbox/")
                    .map(LinkId::new)
            })
            .collect()
    }

    /// Size of the database on disk, bytes.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    /// Bytes an unprivileged process can still write on the data directory's filesystem
    /// (`statvfs`), if the system says.
    pub fn free_space(&self) -> Option<u64> {
        let s = rustix::fs::statvfs(&self.path).ok()?;
        Some(s.f_bavail.saturating_mul(s.f_frsize))
    }
}

fn decode<T: serde::de::DeserializeOwned>(v: &[u8], what: &'static str) -> Result<T, StoreError> {
    serde_json::from_slice(v).map_err(|e| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    })
}

fn next_key(k: &[u8]) -> Vec<u8> {
    let mut v = k.to_vec();
    v.push(0);
    v
}

/// The smallest key greater than every key with `prefix`.
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut v = prefix.to_vec();
    while let Some(last) = v.pop() {
        if last < u8::MAX {
            v.push(last + 1);
            return v;
        }
    }
    vec![u8::MAX; prefix.len() + 1]
}

#[cfg(test)]
mod tests;
