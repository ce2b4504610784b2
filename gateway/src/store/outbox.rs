//! A durable outbox for one uplink: messages wait here, in order, until the broker's PUBACK for
//! them arrives. Keys are sled's monotonic ids (big-endian) so iteration is send order, across
//! restarts too.

use std::sync::Arc;

use pingan_drivers::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use ulid::Ulid;

use super::error::StoreError;

/// One message waiting for its PUBACK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// MQTT topic.
    pub topic: String,
    /// JSON payload.
    pub payload: String,
    /// Publish retained.
    #[serde(default)]
    pub retain: bool,
    /// The alert this message carries, to report delivery back to the engine.
    #[serde(default)]
    pub alert: Option<Ulid>,
    /// When it was queued (the age of the oldest message is a health signal); absent in
    /// records written before this field existed.
    #[serde(default)]
    pub queued_at: Option<Timestamp>,
}

/// The outbox of one uplink. Cheap to clone; clones share the wake-up signal.
#[derive(Debug, Clone)]
pub struct Outbox {
    /// Keys come from the database's monotonic id generator.
    db: sled::Db,
    tree: sled::Tree,
    wake: Arc<Notify>,
}

fn err(source: sled::Error) -> StoreError {
    StoreError::Db {
        path: "outbox".into(),
        source,
    }
}

impl Outbox {
    pub(super) fn new(db: sled::Db, tree: sled::Tree) -> Self {
        Self {
            db,
            tree,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Appends a message; not flushed (the caller flushes with the alert it belongs to) and the
    /// sender is not woken until [`Outbox::wake`].
    pub fn push(&self, entry: &OutboxEntry) -> Result<u64, StoreError> {
        let key = self.db.generate_id().map_err(err)?;
        let value = serde_json::to_vec(entry).map_err(|e| StoreError::Corrupt {
            what: "outbox",
            detail: e.to_string(),
        })?;
        self.tree.insert(key.to_be_bytes(), value).map_err(err)?;
        Ok(key)
    }

    /// Wakes the uplink task after pushes are flushed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Resolves when something was pushed since the last call.
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Up to `limit` messages after `cursor` (all from the start when `None`), in send order.
    pub fn after(
        &self,
        cursor: Option<u64>,
        limit: usize,
    ) -> Result<Vec<(u64, OutboxEntry)>, StoreError> {
        let start = cursor.map_or(0, |c| c.saturating_add(1));
        let mut out = Vec::new();
        for kv in self.tree.range(start.to_be_bytes()..).take(limit) {
            let (k, v) = kv.map_err(err)?;
            let Ok(key) = <[u8; 8]>::try_from(k.as_ref()) else {
                continue;
            };
            match serde_json::from_slice(&v) {
                Ok(entry) => out.push((u64::from_be_bytes(key), entry)),
                Err(e) => {
                    // A record this build cannot read would block the queue forever: drop it
                    // loudly rather than stall every alert behind it.
                    tracing::error!(error = %e, "dropping unreadable outbox record");
                    self.tree.remove(k).map_err(err)?;
                }
            }
        }
        Ok(out)
    }

    /// Removes a message after its PUBACK.
    pub fn remove(&self, key: u64) -> Result<(), StoreError> {
        self.tree.remove(key.to_be_bytes()).map_err(err)?;
        Ok(())
    }

    /// When the oldest waiting message was queued (`None`: empty, or an old record).
    pub fn oldest_queued_at(&self) -> Option<Timestamp> {
        self.after(None, 1).ok()?.into_iter().next()?.1.queued_at
    }

    /// Messages waiting.
    pub fn len(&self) -> usize {
        self.tree.len()
    }

    /// Nothing waiting.
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }
}
