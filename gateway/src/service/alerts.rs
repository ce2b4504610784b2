//! The alert task: owns the engine, feeds it findings, people's commands, delivery receipts and
//! clock ticks, and hands its outputs to [`Effects`]. One task, so the engine needs no lock.

use std::sync::Arc;
use std::time::Duration;

use pingan_drivers::Timestamp;
use tokio::sync::{broadcast, mpsc, oneshot};
use ulid::Ulid;

use super::board::AlertBoard;
use super::effects::Effects;
use super::live::{Counters, Live};
use crate::alert::{
    Actor, Alert, AlertState, AuditAction, CommandError, Engine, Event, Output, Via,
};
use crate::analytics::Finding;
use crate::clock::SharedClock;
use crate::config::LinkId;
use crate::metrics::Rejection;
use crate::mqtt::command::Action;
use crate::mqtt::payload;
use crate::pipeline;
use crate::store::Store;

/// The part of the gateway whose technical alert says the store failed to persist.
pub(super) const STORE_FAILED: &str = "storage-write";

/// Most queued inputs folded into one flush.
const GROUP_COMMIT: usize = 256;
/// How often escalation and debounce timers are looked at.
const TICK: Duration = Duration::from_millis(500);

/// A person's command (dashboard, CLI, MQTT), with a reply for callers that wait for one.
#[derive(Debug)]
pub struct CommandRequest {
    /// The alert.
    pub id: Ulid,
    /// Acknowledge or resolve.
    pub action: Action,
    /// Who.
    pub by: Actor,
    /// Their note.
    pub note: Option<String>,
    /// Through what.
    pub via: Via,
    /// The alert after the change, or why it was refused.
    pub reply: Option<oneshot::Sender<Result<Alert, CommandError>>>,
}

/// A link confirmed that a message carrying an alert arrived (PUBACK).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Receipt {
    /// The link.
    pub link: LinkId,
    /// The alert the message carried.
    pub alert: Ulid,
}

/// The alert task's inputs, created before the task so other parts can hold their senders.
#[derive(Debug)]
pub(super) struct AlertTaskBuilder {
    findings: (mpsc::Sender<Finding>, mpsc::Receiver<Finding>),
    commands: (mpsc::Sender<CommandRequest>, mpsc::Receiver<CommandRequest>),
    receipts: (mpsc::Sender<Receipt>, mpsc::Receiver<Receipt>),
}

/// Everything the alert task needs besides its inputs.
#[derive(Debug)]
pub(super) struct AlertTaskParts {
    /// The engine, restored from the store.
    pub engine: Engine,
    /// Store → outboxes → flush → wake.
    pub effects: Effects,
    /// For telling "unknown" from "already resolved".
    pub store: Store,
    /// Counters.
    pub live: Arc<Live>,
    /// The dashboard's view of open and recent alerts.
    pub board: Arc<AlertBoard>,
    /// Every alert change, for event streams.
    pub changes: broadcast::Sender<Alert>,
    /// The time.
    pub clock: SharedClock,
    /// Outputs to apply before anything else (escalations resumed after a restart).
    pub initial: Vec<Output>,
    /// The earliest time the system clock may plausibly read.
    pub clock_floor: Timestamp,
}

impl AlertTaskBuilder {
    /// Analytics, the fall thread and housekeeping send findings here. The task ends once every
    /// sender is gone.
    pub(super) fn findings(&self) -> mpsc::Sender<Finding> {
        self.findings.0.clone()
    }

    /// People's commands.
    pub(super) fn commands(&self) -> mpsc::Sender<CommandRequest> {
        self.commands.0.clone()
    }

    /// Delivery receipts from the links.
    pub(super) fn receipts(&self) -> mpsc::Sender<Receipt> {
        self.receipts.0.clone()
    }

    /// The task, ready to run; drops the builder's own senders.
    pub(super) fn build(self, parts: AlertTaskParts) -> AlertTask {
        AlertTask {
            parts,
            findings: self.findings.1,
            commands: self.commands.1,
            receipts: self.receipts.1,
        }
    }
}

/// The alert task; see the module docs.
#[derive(Debug)]
pub(super) struct AlertTask {
    parts: AlertTaskParts,
    findings: mpsc::Receiver<Finding>,
    commands: mpsc::Receiver<CommandRequest>,
    receipts: mpsc::Receiver<Receipt>,
}

