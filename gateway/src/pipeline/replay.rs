//! Replaying a recorded trace (JSON lines of [`Reading`]s) through normalize → analytics → the
//! alert engine as fast as it can, with a clock tick every second of trace time. Pure: the trace
//! text goes in, the alerts come out; `pingan replay` and the trace tests print and compare them.

use std::collections::BTreeMap;
use std::time::Duration;

use pingan_drivers::{Reading, Timestamp};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use super::Pipeline;
use super::site::Site;
use crate::alert::{AlertKind, AlertState, Output, Priority, Subject};
use crate::analytics::{Analytics, Finding};

/// A trace line that is not a reading.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {source}")]
pub struct TraceError {
    /// 1-based line number.
    pub line: usize,
    /// What serde said.
    #[source]
    pub source: serde_json::Error,
}

/// Parses a trace: one JSON [`Reading`] per line; blank lines are skipped.
pub fn parse_trace(text: &str) -> Result<Vec<Reading>, TraceError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|source| TraceError {
                line: i + 1,
                source,
            })
        })
        .collect()
}

/// One alert as a replay reports it: a JSON line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayedAlert {
    /// What.
    pub kind: AlertKind,
    /// Whom.
    pub subject: Subject,
    /// The highest priority it reached.
    pub priority: Priority,
    /// Sent to the hospital green channel.
    pub green_channel: bool,
    /// When it was raised (trace time).
    pub raised_at: Timestamp,
    /// Observations merged into it.
    pub count: u32,
    /// When it resolved (condition cleared and debounced), if it did within the trace.
    pub resolved_at: Option<Timestamp>,
    /// The latest detail text.
    pub detail: String,
}

/// What a replay produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replay {
    /// Alerts in the order they were raised.
    pub alerts: Vec<ReplayedAlert>,
    /// Readings of devices the config does not know (skipped, as the pipeline does).
    pub unknown_devices: usize,
    /// Readings processed.
    pub readings: usize,
}

/// Trace time between analytics and engine ticks.
const TICK: Duration = Duration::from_secs(1);
/// A silence in a trace longer than this is jumped over in one tick instead of ticked through
/// second by second (a trace may hold any timestamps; the timers see the jump as time passing).
const MAX_TICKED_GAP: Duration = Duration::from_secs(7 * 86_400);

/// Runs `readings` (any order) through `analytics` and the alert engine of `site`.
pub fn replay(site: &Site, analytics: Analytics, mut readings: Vec<Reading>) -> Replay {
    readings.sort_by_key(|r| r.at);
    // The same normalization, analytics and engine as the live gateway.
    let mut pipeline = Pipeline::new(site, analytics);
    let mut run = Run::default();
    let mut next_tick = readings.first().map(|r| r.at);
    for r in readings {
        while let Some(t) = next_tick.filter(|t| *t <= r.at) {
            let out = pipeline.on_tick(t, &mut |f| run.id(f));
            run.outputs(out);
            let next = if r.at.since(t) > MAX_TICKED_GAP {
                r.at
            } else {
                t.plus(TICK)
            };
            // At the end of time there is no next second: the tick at `t` was the last.
            next_tick = (next > t).then_some(next);
        }
        let stepped = pipeline.on_reading(r, &mut |f| run.id(f));
        if stepped.unknown {
            run.replay.unknown_devices += 1;
        } else {
            run.replay.readings += 1;
            run.outputs(stepped.outputs);
        }
    }
    run.finish()
}

#[derive(Debug, Default)]
struct Run {
    replay: Replay,
    index: BTreeMap<Ulid, usize>,
    ids: u64,
}

impl Run {
    /// Deterministic alert ids: trace time plus a sequence number.
    fn id(&mut self, f: &Finding) -> Ulid {
        self.ids += 1;
        let at = match f {
            Finding::Event(ev) => ev.at,
            Finding::Cancel { at, .. } => *at,
        };
        let ms = u64::try_from(at.millis()).unwrap_or(0);
        Ulid::from_parts(ms, u128::from(self.ids))
    }

    fn outputs(&mut self, outputs: Vec<Output>) {
        for o in outputs {
            let Output::Changed { alert, .. } = o else {
                continue;
            };
            let i = *self.index.entry(alert.id).or_insert_with(|| {
                self.replay.alerts.push(ReplayedAlert {
                    kind: alert.kind,
                    subject: alert.subject.clone(),
                    priority: alert.priority,
                    green_channel: false,
                    raised_at: alert.raised_at,
                    count: 0,
                    resolved_at: None,
                    detail: String::new(),
                });
                self.replay.alerts.len() - 1
            });
            if let Some(a) = self.replay.alerts.get_mut(i) {
                a.priority = a.priority.max(alert.priority);
                a.green_channel |= alert.green_channel;
                a.count = alert.count;
                a.detail.clone_from(&alert.detail);
                if alert.state == AlertState::Resolved {
                    a.resolved_at = alert.resolved_at;
                }
            }
        }
    }

    fn finish(self) -> Replay {
        self.replay
    }
}
