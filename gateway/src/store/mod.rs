//! The sled store: readings (retention, downsampled motion), alerts (latest revision), the audit
//! trail, per-uplink outboxes, and a schema-version key. The layout is in docs/STORAGE.md.
//!
//! Calls are synchronous (sled is); the service runs them on blocking threads. Durability is
//! chosen per data class: readings are written in batches and flushed by sled's background
//! flusher; an alert change is flushed before it counts (see [`Store::put_alert`]).

mod keys;
pub mod outbox;

use std::path::{Path, PathBuf};

use pingan_drivers::{DeviceId, Measurement, Reading, Timestamp};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use crate::alert::{Alert, AuditEntry};
pub use outbox::{Outbox, OutboxEntry};

/// The on-disk layout version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled failed (I/O, corruption, disk full).
    #[error("database at {path}: {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
    /// The database was written by an incompatible version.
    #[error(
        "database at {path} has schema version {found}, this pingan reads version {expected}; \
         use the pingan release that wrote it, or move the directory away to start afresh"
    )]
    SchemaMismatch {
        path: PathBuf,
        found: String,
        expected: u32,
    },
    /// Another process (a running gateway) holds the database.
    #[error("database at {path} is in use by another process (is the gateway running?)")]
    Locked { path: PathBuf },
    /// A stored value could not be decoded.
    #[error("corrupt {what} record: {detail}")]
    Corrupt { what: &'static str, detail: String },
}

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
    db: sled::Db,
    readings: sled::Tree,
    alerts: sled::Tree,
    audit: sled::Tree,
}

