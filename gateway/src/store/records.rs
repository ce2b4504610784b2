//! Records people leave besides alert changes, in their own trees (docs/STORAGE.md):
//!
//! - `actions`: [`ActionRecord`]s — a person's act on something other than an alert (a device
//!   command, a care-record or account change), key = sled `generate_id` u64 BE, so the tree is
//!   in the order the acts finished, across restarts.
//! - `care`: the care-record overlay (key `overlay`) as JSON: what people changed over the site
//!   file. The store does not know its type (the `care` module does).
//! - `handovers`: shift handovers as JSON, key = the time it was made (i64 BE, sign flipped) +
//!   `generate_id` u64 BE. The store does not know the handover's type: it keeps what it is given.
//!
//! Both are flushed when written (a person's act is on disk before the dashboard says it was
//! recorded) and never swept.

use pingan_drivers::{DeviceId, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Store, StoreError, decode};
use crate::alert::{ActionRecord, ActionSubject};

/// Tree of people's acts.
pub const ACTIONS_TREE: &str = "actions";
/// Tree of the care-record overlay.
pub const CARE_TREE: &str = "care";
/// Tree of shift handovers.
pub const HANDOVERS_TREE: &str = "handovers";

fn encode<T: Serialize>(what: &'static str, v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    })
}

impl Store {
    /// Records a person's act and flushes it to disk.
    pub async fn record_action(&self, record: &ActionRecord) -> Result<(), StoreError> {
        let key = self.db.generate_id().map_err(|e| self.err(e))?;
        self.actions
            .insert(key.to_be_bytes(), encode("action", record)?)
            .map_err(|e| self.err(e))?;
        self.flush().await
    }

    /// The newest `limit` acts, newest first; only those about `device` when given. An
    /// unreadable record is skipped (and logged) rather than hiding the others.
    pub fn actions(
        &self,
        device: Option<&DeviceId>,
        limit: usize,
    ) -> Result<Vec<ActionRecord>, StoreError> {
        let mut out = Vec::new();
        for v in self.actions.iter().values().rev() {
            if out.len() >= limit {
                break;
            }
            let v = v.map_err(|e| self.err(e))?;
            let record: ActionRecord = match decode(&v, "action") {
                Ok(r) => r,
                Err(error) => {
                    tracing::warn!(%error, "skipping an unreadable action record");
                    continue;
                }
            };
            let keep = match (device, &record.subject) {
                (None, _) => true,
                (Some(d), ActionSubject::Device(s)) => d == s,
                (Some(_), _) => false,
            };
            if keep {
                out.push(record);
            }
        }
        Ok(out)
    }

    /// The stored care-record overlay, if any.
    pub fn care_overlay<T: DeserializeOwned>(&self) -> Result<Option<T>, StoreError> {
        let tree = self.db.open_tree(CARE_TREE).map_err(|e| self.err(e))?;
        match tree.get("overlay").map_err(|e| self.err(e))? {
            None => Ok(None),
            Some(v) => decode(&v, "care overlay").map(Some),
        }
    }

    /// Replaces the care-record overlay and records the act that changed it, with one flush:
    /// the change and its audit are on disk together before the dashboard is told.
    pub async fn put_care_overlay<T: Serialize>(
        &self,
        overlay: &T,
        record: &ActionRecord,
    ) -> Result<(), StoreError> {
        let tree = self.db.open_tree(CARE_TREE).map_err(|e| self.err(e))?;
        tree.insert("overlay", encode("care overlay", overlay)?)
            .map_err(|e| self.err(e))?;
        self.record_action(record).await
    }

    /// Replaces the care-record overlay without an act (a resident gone from the site file).
    pub async fn put_care_overlay_only<T: Serialize>(&self, overlay: &T) -> Result<(), StoreError> {
        let tree = self.db.open_tree(CARE_TREE).map_err(|e| self.err(e))?;
        tree.insert("overlay", encode("care overlay", overlay)?)
            .map_err(|e| self.err(e))?;
        self.flush().await
    }

    /// Keeps a handover made at `made_at` and flushes it.
    pub async fn put_handover<T: Serialize>(
        &self,
        made_at: Timestamp,
        handover: &T,
    ) -> Result<(), StoreError> {
        let mut key = ((made_at.millis() as u64) ^ (1 << 63))
            .to_be_bytes()
            .to_vec();
        let id = self.db.generate_id().map_err(|e| self.err(e))?;
        key.extend_from_slice(&id.to_be_bytes());
        self.handovers
            .insert(key, encode("handover", handover)?)
            .map_err(|e| self.err(e))?;
        self.flush().await
    }

    /// The newest `limit` handovers, newest first.
    pub fn handovers<T: DeserializeOwned>(&self, limit: usize) -> Result<Vec<T>, StoreError> {
        self.handovers
            .iter()
            .values()
            .rev()
            .take(limit)
            .map(|v| decode(&v.map_err(|e| self.err(e))?, "handover"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Act, Via};

    fn record(device: &str, at: i64) -> ActionRecord {
        ActionRecord {
            at: Timestamp(at),
            by: "li".into(),
            account: Some("li".into()),
            via: Via::Http,
            subject: ActionSubject::Device(DeviceId::new(device)),
            act: Act::DeviceCommand {
                command: "silence".into(),
            },
            note: None,
            ok: true,
            error: None,
        }
    }

    #[tokio::test]
    async fn actions_come_back_newest_first_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            for (i, d) in ["smoke-1", "smoke-2", "smoke-1"].iter().enumerate() {
                store.record_action(&record(d, i as i64)).await.unwrap();
            }
        }
        let store = Store::open(dir.path()).unwrap();
        let all = store.actions(None, 10).unwrap();
        assert_eq!(all.iter().map(|r| r.at.0).collect::<Vec<_>>(), [2, 1, 0]);
        let one = store.actions(Some(&DeviceId::new("smoke-1")), 1).unwrap();
        assert_eq!(one, [record("smoke-1", 2)]);
        let json = serde_json::to_value(&one[0]).unwrap();
        assert_eq!(json["action"], "device_command");
        assert_eq!(
            json["subject"],
            serde_json::json!({"type": "device", "id": "smoke-1"})
        );
    }

    #[tokio::test]
    async fn handovers_are_kept_in_time_order() {
        let store = Store::temporary().unwrap();
        for at in [30, 10, 20] {
            store
                .put_handover(Timestamp(at), &serde_json::json!({ "made_at": at }))
                .await
                .unwrap();
        }
        let got: Vec<serde_json::Value> = store.handovers(2).unwrap();
        assert_eq!(
            got,
            [
                serde_json::json!({"made_at": 30}),
                serde_json::json!({"made_at": 20})
            ]
        );
    }
}