impl AlertTask {
    /// The task's inputs.
    pub(super) fn builder() -> AlertTaskBuilder {
        AlertTaskBuilder {
            findings: mpsc::channel(4096),
            commands: mpsc::channel(256),
            receipts: mpsc::channel(1024),
        }
    }

    /// Runs until every findings sender is gone (shutdown), then applies late commands and
    /// returns.
    pub(super) async fn run(mut self) {
        let initial = std::mem::take(&mut self.parts.initial);
        self.apply(initial).await;
        let mut clock_wrong = false;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let mut outputs = tokio::select! {
                f = self.findings.recv() => match f {
                    Some(f) => self.on_finding(f),
                    None => break,
                },
                Some(c) = self.commands.recv() => self.on_command(c),
                Some(r) = self.receipts.recv() => self.on_receipt(&r),
                _ = tick.tick() => {
                    let mut out = self.watch_clock(&mut clock_wrong);
                    let now = self.parts.clock.now();
                    out.extend(self.parts.engine.on_tick(now));
                    out
                }
            };
            // Group commit: whatever else is already waiting shares one flush to disk, so a
            // burst costs one fsync instead of one per alert.
            for _ in 0..GROUP_COMMIT {
                let more = if let Ok(f) = self.findings.try_recv() {
                    self.on_finding(f)
                } else if let Ok(r) = self.receipts.try_recv() {
                    self.on_receipt(&r)
                } else {
                    break;
                };
                outputs.extend(more);
            }
            self.apply(outputs).await;
        }
        // Late commands and receipts still count.
        while let Ok(c) = self.commands.try_recv() {
            let out = self.on_command(c);
            self.apply(out).await;
        }
    }

    async fn apply(&mut self, outputs: Vec<Output>) {
        if outputs.is_empty() {
            return;
        }
        let raised: Vec<Alert> = outputs
            .iter()
            .filter_map(|o| match o {
                Output::Changed {
                    alert,
                    audit: Some(a),
                    ..
                } if a.action == AuditAction::Raised => Some((**alert).clone()),
                _ => None,
            })
            .collect();
        let applied = self.parts.effects.apply(outputs).await;
        // Logged once the alert is on disk (or, with a failed store, queued in memory): a kill in
        // between must not leave a log line for an alert that never existed.
        for a in &raised {
            Counters::bump(&self.parts.live.counters.alerts_raised);
            self.parts
                .live
                .metrics
                .alert_raised(a.kind.as_str(), priority_name(a));
            tracing::info!(alert = %a.id, kind = %a.kind, subject = %a.subject.key(), "alert raised");
        }
        for a in applied.changed {
            let before = self.parts.board.state(a.id);
            self.observe(before, &a);
            self.parts.board.update(&a, self.parts.clock.now());
            let _ = self.parts.changes.send(a);
        }
        if let Some(e) = applied.failure {
            tracing::error!(error = %e, "the store cannot persist alert changes: they go out of memory from now on; the gateway restarts to recover once they are delivered and the disk has room");
            let detail = format!(
                "the store cannot persist ({e}): alerts are delivered from memory and the gateway restarts once they are delivered and the disk has room"
            );
            let ev = Event::technical(STORE_FAILED, Some(detail), self.parts.clock.now());
            let out = pipeline::step(&mut self.parts.engine, Finding::Event(ev), Ulid::new());
            // Boxed: the technical alert's own change goes the same (memory) way.
            Box::pin(self.apply(out)).await;
        }
    }

    /// Moves the engine's deadlines with a jump of the system clock, and raises (or clears) a
    /// technical alert while the clock reads a time it cannot be (no RTC, no NTP yet): timers run
    /// on the monotonic clock and are not delayed, but the times people see are wrong.
    fn watch_clock(&mut self, wrong: &mut bool) -> Vec<Output> {
        let mut out = Vec::new();
        if let Some(delta_ms) = self.parts.clock.take_jump() {
            tracing::warn!(
                delta_ms,
                "the system clock jumped; every timer keeps the time it had left"
            );
            out.extend(self.parts.engine.on_clock_jump(delta_ms));
        }
        let now = self.parts.clock.now();
        let implausible = now < self.parts.clock_floor;
        if implausible != *wrong {
            *wrong = implausible;
            let detail = implausible.then(|| {
                format!(
                    "the system clock reads {}, before {}: it has not been set (no RTC battery, no NTP); escalation still runs on time, but the times shown are wrong",
                    payload::rfc3339(now),
                    payload::rfc3339(self.parts.clock_floor)
                )
            });
            if let Some(d) = &detail {
                tracing::error!(detail = %d, "clock not set");
            }
            let ev = Event::technical("clock", detail, now);
            out.extend(pipeline::step(
                &mut self.parts.engine,
                Finding::Event(ev),
                Ulid::new(),
            ));
        }
        out
    }

    /// Counts a state change of `a` from `before` and, on the first delivery and the
    /// acknowledgement, how long it took since the raise.
    fn observe(&self, before: Option<AlertState>, a: &Alert) {
        if before == Some(a.state) {
            return;
        }
        let m = &self.parts.live.metrics;
        m.transition(before.map_or("new", state_name), state_name(a.state));
        let since_raise = |t: pingan_drivers::Timestamp| {
            Duration::from_millis(u64::try_from(t.millis() - a.raised_at.millis()).unwrap_or(0))
        };
        match (before, a.state) {
            (Some(AlertState::Raised), AlertState::Delivered) => {
                m.delivered_after(priority_name(a), since_raise(self.parts.clock.now()));
            }
            (Some(b), AlertState::Acknowledged) if !b.is_acknowledged() => {
                let at = a.acknowledged_at.unwrap_or_else(|| self.parts.clock.now());
                m.acknowledged_after(priority_name(a), since_raise(at));
            }
            _ => {}
        }
    }

    fn on_finding(&mut self, f: Finding) -> Vec<Output> {
        pipeline::step(&mut self.parts.engine, f, Ulid::new())
    }

    fn on_receipt(&mut self, r: &Receipt) -> Vec<Output> {
        let now = self.parts.clock.now();
        // The embedded broker drops what nobody subscribed to: its PUBACK is no evidence that a
        // person can see the alert. Uplinks and the dashboard's event streams are.
        let for_people = !r.link.is_local();
        self.parts
            .engine
            .on_delivered(r.alert, r.link.as_str(), for_people, now)
    }

    fn on_command(&mut self, c: CommandRequest) -> Vec<Output> {
        let result = self.command(c.id, c.action, &c.by, c.note.as_deref(), c.via);
        let (reply, outputs) = match result {
            Ok(outputs) => {
                let alert = outputs.iter().rev().find_map(|o| match o {
                    Output::Changed { alert, .. } if alert.id == c.id => Some((**alert).clone()),
                    _ => None,
                });
                (alert.ok_or(CommandError::UnknownAlert(c.id)), outputs)
            }
            Err(e) => (Err(e), Vec::new()),
        };
        if let Some(tx) = c.reply {
            let _ = tx.send(reply);
        }
        outputs
    }

    fn command(
        &mut self,
        id: Ulid,
        action: Action,
        by: &Actor,
        note: Option<&str>,
        via: Via,
    ) -> Result<Vec<Output>, CommandError> {
        let now = self.parts.clock.now();
        let engine = &mut self.parts.engine;
        let result = match action {
            Action::Ack => engine.acknowledge(id, by, note, via, now),
            Action::Resolve => engine.resolve(id, by, note, via, now),
        };
        if let Err(e) = &result {
            Counters::bump(&self.parts.live.counters.commands_rejected);
            self.parts.live.metrics.command_rejected(Rejection::Refused);
            let resolved = matches!(e, CommandError::UnknownAlert(_))
                && self.parts.store.alert(id).ok().flatten().is_some();
            if resolved {
                tracing::warn!(alert = %id, ?via, "command for an alert that is already resolved; ignored");
            } else {
                tracing::warn!(alert = %id, ?via, error = %e, "command refused");
            }
        }
        result
    }
}

/// The snake_case name of a state (as in the alert payload).
fn state_name(s: AlertState) -> &'static str {
    match s {
        AlertState::Raised => "raised",
        AlertState::Delivered => "delivered",
        AlertState::Escalated => "escalated",
        AlertState::Acknowledged => "acknowledged",
        AlertState::Resolved => "resolved",
    }
}

fn priority_name(a: &Alert) -> &'static str {
    match a.priority {
        crate::alert::Priority::High => "high",
        crate::alert::Priority::Medium => "medium",
        crate::alert::Priority::Low => "low",
    }
}
