//! The alert task: owns the engine, feeds it findings, commands, broker receipts and clock ticks,
//! and hands its outputs to [`Delivery`]. One task, so the engine needs no lock.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use pingan_drivers::Timestamp;
use tokio::sync::{mpsc, oneshot};
use ulid::Ulid;

use super::delivery::Delivery;
use super::live::{Counters, Live};
use crate::alert::{Alert, CommandError, Engine, Output, Via};
use crate::analytics::Finding;
use crate::mqtt::command::{self, Action};
use crate::mqtt::link::LinkEvent;
use crate::store::Store;

/// Most queued inputs folded into one flush.
const GROUP_COMMIT: usize = 256;

/// A person's command from the dashboard or the CLI, with a reply.
#[derive(Debug)]
pub struct CommandRequest {
    /// The alert.
    pub id: Ulid,
    /// Acknowledge or resolve.
    pub action: Action,
    /// Who.
    pub by: String,
    /// Their note.
    pub note: Option<String>,
    /// Through what.
    pub via: Via,
    /// The alert after the change, or why it was refused.
    pub reply: oneshot::Sender<Result<Alert, CommandError>>,
}

/// The alert task's state.
#[derive(Debug)]
pub(super) struct AlertTask {
    /// The engine (restored from the store on start).
    pub engine: Engine,
    /// Effects.
    pub delivery: Delivery,
    /// For telling "unknown" from "already resolved".
    pub store: Store,
    /// Counters.
    pub live: Arc<Live>,
    /// `pingan/{site}/cmd/alerts/`.
    pub command_prefix: String,
    /// Links whose commands are accepted.
    pub command_links: HashSet<String>,
    /// Profile commands of the running Modbus drivers.
    pub device_commands: super::drivers::DeviceCommands,
    /// `pingan/{site}/cmd/devices/`.
    pub device_prefix: String,
    /// Where device command results go.
    pub local_outbox: Option<crate::store::Outbox>,
    /// Topic names.
    pub topics: crate::mqtt::Topics,
}

