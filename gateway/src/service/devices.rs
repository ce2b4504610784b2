//! The device-command task: a person's command to a device (silence a sounder, reset a detector:
//! a Modbus profile command) is carried out by the driver that reads the device, and the result
//! `{"v":1,"ok":…,"by":…,"error":…}` is published on
//! `pingan/{site}/devices/{device}/commands/{command}`.
//!
//! Commands are rate-limited per device and per sender (`device_limit`) and at most
//! [`MAX_RUNNING`] run at once. Only results of commands a driver carried out go through the
//! durable outbox; refusals (unknown device, rate limit, busy) are answered at QoS 0 on the
//! local broker and not persisted, so a flood of made-up commands cannot fill the disk or queue
//! ahead of alerts.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::device_limit::{DeviceLimit, Limited};
use super::drivers::DeviceCommands;
use super::live::{Counters, Live};
use crate::clock::SharedClock;
use crate::config::LinkId;
use crate::log_limit::{LogLimit, Verdict};
use crate::mqtt::command::DeviceCommand;
use crate::mqtt::link::{LinkStats, Telemetry, offer_telemetry};
use crate::mqtt::{Topics, payload};
use crate::store::{Outbox, OutboxEntry};

/// Device commands carried out at once; more are answered "busy".
pub(super) const MAX_RUNNING: usize = 16;

/// Where refusals are answered: the local link's QoS 0 queue (dropped when busy, never stored).
#[derive(Debug, Clone)]
pub(super) struct Answers {
    /// The link's telemetry queue.
    pub tx: mpsc::Sender<Telemetry>,
    /// Its counters (drops are counted there).
    pub stats: Arc<LinkStats>,
}

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
        answers: Option<Answers>,
        topics: Topics,
        live: Arc<Live>,
        clock: SharedClock,
    ) -> DeviceTask {
        DeviceTask {
            input: self.input.1,
            commands,
            results,
            answers,
            topics,
            live,
            clock,
            limit: DeviceLimit::default(),
            refused_log: LogLimit::new(std::time::Duration::from_secs(10)),
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
    /// Where refusals are answered without being stored.
    answers: Option<Answers>,
    topics: Topics,
    live: Arc<Live>,
    clock: SharedClock,
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

    /// Runs commands until the router is gone. Each command runs on its own task: a Modbus write
    /// can take its whole timeout, and one slow device must not hold up another's command.
    pub(super) async fn run(mut self) {
        let mut running = tokio::task::JoinSet::new();
        while let Some(req) = self.input.recv().await {
            while running.try_join_next().is_some() {}
            let sender = format!("{}/{}", req.link, req.cmd.by.display());
            let refusal = match self.limit.check(
                &sender,
                req.cmd.device.as_str(),
                tokio::time::Instant::now(),
            ) {
                Err(Limited::Sender) => Some(
                    "too many device commands from this sender; try again in a few seconds"
                        .to_owned(),
                ),
                Err(Limited::Device) => Some(format!(
                    "too many commands for device {}; try again in a few seconds",
                    req.cmd.device
                )),
                Ok(()) if self.commands.get(&req.cmd.device).is_none() => Some(format!(
                    "no driver takes commands for device {}",
                    req.cmd.device
                )),
                Ok(()) if running.len() >= MAX_RUNNING => {
                    Some("too many device commands running; try again".to_owned())
                }
                Ok(()) => None,
            };
            match refusal {
                Some(why) => self.refuse(&req, &why),
                None => {
                    running.spawn(self.execute(req));
                }
            }
        }
        while running.join_next().await.is_some() {}
    }

    /// Answers a command that is not carried out, at QoS 0 and without storing it.
    fn refuse(&mut self, req: &DeviceRequest, why: &str) {
        let cmd = &req.cmd;
        Counters::bump(&self.live.counters.commands_rejected);
        if let Verdict::Log { repeats, total } = self.refused_log.hit(tokio::time::Instant::now()) {
            tracing::warn!(device = %cmd.device, command = %cmd.command, by = %cmd.by.display(), link = %req.link, error = %why, refused = total, since_last_line = repeats, "device command refused");
        }
        if let Some(a) = &self.answers {
            let body = result_body(cmd, &Err(why.to_owned()), self.clock.now());
            let topic = self.topics.device_command_result(&cmd.device, &cmd.command);
            offer_telemetry(&a.tx, &a.stats, (topic, body.into_bytes()));
        }
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
            let by = cmd.by.display();
            match &result {
                Ok(()) => {
                    tracing::info!(device = %cmd.device, command = %cmd.command, %by, account = ?cmd.by.account, %link, "device command done");
                }
                Err(e) => {
                    Counters::bump(&live.counters.commands_rejected);
                    tracing::warn!(device = %cmd.device, command = %cmd.command, %by, account = ?cmd.by.account, %link, error = %e, "device command failed");
                }
            }
            let body = result_body(&cmd, &result, clock.now());
            if let Some(ob) = results {
                let entry = OutboxEntry {
                    topic,
                    payload: body,
                    retain: false,
                    alert: None,
                };
                if ob.push(&entry).is_ok() {
                    ob.wake();
                }
            }
        }
    }
}

/// The result payload of a device command (docs/MQTT.md).
fn result_body(
    cmd: &DeviceCommand,
    result: &Result<(), String>,
    at: pingan_drivers::Timestamp,
) -> String {
    serde_json::json!({
        "v": payload::VERSION,
        "device": cmd.device,
        "command": cmd.command,
        "by": cmd.by.display(),
        "ok": result.is_ok(),
        "error": result.as_ref().err(),
        "at": payload::rfc3339(at),
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Actor;

    fn req(by: &str, device: &str) -> DeviceRequest {
        DeviceRequest {
            link: LinkId::local(),
            cmd: DeviceCommand {
                device: pingan_drivers::DeviceId::new(device),
                command: "silence".into(),
                by: Actor::named(by),
            },
        }
    }

    #[tokio::test]
    async fn commands_for_unknown_devices_are_answered_but_never_stored() {
        let store = crate::store::Store::temporary().unwrap();
        let outbox = store.outbox(&LinkId::local()).unwrap();
        let (tx, mut answers) = mpsc::channel(64);
        let b = DeviceTask::builder();
        let input = b.input();
        let task = b.build(
            DeviceCommands::default(),
            Some(outbox.clone()),
            Some(Answers {
                tx,
                stats: Arc::new(LinkStats::default()),
            }),
            Topics::new("t"),
            Arc::new(Live::default()),
            crate::clock::SystemClock::shared(),
        );
        let run = tokio::spawn(task.run());
        for i in 0..(super::super::device_limit::SENDER_BURST + 1) {
            input
                .send(req("mallory", &format!("ghost-{i}")))
                .await
                .unwrap();
        }
        drop(input);
        run.await.unwrap();
        let mut got = Vec::new();
        while let Ok((topic, body)) = answers.try_recv() {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["ok"], false);
            got.push((topic, v["error"].as_str().unwrap_or_default().to_owned()));
        }
        assert_eq!(
            got.len() as u32,
            super::super::device_limit::SENDER_BURST + 1
        );
        assert_eq!(got[0].0, "pingan/t/devices/ghost-0/commands/silence");
        assert!(got[0].1.contains("no driver takes commands"), "{got:?}");
        assert!(got.last().unwrap().1.contains("too many"), "{got:?}");
        assert!(outbox.is_empty(), "refusals are not persisted");
    }
}
