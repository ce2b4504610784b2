//! The device-command task: a person's command to a device (silence a sounder, reset a detector:
//! a Modbus profile command) is carried out by the driver that reads the device, and the result
//! `{"v":1,"ok":…,"by":…,"error":…}` is published on
//! `pingan/{site}/devices/{device}/commands/{command}`.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::drivers::DeviceCommands;
use super::live::{Counters, Live};
use crate::clock::SharedClock;
use crate::config::LinkId;
use crate::metrics::Rejection;
use crate::mqtt::command::DeviceCommand;
use crate::mqtt::{Topics, payload};
use crate::store::{Outbox, OutboxEntry};

/// A parsed device command and the link it came from.
#[derive(Debug)]
pub(super) struct DeviceRequest {
    /// The link.
    pub link: LinkId,
    /// The command.
    pub cmd: DeviceCommand,
}

/// The task's input, created before the task so the router can hold its sender.
#[derive(Debug)]
pub(super) struct DeviceTaskBuilder {
    input: (mpsc::Sender<DeviceRequest>, mpsc::Receiver<DeviceRequest>),
}

impl DeviceTaskBuilder {
    /// Where commands go.
    pub(super) fn input(&self) -> mpsc::Sender<DeviceRequest> {
        self.input.0.clone()
    }

    /// The task; it ends once the router is gone.
    pub(super) fn build(
        self,
        commands: DeviceCommands,
        results: Option<Outbox>,
        topics: Topics,
        live: Arc<Live>,
        clock: SharedClock,
    ) -> DeviceTask {
        DeviceTask {
            input: self.input.1,
            commands,
            results,
            topics,
            live,
            clock,
        }
    }
}

/// See the module docs.
#[derive(Debug)]
pub(super) struct DeviceTask {
    input: mpsc::Receiver<DeviceRequest>,
    commands: DeviceCommands,
    /// The local broker's outbox, where results are published.
    results: Option<Outbox>,
    topics: Topics,
    live: Arc<Live>,
    clock: SharedClock,
}

impl DeviceTask {
    /// The task's input.
    pub(super) fn builder() -> DeviceTaskBuilder {
        DeviceTaskBuilder {
            input: mpsc::channel(64),
        }
    }

    /// Runs commands until the router is gone. Each command runs on its own task: a Modbus write
    /// can take its whole timeout, and one slow device must not hold up another's command.
    pub(super) async fn run(mut self) {
        let mut running = tokio::task::JoinSet::new();
        while let Some(req) = self.input.recv().await {
            while running.try_join_next().is_some() {}
            running.spawn(self.execute(req));
        }
        while running.join_next().await.is_some() {}
    }

    fn execute(&self, req: DeviceRequest) -> impl Future<Output = ()> + Send + 'static {
        let cmd = req.cmd;
        let channel = self.commands.get(&cmd.device);
        let results = self.results.clone();
        let topic = self.topics.device_command_result(&cmd.device, &cmd.command);
        let live = self.live.clone();
        let clock = self.clock.clone();
        let link = req.link;
        async move {
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
                    tracing::info!(device = %cmd.device, command = %cmd.command, by = %cmd.by, %link, "device command done");
                }
                Err(e) => {
                    Counters::bump(&live.counters.commands_rejected);
                    live.metrics.command_rejected(Rejection::DeviceFailed);
                    tracing::warn!(device = %cmd.device, command = %cmd.command, by = %cmd.by, %link, error = %e, "device command failed");
                }
            }
            let body = payload::device_command_result(
                &cmd.device,
                &cmd.command,
                &cmd.by,
                &result,
                clock.now(),
            );
            if let Some(ob) = results {
                let entry = OutboxEntry::message(topic, body.to_string(), clock.now());
                if ob.push(&entry).is_ok() {
                    ob.wake();
                }
            }
        }
    }
}
