//! The device-command task: a person's command to a device (silence a sounder, reset a detector:
//! a Modbus profile command), from MQTT or the dashboard, is carried out by the driver that reads
//! the device; the outcome is recorded in the store's `actions` tree with the person (flushed),
//! published as `{"v":1,"ok":…,"by":…,"error":…}` on
//! `pingan/{site}/devices/{device}/commands/{command}`, and handed back to a caller that waits
//! (the dashboard).

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::drivers::DeviceCommands;
use super::live::{Counters, Live};
use crate::alert::{Act, ActionRecord, ActionSubject, Via};
use crate::clock::SharedClock;
use crate::config::LinkId;
use crate::metrics::Rejection;
use crate::mqtt::command::DeviceCommand;
use crate::mqtt::{Topics, payload};
use crate::store::{Outbox, OutboxEntry, Store};

/// A parsed device command, where it came from, and who waits for its record.
#[derive(Debug)]
pub(super) struct DeviceRequest {
    /// The command.
    pub cmd: DeviceCommand,
    /// The person's note.
    pub note: Option<String>,
    /// Through what.
    pub via: Via,
    /// The MQTT link it came from.
    pub link: Option<LinkId>,
    /// Gets the record once the device answered and it is on disk.
    pub reply: Option<oneshot::Sender<ActionRecord>>,
}

/// What the task needs besides its input.
#[derive(Debug)]
pub(super) struct DeviceTaskParts {
    /// The drivers' command channels.
    pub commands: DeviceCommands,
    /// The local broker's outbox, where results are published.
    pub results: Option<Outbox>,
    /// Where acts are recorded.
    pub store: Store,
    /// Topic names.
    pub topics: Topics,
    /// Counters.
    pub live: Arc<Live>,
    /// The time.
    pub clock: SharedClock,
}

/// The task's input, created before the task so the router and the dashboard can hold its
/// sender.
#[derive(Debug)]
pub(super) struct DeviceTaskBuilder {
    input: (mpsc::Sender<DeviceRequest>, mpsc::Receiver<DeviceRequest>),
}

impl DeviceTaskBuilder {
    /// Where commands go.
    pub(super) fn input(&self) -> mpsc::Sender<DeviceRequest> {
        self.input.0.clone()
    }

    /// The task; it ends once the router and the dashboard are gone.
    pub(super) fn build(self, parts: DeviceTaskParts) -> DeviceTask {
        DeviceTask {
            input: self.input.1,
            parts: Arc::new(parts),
        }
    }
}

/// See the module docs.
#[derive(Debug)]
pub(super) struct DeviceTask {
    input: mpsc::Receiver<DeviceRequest>,
    parts: Arc<DeviceTaskParts>,
}

impl DeviceTask {
    /// The task's input.
    pub(super) fn builder() -> DeviceTaskBuilder {
        DeviceTaskBuilder {
            input: mpsc::channel(64),
        }
    }

    /// Runs commands until every sender is gone. Each command runs on its own task: a Modbus
    /// write can take its whole timeout, and one slow device must not hold up another's command.
    pub(super) async fn run(mut self) {
        let mut running = tokio::task::JoinSet::new();
        while let Some(req) = self.input.recv().await {
            while running.try_join_next().is_some() {}
            running.spawn(execute(self.parts.clone(), req));
        }
        while running.join_next().await.is_some() {}
    }
}

async fn execute(p: Arc<DeviceTaskParts>, req: DeviceRequest) {
    let cmd = req.cmd;
    let result = match p.commands.get(&cmd.device) {
        Some(c) => c
            .send(cmd.device.clone(), &cmd.command)
            .await
            .map_err(|e| e.to_string()),
        None => Err(format!(
            "no driver takes commands for device {}",
            cmd.device
        )),
    };
    let link = req.link.as_ref().map_or("-", LinkId::as_str);
    match &result {
        Ok(()) => {
            tracing::info!(device = %cmd.device, command = %cmd.command, by = %cmd.by, via = ?req.via, link, "device command done");
        }
        Err(e) => {
            Counters::bump(&p.live.counters.commands_rejected);
            p.live.metrics.command_rejected(Rejection::DeviceFailed);
            tracing::warn!(device = %cmd.device, command = %cmd.command, by = %cmd.by, via = ?req.via, link, error = %e, "device command failed");
        }
    }
    let record = ActionRecord {
        at: p.clock.now(),
        by: cmd.by.clone(),
        via: req.via,
        subject: ActionSubject::Device(cmd.device.clone()),
        act: Act::DeviceCommand {
            command: cmd.command.clone(),
        },
        note: req.note,
        ok: result.is_ok(),
        error: result.err(),
    };
    if let Err(error) = p.store.record_action(&record).await {
        tracing::error!(%error, device = %cmd.device, "could not record a device command");
    }
    if let Some(ob) = &p.results {
        let outcome = match &record.error {
            None => Ok(()),
            Some(e) => Err(e.clone()),
        };
        let body = payload::device_command_result(
            &cmd.device,
            &cmd.command,
            &record.by,
            &outcome,
            record.at,
        );
        let entry = OutboxEntry::message(
            p.topics.device_command_result(&cmd.device, &cmd.command),
            body.to_string(),
            record.at,
        );
        if ob.push(&entry).is_ok() {
            ob.wake();
        }
    }
    if let Some(reply) = req.reply {
        let _ = reply.send(record);
    }
}
