//! The device-command task: a person's command to a device (silence a sounder, reset a detector:
//! a Modbus profile command), from MQTT or the dashboard, is carried out by the driver that reads
//! the device; the outcome is recorded in the store's `actions` tree with the person (flushed),
//! published as `{"v":1,"ok":…,"by":…,"error":…}` on
//! `pingan/{site}/devices/{device}/commands/{command}`, and handed back to a caller that waits
//! (the dashboard).
//!
//! Commands are rate-limited per device and per sender (`device_limit`) and at most
//! [`MAX_RUNNING`] run at once. Only commands a driver carried out are recorded and go through
//! the durable outbox; refusals (unknown device, rate limit, busy) are answered at QoS 0 on the
//! local broker and not persisted, so a flood of made-up commands cannot fill the disk or queue
//! ahead of alerts.

use std::sync::Arc;

use pingan_drivers::Timestamp;
use tokio::sync::{mpsc, oneshot};

use super::device_limit::{DeviceLimit, Limited};
use super::drivers::DeviceCommands;
use super::live::{Counters, Live};
use crate::alert::{Act, ActionRecord, ActionSubject, Via};
use crate::clock::SharedClock;
use crate::config::LinkId;
use crate::log_limit::{LogLimit, Verdict};
use crate::metrics::Rejection;
use crate::mqtt::command::DeviceCommand;
use crate::mqtt::link::{LinkStats, Telemetry, TelemetryMsg, offer_telemetry};
use crate::mqtt::{Topics, payload};
use crate::store::{Outbox, OutboxEntry, Store};

/// Device commands carried out at once; more are answered "busy".
pub(super) const MAX_RUNNING: usize = 16;

/// Where refusals are answered: the local link's QoS 0 queue (dropped when busy, never stored).
#[derive(Debug, Clone)]
pub(super) struct Answers {
    /// The link's telemetry queue.
    pub tx: mpsc::Sender<TelemetryMsg>,
    /// Its counters (drops are counted there).
    pub stats: Arc<LinkStats>,
}

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
    /// Gets the record once the device answered and it is on disk (a refusal: a record that is
    /// not stored).
    pub reply: Option<oneshot::Sender<ActionRecord>>,
}

/// What the task needs besides its input.
#[derive(Debug)]
pub(super) struct DeviceTaskParts {
    /// The drivers' command channels.
    pub commands: DeviceCommands,
    /// The local broker's outbox, where results are published.
    pub results: Option<Outbox>,
    /// Where refusals are answered without being stored.
    pub answers: Option<Answers>,
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
            limit: DeviceLimit::default(),
            refused_log: LogLimit::new(std::time::Duration::from_secs(10)),
        }
    }
}

/// See the module docs.
#[derive(Debug)]
pub(super) struct DeviceTask {
    input: mpsc::Receiver<DeviceRequest>,
    parts: Arc<DeviceTaskParts>,
    limit: DeviceLimit,
    refused_log: LogLimit,
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
            match self.refusal(&req, running.len()) {
                Some(why) => self.refuse(req, &why),
                None => {
                    running.spawn(execute(self.parts.clone(), req));
                }
            }
        }
        while running.join_next().await.is_some() {}
    }

    /// Why a command is not carried out, if it is not.
    fn refusal(&mut self, req: &DeviceRequest, running: usize) -> Option<String> {
        let link = req.link.as_ref().map_or("-", LinkId::as_str);
        let sender = format!("{link}/{}", req.cmd.by.display());
        let device = &req.cmd.device;
        match self
            .limit
            .check(&sender, device.as_str(), tokio::time::Instant::now())
        {
            Err(Limited::Sender) => Some(
                "too many device commands from this sender; try again in a few seconds".to_owned(),
            ),
            Err(Limited::Device) => Some(format!(
                "too many commands for device {device}; try again in a few seconds"
            )),
            Ok(()) if self.parts.commands.get(device).is_none() => {
                Some(format!("no driver takes commands for device {device}"))
            }
            Ok(()) if running >= MAX_RUNNING => {
                Some("too many device commands running; try again".to_owned())
            }
            Ok(()) => None,
        }
    }

    /// Answers a command that is not carried out, at QoS 0 and without storing it.
    fn refuse(&mut self, req: DeviceRequest, why: &str) {
        let p = &self.parts;
        let cmd = &req.cmd;
        let link = req.link.as_ref().map_or("-", LinkId::as_str);
        Counters::bump(&p.live.counters.commands_rejected);
        p.live.metrics.command_rejected(Rejection::Refused);
        if let Verdict::Log { repeats, total } = self.refused_log.hit(tokio::time::Instant::now()) {
            tracing::warn!(device = %cmd.device, command = %cmd.command, by = %cmd.by.display(), link, error = %why, refused = total, since_last_line = repeats, "device command refused");
        }
        let record = record(&req, p.clock.now(), &Err(why.to_owned()));
        if let Some(a) = &p.answers {
            let telemetry = Telemetry {
                topic: p
                    .topics
                    .device_command_result(&cmd.device, &cmd.command)
                    .into(),
                group: "".into(),
                body: result_body(cmd, &record).to_string().into(),
            };
            offer_telemetry(&a.tx, &a.stats, TelemetryMsg::Item(telemetry));
        }
        if let Some(reply) = req.reply {
            let _ = reply.send(record);
        }
    }
}

async fn execute(p: Arc<DeviceTaskParts>, req: DeviceRequest) {
    let cmd = &req.cmd;
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
    let by = cmd.by.display();
    match &result {
        Ok(()) => {
            tracing::info!(device = %cmd.device, command = %cmd.command, %by, account = ?cmd.by.account, via = ?req.via, link, "device command done");
        }
        Err(e) => {
            Counters::bump(&p.live.counters.commands_rejected);
            p.live.metrics.command_rejected(Rejection::DeviceFailed);
            tracing::warn!(device = %cmd.device, command = %cmd.command, %by, account = ?cmd.by.account, via = ?req.via, link, error = %e, "device command failed");
        }
    }
    let record = record(&req, p.clock.now(), &result);
    if let Err(error) = p.store.record_action(&record).await {
        tracing::error!(%error, device = %cmd.device, "could not record a device command");
    }
    if let Some(ob) = &p.results {
        let entry = OutboxEntry::message(
            p.topics.device_command_result(&cmd.device, &cmd.command),
            result_body(cmd, &record).to_string(),
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

/// The act as the care record keeps it.
fn record(req: &DeviceRequest, at: Timestamp, result: &Result<(), String>) -> ActionRecord {
    ActionRecord {
        at,
        by: req.cmd.by.display(),
        account: req.cmd.by.account.clone(),
        via: req.via,
        subject: ActionSubject::Device(req.cmd.device.clone()),
        act: Act::DeviceCommand {
            command: req.cmd.command.clone(),
        },
        note: req.note.clone(),
        ok: result.is_ok(),
        error: result.as_ref().err().cloned(),
    }
}

/// The result payload of a device command (docs/MQTT.md).
fn result_body(cmd: &DeviceCommand, record: &ActionRecord) -> serde_json::Value {
    let outcome = match &record.error {
        None => Ok(()),
        Some(e) => Err(e.clone()),
    };
    payload::device_command_result(&cmd.device, &cmd.command, &record.by, &outcome, record.at)
}

#[cfg(test)]
mod tests;