impl Store {
    /// Opens (or creates) the database in `dir` and checks its schema version.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.to_path_buf();
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(64 << 20)
            .flush_every_ms(Some(500))
            .open()
            .map_err(|source| match &source {
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
            db,
            path,
        })
    }

    fn err(&self, source: sled::Error) -> StoreError {
        StoreError::Db {
            path: self.path.clone(),
            source,
        }
    }

    /// The underlying database (the dashboard keeps accounts in its own trees).
    pub fn db(&self) -> &sled::Db {
        &self.db
    }

    /// Writes a batch of readings atomically. Not flushed: telemetry rides sled's 500 ms flusher.
    pub fn put_readings(&self, readings: &[Reading]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for r in readings {
            let (kind, value) = encode_measurement(&r.measurement);
            batch.insert(keys::reading(&r.device, r.at, kind), value);
        }
        self.readings.apply_batch(batch).map_err(|e| self.err(e))
    }

    /// Readings of `device` with `from <= at < to`, oldest first.
    pub fn readings(
        &self,
        device: &DeviceId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<StoredReading>, StoreError> {
        let start = keys::reading(device, from, 0);
        let end = keys::reading(device, to, 0);
        let mut out = Vec::new();
        for kv in self.readings.range(start..end) {
            let (k, v) = kv.map_err(|e| self.err(e))?;
            let Some((device, at)) = keys::split_reading(&k) else {
                continue;
            };
            let value = serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                what: "reading",
                detail: e.to_string(),
            })?;
            out.push(StoredReading { device, at, value });
        }
        Ok(out)
    }

    /// Number of stored readings (a full scan: for tests and tools).
    pub fn count_readings(&self) -> usize {
        self.readings.len()
    }

    /// Deletes readings older than `cutoff`, in small batches so ingest never waits on it.
    /// Returns how many were removed.
    pub fn sweep_readings(&self, cutoff: Timestamp) -> Result<u64, StoreError> {
        let mut removed = 0;
        let mut cursor: Vec<u8> = Vec::new();
        loop {
            // Find the next device prefix at or after the cursor.
            let Some(kv) = self.readings.range(cursor.clone()..).next() else {
                break;
            };
            let (k, _) = kv.map_err(|e| self.err(e))?;
            let Some((device, _)) = keys::split_reading(&k) else {
                // A malformed key: skip past it.
                cursor = next_key(&k);
                continue;
            };
            let prefix = keys::device_prefix(&device);
            let end = keys::reading(&device, cutoff, 0);
            loop {
                let old: Vec<sled::IVec> = self
                    .readings
                    .range(prefix.clone()..end.clone())
                    .keys()
                    .take(512)
                    .collect::<Result<_, _>>()
                    .map_err(|e| self.err(e))?;
                if old.is_empty() {
                    break;
                }
                let mut batch = sled::Batch::default();
                for k in &old {
                    batch.remove(k);
                }
                removed += old.len() as u64;
                self.readings.apply_batch(batch).map_err(|e| self.err(e))?;
            }
            cursor = prefix_end(&prefix);
        }
        Ok(removed)
    }

    /// Stores an alert revision and its audit entry, then flushes: when this returns, the change
    /// survives a power cut. Call before publishing it.
    pub async fn put_alert(
        &self,
        alert: &Alert,
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        self.put_alert_unflushed(alert, audit)?;
        self.db.flush_async().await.map_err(|e| self.err(e))?;
        Ok(())
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

    /// Flushes everything written so far to disk.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await.map_err(|e| self.err(e))?;
        Ok(())
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

    /// The durable outbox of an uplink.
    pub fn outbox(&self, uplink: &str) -> Result<Outbox, StoreError> {
        let tree = self
            .db
            .open_tree(format!("outbox/{uplink}"))
            .map_err(|e| self.err(e))?;
        Ok(Outbox::new(tree))
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

    /// Names of the uplinks that have an outbox here.
    pub fn outbox_names(&self) -> Vec<String> {
        self.db
            .tree_names()
            .iter()
            .filter_map(|n| {
                std::str::from_utf8(n)
                    .ok()?
                    .strip_prefix("outbox/")
                    .map(str::to_owned)
            })
            .collect()
    }

    /// Size of the database on disk, bytes.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}

fn decode<T: serde::de::DeserializeOwned>(v: &[u8], what: &'static str) -> Result<T, StoreError> {
    serde_json::from_slice(v).map_err(|e| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    })
}

/// Stored form of a measurement and its kind byte. Raw accelerometer batches are not kept (50 Hz
/// per resident would wear out an SD card in weeks); a magnitude summary is.
fn encode_measurement(m: &Measurement) -> (u8, Vec<u8>) {
    let kind = kind_byte(m);
    let value = match m {
        Measurement::Motion { samples, hz } => {
            let mags: Vec<f32> = samples
                .iter()
                .map(|s| (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt())
                .collect();
            let n = mags.len().max(1) as f32;
            let mean = mags.iter().sum::<f32>() / n;
            let var = mags.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
            serde_json::json!({
                "kind": "motion_summary",
                "n": samples.len(),
                "hz": hz,
                "mag_mean": mean,
                "mag_std": var.sqrt(),
                "mag_min": mags.iter().copied().fold(f32::INFINITY, f32::min),
                "mag_max": mags.iter().copied().fold(0.0, f32::max),
            })
        }
        other => serde_json::to_value(other).unwrap_or(serde_json::Value::Null),
    };
    (kind, serde_json::to_vec(&value).unwrap_or_default())
}

fn kind_byte(m: &Measurement) -> u8 {
    match m {
        Measurement::HeartRate { .. } => 1,
        Measurement::SpO2 { .. } => 2,
        Measurement::RespirationRate { .. } => 3,
        Measurement::BodyTemperature { .. } => 4,
        Measurement::BloodPressure { .. } => 5,
        Measurement::Motion { .. } => 6,
        Measurement::Button { .. } => 7,
        Measurement::BedOccupancy { .. } => 8,
        Measurement::Environment { .. } => 9,
        Measurement::Smoke { .. } => 10,
        Measurement::Gas { .. } => 11,
        Measurement::Door { .. } => 12,
        Measurement::WaterLeak { .. } => 13,
        Measurement::Battery { .. } => 14,
        Measurement::Presence { .. } => 15,
    }
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