impl AlertTask {
    /// Runs until the pipeline closes `findings` (shutdown), then drains and returns.
    pub(super) async fn run(
        mut self,
        mut findings: mpsc::Receiver<Finding>,
        mut commands: mpsc::Receiver<CommandRequest>,
        mut link_events: mpsc::Receiver<LinkEvent>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let mut outputs = tokio::select! {
                f = findings.recv() => match f {
                    Some(f) => self.on_finding(f),
                    None => break,
                },
                Some(c) = commands.recv() => self.on_command(c),
                Some(ev) = link_events.recv() => self.on_link_event(ev),
                _ = tick.tick() => self.engine.on_tick(Timestamp::now()),
            };
            // Group commit: whatever else is already waiting shares one flush to disk, so a
            // burst costs one fsync instead of one per alert.
            for _ in 0..GROUP_COMMIT {
                let more = if let Ok(f) = findings.try_recv() {
                    self.on_finding(f)
                } else if let Ok(ev) = link_events.try_recv() {
                    self.on_link_event(ev)
                } else {
                    break;
                };
                outputs.extend(more);
            }
            self.apply(outputs).await;
        }
        // Late commands and receipts still count.
        while let Ok(c) = commands.try_recv() {
            let out = self.on_command(c);
            self.apply(out).await;
        }
    }

    async fn apply(&self, outputs: Vec<Output>) {
        for o in &outputs {
            if let Output::Changed {
                alert,
                audit: Some(a),
                ..
            } = o
            {
                if a.action == "raised" {
                    Counters::bump(&self.live.counters.alerts_raised);
                    tracing::info!(alert = %alert.id, kind = %alert.kind, subject = %alert.subject.key(), "alert raised");
                }
            }
        }
        if let Err(e) = self.delivery.apply(outputs).await {
            // The store is failing (disk full, I/O). Keep the engine running: the alert stays in
            // memory, escalation timers keep firing, and the next change retries the write.
            tracing::error!(error = %e, "could not persist an alert change");
        }
    }

    fn on_finding(&mut self, f: Finding) -> Vec<Output> {
        match f {
            Finding::Event(ev) => self.engine.on_event(ev, Ulid::new()),
            Finding::Cancel { subject, at } => self.engine.cancel(&subject, at),
        }
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
        let _ = c.reply.send(reply);
        outputs
    }

    fn command(
        &mut self,
        id: Ulid,
        action: Action,
        by: &str,
        note: Option<&str>,
        via: Via,
    ) -> Result<Vec<Output>, CommandError> {
        let now = Timestamp::now();
        let result = match action {
            Action::Ack => self.engine.acknowledge(id, by, note, via, now),
            Action::Resolve => self.engine.resolve(id, by, note, via, now),
        };
        if let Err(e) = &result {
            Counters::bump(&self.live.counters.commands_rejected);
            let resolved = matches!(e, CommandError::UnknownAlert(_))
                && self.store.alert(id).ok().flatten().is_some();
            if resolved {
                tracing::warn!(alert = %id, ?via, "command for an alert that is already resolved; ignored");
            } else {
                tracing::warn!(alert = %id, ?via, error = %e, "command refused");
            }
        }
        result
    }

    /// A person's command to a device: runs on its own task (a Modbus write can take a timeout)
    /// and publishes `{"v":1,"ok":…,"by":…,"error":…}` on `pingan/{site}/devices/{device}/commands/{command}`.
    fn device_command(&self, link: &str, topic: &str, payload: &[u8]) {
        let cmd = match command::parse_device(&self.device_prefix, topic, payload) {
            Ok(c) => c,
            Err(e) => {
                Counters::bump(&self.live.counters.commands_rejected);
                tracing::warn!(%link, %topic, error = %e, "malformed device command ignored");
                return;
            }
        };
        let channel = self.device_commands.get(&cmd.device);
        let store = self.store.clone();
        let outbox = self.local_outbox.clone();
        let result_topic = self.topics.device_command_result(&cmd.device, &cmd.command);
        let live = self.live.clone();
        tokio::spawn(async move {
            let result = match channel {
                Some(c) => c
                    .send(cmd.device.clone(), &cmd.command)
                    .await
                    .map_err(|e| e.to_string()),
                None => Err(format!(
                    "no driver takes commands for device {}",
                    cmd.device
                )),
            };
            match &result {
                Ok(()) => {
                    tracing::info!(device = %cmd.device, command = %cmd.command, by = %cmd.by, "device command done")
                }
                Err(e) => {
                    Counters::bump(&live.counters.commands_rejected);
                    tracing::warn!(device = %cmd.device, command = %cmd.command, by = %cmd.by, error = %e, "device command failed");
                }
            }
            let body = serde_json::json!({
                "v": crate::mqtt::payload::VERSION,
                "device": cmd.device,
                "command": cmd.command,
                "by": cmd.by,
                "ok": result.is_ok(),
                "error": result.err(),
                "at": crate::mqtt::payload::rfc3339(Timestamp::now()),
            });
            if let Some(ob) = outbox {
                let entry = crate::store::OutboxEntry {
                    topic: result_topic,
                    payload: body.to_string(),
                    retain: false,
                    alert: None,
                };
                if ob.push(store.db(), &entry).is_ok() {
                    ob.wake();
                }
            }
        });
    }

    fn on_link_event(&mut self, ev: LinkEvent) -> Vec<Output> {
        match ev {
            LinkEvent::Delivered { alert, .. } => self.engine.on_delivered(alert, Timestamp::now()),
            LinkEvent::Message {
                link,
                topic,
                payload,
            } => {
                if !self.command_links.contains(link.as_ref()) {
                    return Vec::new();
                }
                if topic.starts_with(&self.device_prefix) {
                    self.device_command(&link, &topic, &payload);
                    return Vec::new();
                }
                match command::parse(&self.command_prefix, &topic, &payload) {
                    Ok(c) => self
                        .command(c.alert, c.action, &c.by, c.note.as_deref(), Via::Mqtt)
                        .unwrap_or_default(),
                    Err(e) => {
                        Counters::bump(&self.live.counters.commands_rejected);
                        tracing::warn!(link = %link, %topic, error = %e, "malformed command ignored");
                        Vec::new()
                    }
                }
            }
            LinkEvent::Connection { .. } => Vec::new(),
        }
    }
}
