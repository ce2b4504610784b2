//! Draining an outbox, shared by the local link and uplinks: acknowledged messages leave it
//! (failed removals retried and logged at a low rate), and the PUBACK deadline's timer.

use tokio::time::Instant;

use super::state::LinkState;
use crate::config::LinkId;
use crate::log_limit::Verdict;
use crate::store::{Outbox, OutboxKey};

pub(super) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Removes an acknowledged message (and retries earlier failed removals).
pub(super) fn remove_acked(link: &LinkId, outbox: &Outbox, state: &mut LinkState, key: OutboxKey) {
    let mut keys = state.unremoved();
    keys.push(key);
    for k in keys {
        let result = outbox.remove(k);
        let now = Instant::now();
        if let Some(Verdict::Log { repeats, total }) = state.on_removed(k, result.is_ok(), now) {
            if let Err(e) = result {
                tracing::error!(link = %link, error = %e, failures = total, since_last_line = repeats, "outbox remove failed; the message was delivered and is not sent again");
            }
        }
    }
}
