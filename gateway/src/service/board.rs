//! The alert board: open alerts and recently resolved ones, kept current by delivery, read by
//! the dashboard without touching the engine's task or scanning the store.

use std::collections::HashMap;
use std::sync::Mutex;

use pingan_drivers::Timestamp;
use ulid::Ulid;

use crate::alert::{Alert, AlertState};

/// How long resolved alerts stay on the board.
const KEEP_RESOLVED_MS: i64 = 24 * 3600 * 1000;

/// Open and recent alerts.
#[derive(Debug, Default)]
pub struct AlertBoard {
    alerts: Mutex<HashMap<Ulid, Alert>>,
}

impl AlertBoard {
    /// A board holding `alerts` (the open ones after a restart).
    pub fn new(alerts: impl IntoIterator<Item = Alert>) -> Self {
        Self {
            alerts: Mutex::new(alerts.into_iter().map(|a| (a.id, a)).collect()),
        }
    }

    /// Records an alert's latest revision at `now`.
    pub fn update(&self, a: &Alert, now: Timestamp) {
        let Ok(mut m) = self.alerts.lock() else {
            return;
        };
        let newer = m.get(&a.id).is_none_or(|old| a.revision >= old.revision);
        if newer {
            m.insert(a.id, a.clone());
        }
        let cutoff = now.millis() - KEEP_RESOLVED_MS;
        m.retain(|_, a| a.resolved_at.is_none_or(|t| t.millis() > cutoff));
    }

    /// Open alerts and those resolved in the `recent_s` seconds before `now`, newest first.
    pub fn list(&self, recent_s: u64, now: Timestamp) -> Vec<Alert> {
        let cutoff = now.millis() - (recent_s as i64).saturating_mul(1000);
        let Ok(m) = self.alerts.lock() else {
            return Vec::new();
        };
        let mut v: Vec<Alert> = m
            .values()
            .filter(|a| a.resolved_at.is_none_or(|t| t.millis() >= cutoff))
            .cloned()
            .collect();
        v.sort_by_key(|a| std::cmp::Reverse(a.id));
        v
    }

    /// The state of the revision on the board (`None`: not on it, a new alert).
    pub fn state(&self, id: Ulid) -> Option<AlertState> {
        self.alerts.lock().ok()?.get(&id).map(|a| a.state)
    }

    /// Open alerts.
    pub fn open_count(&self) -> usize {
        self.alerts
            .lock()
            .map(|m| m.values().filter(|a| a.state.is_open()).count())
            .unwrap_or(0)
    }
}
