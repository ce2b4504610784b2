//! One batch of alert changes as one sled transaction: the alert revisions, their audit entries
//! and the outbox messages that announce them are recovered together after a crash, or not at
//! all. sled's background flusher may sync the log at any moment; without the transaction it
//! could persist an alert and not the message that publishes it, and after a kill the restored
//! engine would take the alert as already sent: it would never reach the institution.

use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};

use super::error::StoreError;
use super::{Store, keys};
use crate::alert::{Alert, AuditEntry};
use crate::store::{Outbox, OutboxEntry};

fn encode<T: serde::Serialize>(what: &'static str, v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    })
}

impl Store {
    /// Writes `alerts` (with their audit entries) and `messages` in one transaction, not
    /// flushed (the caller flushes once); returns each message's outbox key.
    pub fn commit(
        &self,
        alerts: &[(&Alert, Option<&AuditEntry>)],
        messages: &[(&Outbox, &OutboxEntry)],
    ) -> Result<Vec<u64>, StoreError> {
        let alert_values = alerts
            .iter()
            .map(|(a, audit)| {
                let audit = audit
                    .map(|x| Ok::<_, StoreError>((x.alert, x.revision, encode("audit", x)?)))
                    .transpose()?;
                Ok((a.id.to_bytes(), encode("alert", a)?, audit))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // Keys outside the transaction: its closure may run again on a conflict.
        let mut trees: Vec<&sled::Tree> = vec![&self.alerts, &self.audit];
        let mut message_values = Vec::with_capacity(messages.len());
        for (outbox, entry) in messages {
            let tree = outbox.tree();
            let at = match trees.iter().skip(2).position(|t| t.name() == tree.name()) {
                Some(i) => i + 2,
                None => {
                    trees.push(tree);
                    trees.len() - 1
                }
            };
            let key = outbox.next_key()?;
            message_values.push((at, key, encode("outbox", entry)?));
        }
        let result = trees.as_slice().transaction(|views| {
            let (Some(alerts_tx), Some(audit_tx)) = (views.first(), views.get(1)) else {
                return Err(ConflictableTransactionError::Abort(()));
            };
            for (id, alert, audit) in &alert_values {
                alerts_tx.insert(&id[..], alert.as_slice())?;
                if let Some((alert_id, revision, audit)) = audit {
                    // Several entries can share a revision only through merges: a seq parts them.
                    let mut seq = 0u8;
                    while seq < u8::MAX
                        && audit_tx
                            .get(keys::audit(*alert_id, *revision, seq))?
                            .is_some()
                    {
                        seq += 1;
                    }
                    audit_tx.insert(keys::audit(*alert_id, *revision, seq), audit.as_slice())?;
                }
            }
            for (at, key, value) in &message_values {
                let Some(tx) = views.get(*at) else {
                    return Err(ConflictableTransactionError::Abort(()));
                };
                tx.insert(&key.to_be_bytes()[..], value.as_slice())?;
            }
            Ok(())
        });
        match result {
            Ok(()) => Ok(message_values.iter().map(|(_, k, _)| *k).collect()),
            Err(TransactionError::Storage(e)) => Err(self.err(e)),
            Err(TransactionError::Abort(())) => Err(StoreError::Corrupt {
                what: "transaction",
                detail: "a tree of the batch was missing".into(),
            }),
        }
    }
}
