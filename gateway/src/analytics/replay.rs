//! Replaying a recorded trace (JSON lines of [`Reading`]s) through normalize → analytics → the
//! alert engine as fast as it can, with a clock tick every second of trace time. Pure: the trace
//! text goes in, the alerts come out; `pingan replay` and the trace tests print and compare them.

use std::collections::BTreeMap;

use pingan_drivers::{Reading, Timestamp};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use super::{Analytics, Finding};
use crate::alert::{
    AlertKind, AlertState, Engine, EngineSettings, Output, Policies, Priority, Subject,
};
use crate::config::Config;
use crate::service::processor::{Processed, Processor};

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

/// Runs `readings` (any order) through `analytics` and an alert engine built from `config`.
pub fn replay(config: &Config, analytics: Analytics, mut readings: Vec<Reading>) -> Replay {
    readings.sort_by_key(|r| r.at);
    // The same normalization and analytics as the live pipeline.
    let mut processor = Processor::with_analytics(config, analytics);
    let mut engine = Engine::new(
        EngineSettings {
            cancel_window: config.alerts.cancel_window,
            clear_debounce: config.alerts.clear_debounce,
        },
        Policies::from_config(config),
    );
    let mut run = Run::default();
    let mut next_tick = readings.first().map(|r| r.at);
    for r in readings {
        while let Some(t) = next_tick.filter(|t| *t <= r.at) {
            let f = processor.on_tick(t);
            run.findings(&mut engine, f);
            run.outputs(engine.on_tick(t));
            next_tick = Some(t.plus(std::time::Duration::from_secs(1)));
        }
        match processor.on_reading(r) {
            Processed::Unknown { .. } => run.replay.unknown_devices += 1,
            Processed::Known(_, f) => {
                run.replay.readings += 1;
                run.findings(&mut engine, f);
            }
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
    fn findings(&mut self, engine: &mut Engine, findings: Vec<Finding>) {
        for f in findings {
            let out = match f {
                Finding::Event(ev) => {
                    self.ids += 1;
                    // Deterministic ids: trace time plus a sequence number.
                    let ms = u64::try_from(ev.at.millis()).unwrap_or(0);
                    let id = Ulid::from_parts(ms, u128::from(self.ids));
                    engine.on_event(ev, id)
                }
                Finding::Cancel { subject, at } => engine.cancel(&subject, at),
            };
            self.outputs(out);
        }
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
