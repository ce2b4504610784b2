//! A radio that replays recorded traffic from a JSONL file, one event per line:
//!
//! ```text
//! {"t_ms": 0,   "address": "C0:FF:EE:00:00:01", "uuid": "connect"}
//! {"t_ms": 20,  "address": "C0:FF:EE:00:00:01", "uuid": "2a37", "hex": "0648"}
//! {"t_ms": 500, "address": "C0:FF:EE:00:00:02", "uuid": "adv", "hex": "0201060616d2fc403a01", "rssi": -60}
//! {"t_ms": 900, "address": "C0:FF:EE:00:00:01", "uuid": "disconnect"}
//! ```
//! `uuid` is a characteristic (16-bit such as `2a37` or 128-bit), `adv` for advertising data,
//! `connect` or `disconnect`. Events are released at `t_ms` after the radio opened, on tokio's
//! clock, so tests under `tokio::time::pause()` replay hours in milliseconds.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::contract::{OpenRadio, Radio, RadioError, RadioEvent};
use crate::ble::adv::{AdvData, from_hex};
use crate::ble::config::{BleConfig, normalize_address};
use crate::ble::gatt::parse_uuid;
use crate::reading::Timestamp;

/// One line of a replay file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayLine {
    /// Milliseconds after the start of the replay.
    pub t_ms: u64,
    /// The device's address.
    pub address: String,
    /// Characteristic UUID, or `adv`, `connect`, `disconnect`.
    pub uuid: String,
    /// The payload as hex.
    #[serde(default)]
    pub hex: String,
    /// RSSI of an advertisement.
    #[serde(default)]
    pub rssi: Option<i16>,
    /// Local name of an advertisement.
    #[serde(default)]
    pub name: Option<String>,
}

/// Replays recorded radio events.
#[derive(Debug)]
pub struct ReplayRadio {
    events: std::iter::Peekable<std::vec::IntoIter<(u64, RadioEvent)>>,
    start: tokio::time::Instant,
    base: Timestamp,
}

impl ReplayRadio {
    /// Parses replay lines; `base` is the wall-clock time of `t_ms = 0` in the readings.
    pub fn from_lines(text: &str, base: Timestamp, source: &str) -> Result<Self, RadioError> {
        let mut events = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad = |detail: String| RadioError::Replay {
                path: source.to_owned(),
                detail: format!("line {}: {detail}", i + 1),
            };
            let l: ReplayLine = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
            let address = normalize_address(&l.address).ok_or_else(|| {
                bad(format!(
                    "address {:?} is not a Bluetooth address",
                    l.address
                ))
            })?;
            let at = base.plus(Duration::from_millis(l.t_ms));
            let ev = match l.uuid.as_str() {
                "connect" => RadioEvent::Connected { at, address },
                "disconnect" => RadioEvent::Disconnected {
                    at,
                    address,
                    reason: "replayed disconnection".into(),
                },
                "adv" => {
                    let bytes = from_hex(&l.hex).map_err(bad)?;
                    let data = AdvData::parse(&bytes).map_err(|e| bad(e.to_string()))?;
                    RadioEvent::Advert {
                        at,
                        address,
                        name: l.name.or_else(|| data.local_name.clone()),
                        rssi: l.rssi,
                        data,
                    }
                }
                uuid => RadioEvent::Notification {
                    at,
                    address,
                    uuid: parse_uuid(uuid).map_err(bad)?,
                    value: from_hex(&l.hex).map_err(bad)?,
                },
            };
            events.push((l.t_ms, ev));
        }
        // A recording may interleave sources; release in time order (stable for equal times).
        events.sort_by_key(|(t, _)| *t);
        Ok(Self {
            events: events.into_iter().peekable(),
            start: tokio::time::Instant::now(),
            base,
        })
    }

    /// Checks a replay file without replaying it (for `pingan check-config`): the number of
    /// events, or the first problem with its line number.
    pub fn check_file(path: &Path) -> Result<usize, RadioError> {
        let text = std::fs::read_to_string(path).map_err(|e| RadioError::Replay {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
        Ok(
            Self::from_lines(&text, Timestamp(0), &path.display().to_string())?
                .events
                .len(),
        )
    }

    /// Reads a replay file.
    pub async fn from_file(path: &Path, base: Timestamp) -> Result<Self, RadioError> {
        let text = tokio::fs::read_to_string(path)
            .await
            .map_err(|e| RadioError::Replay {
                path: path.display().to_string(),
                detail: e.to_string(),
            })?;
        Self::from_lines(&text, base, &path.display().to_string())
    }
}

impl Radio for ReplayRadio {
    async fn next_event(&mut self) -> Result<Option<RadioEvent>, RadioError> {
        // Cancel-safe: the event is taken only after its time has come, so a caller that drops
        // this future (a `select!` on a timer) loses nothing.
        let Some(&(t_ms, _)) = self.events.peek() else {
            return Ok(None);
        };
        tokio::time::sleep_until(self.start + Duration::from_millis(t_ms)).await;
        Ok(self.events.next().map(|(_, ev)| ev))
    }

    fn now(&self) -> Timestamp {
        self.base.plus(self.start.elapsed())
    }
}

impl OpenRadio for ReplayRadio {
    async fn open(config: &BleConfig) -> Result<Self, RadioError> {
        let path = config.replay.as_deref().ok_or_else(|| RadioError::Replay {
            path: String::new(),
            detail: "no replay file configured".into(),
        })?;
        Self::from_file(path, Timestamp::now()).await
    }
}
