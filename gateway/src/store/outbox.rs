//! A durable outbox for one link: messages wait here, in order, until the broker's PUBACK for
//! them arrives. Keys are sled's monotonic ids (big-endian) so iteration is send order, across
//! restarts too.
//!
//! When the store cannot persist (a full or failing disk), alert changes must still go out: they
//! are queued in the outbox's memory part instead ([`Outbox::push_memory`]), deduplicated by alert
//! id and revision, and sent after every durable message. What is in memory only is lost if the
//! process dies; docs/STORAGE.md says how the gateway gets back to the durable path.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

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
    /// The alert revision it carries (memory queues deduplicate on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u32>,
    /// When it was queued (how long a link has left it undelivered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_at: Option<Timestamp>,
}

impl OutboxEntry {
    /// A message with no alert attached (command results, handover summaries).
    pub fn message(topic: String, payload: String, queued_at: Timestamp) -> Self {
        Self {
            topic,
            payload,
            retain: false,
            alert: None,
            revision: None,
            queued_at: Some(queued_at),
        }
    }

    /// This message carries revision `revision` of alert `alert`.
    #[must_use]
    pub fn for_alert(mut self, alert: Ulid, revision: u32) -> Self {
        self.alert = Some(alert);
        self.revision = Some(revision);
        self
    }
}

/// Where a message waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutboxKey {
    /// On disk, under this key.
    Disk(u64),
    /// In memory only (the store could not persist it), with this sequence number.
    Memory(u64),
}

#[derive(Debug, Default)]
struct MemoryQueue {
    next: u64,
    entries: VecDeque<(u64, OutboxEntry)>,
    /// (alert, revision) pairs queued in this run: a revision goes out once.
    seen: HashSet<(Ulid, u32)>,
}

/// The outbox of one link. Cheap to clone; clones share the wake-up signal and the memory part.
#[derive(Debug, Clone)]
pub struct Outbox {
    /// Keys come from the database's monotonic id generator.
    db: sled::Db,
    tree: sled::Tree,
    wake: Arc<Notify>,
    memory: Arc<Mutex<MemoryQueue>>,
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
            memory: Arc::default(),
        }
    }

    fn memory(&self) -> MutexGuard<'_, MemoryQueue> {
        self.memory.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The tree (for a transaction of the store).
    pub(super) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// A fresh key, after every key handed out before (across restarts too).
    pub(super) fn next_key(&self) -> Result<u64, StoreError> {
        self.db.generate_id().map_err(err)
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

    /// Queues a message in memory because the store cannot persist it. A revision of an alert
    /// already queued in memory in this run is not queued twice. Returns whether it was queued.
    pub fn push_memory(&self, entry: OutboxEntry) -> bool {
        let mut m = self.memory();
        if let (Some(a), Some(r)) = (entry.alert, entry.revision) {
            if !m.seen.insert((a, r)) {
                return false;
            }
        }
        let seq = m.next;
        m.next += 1;
        m.entries.push_back((seq, entry));
        true
    }

    /// Wakes the link task after pushes are flushed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Resolves when something was pushed since the last call.
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Up to `limit` messages on disk after `cursor` (all from the start when `None`), in send
    /// order.
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

    /// The next message to send: the first on disk after `cursor`, else the oldest in memory.
    /// Messages on disk always go first: they were queued before the store failed.
    pub fn next(
        &self,
        cursor: Option<u64>,
    ) -> Result<Option<(OutboxKey, OutboxEntry)>, StoreError> {
        let disk = self.after(cursor, 1);
        if let Ok(Some((k, e))) = disk.as_ref().map(|v| v.first().cloned()) {
            return Ok(Some((OutboxKey::Disk(k), e)));
        }
        let memory = self
            .memory()
            .entries
            .front()
            .map(|(seq, e)| (OutboxKey::Memory(*seq), e.clone()));
        match (memory, disk) {
            (Some(m), _) => Ok(Some(m)),
            (None, Err(e)) => Err(e),
            (None, Ok(_)) => Ok(None),
        }
    }

    /// Removes a message after its PUBACK.
    pub fn remove(&self, key: OutboxKey) -> Result<(), StoreError> {
        match key {
            OutboxKey::Disk(k) => {
                self.tree.remove(k.to_be_bytes()).map_err(err)?;
            }
            OutboxKey::Memory(seq) => self.memory().entries.retain(|(s, _)| *s != seq),
        }
        Ok(())
    }

    /// When the oldest waiting message was queued (`None`: empty, or an old record): on disk
    /// first, then in memory.
    pub fn oldest_queued_at(&self) -> Option<Timestamp> {
        let disk = self.after(None, 1).ok().and_then(|v| v.into_iter().next());
        match disk {
            Some((_, e)) => e.queued_at,
            None => self.memory().entries.front().and_then(|(_, e)| e.queued_at),
        }
    }

    /// Messages waiting (on disk and in memory).
    pub fn len(&self) -> usize {
        self.tree.len() + self.memory_len()
    }

    /// Messages waiting in memory only.
    pub fn memory_len(&self) -> usize {
        self.memory().entries.len()
    }

    /// Nothing waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// When the oldest waiting message that carries an alert was queued, if any (bounded scan:
    /// command results ahead of it are few).
    pub fn oldest_alert_queued_at(&self) -> Option<Timestamp> {
        let disk = self
            .tree
            .iter()
            .values()
            .take(64)
            .filter_map(Result::ok)
            .filter_map(|v| serde_json::from_slice::<OutboxEntry>(&v).ok())
            .find(|e| e.alert.is_some())
            .and_then(|e| e.queued_at);
        disk.or_else(|| {
            self.memory()
                .entries
                .iter()
                .find(|(_, e)| e.alert.is_some())
                .and_then(|(_, e)| e.queued_at)
        })
    }
}
