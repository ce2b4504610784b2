//! Messages from the links, routed: delivery receipts and alert commands to the alert task,
//! device commands to the device task. Parsing happens here, so malformed input is counted and
//! logged before it reaches the engine or a driver. Each link takes the acting person of its
//! commands from where its config says (`mqtt::command`). The router never waits on a command
//! queue: links wait on the router to report deliveries, so a command flood that filled a queue
//! would hold up alert delivery; such commands are dropped, counted and logged instead.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::alerts::{CommandRequest, Receipt};
use super::devices::DeviceRequest;
use super::live::{Counters, Live};
use crate::alert::Via;
use crate::clock::SharedClock;
use crate::config::{CommandIdentity, LinkId};
use crate::log_limit::{LogLimit, Verdict};
use crate::metrics::Rejection;
use crate::mqtt::Topics;
use crate::mqtt::command::{self, Parsed};
use crate::mqtt::link::LinkEvent;

/// Where routed messages go.
#[derive(Debug)]
pub(super) struct Routes {
    /// The alert task's commands.
    pub commands: mpsc::Sender<CommandRequest>,
    /// The alert task's receipts.
    pub receipts: mpsc::Sender<Receipt>,
    /// The device task.
    pub devices: mpsc::Sender<DeviceRequest>,
}

/// The router's inputs, created before the links so they can hold the sender.
#[derive(Debug)]
pub(super) struct InboundBuilder {
    events: (mpsc::Sender<LinkEvent>, mpsc::Receiver<LinkEvent>),
}

impl InboundBuilder {
    /// Where links report.
    pub(super) fn events(&self) -> mpsc::Sender<LinkEvent> {
        self.events.0.clone()
    }

    /// The router; ends when every link is gone.
    pub(super) fn build(
        self,
        topics: Topics,
        command_links: HashMap<LinkId, CommandIdentity>,
        routes: Routes,
        live: Arc<Live>,
        clock: SharedClock,
    ) -> InboundTask {
        InboundTask {
            events: self.events.1,
            topics,
            command_links,
            routes,
            live,
            clock,
            rejected_log: LogLimit::new(std::time::Duration::from_secs(10)),
            busy_log: LogLimit::new(std::time::Duration::from_secs(10)),
        }
    }
}

/// See the module docs.
#[derive(Debug)]
pub(super) struct InboundTask {
    events: mpsc::Receiver<LinkEvent>,
    topics: Topics,
    /// Links whose commands are accepted, and where each takes the acting person from.
    command_links: HashMap<LinkId, CommandIdentity>,
    routes: Routes,
    live: Arc<Live>,
    clock: SharedClock,
    /// Malformed commands are logged at a low rate (a flood must not fill the disk).
    rejected_log: LogLimit,
    /// Commands dropped because their task's queue is full.
    busy_log: LogLimit,
}

impl InboundTask {
    /// The router's inputs.
    pub(super) fn builder() -> InboundBuilder {
        InboundBuilder {
            events: mpsc::channel(1024),
        }
    }

    /// Routes until every link has stopped.
    pub(super) async fn run(mut self) {
        while let Some(ev) = self.events.recv().await {
            match ev {
                LinkEvent::Delivered { link, alert } => {
                    let _ = self.routes.receipts.send(Receipt { link, alert }).await;
                }
                LinkEvent::Message {
                    link,
                    topic,
                    payload,
                } => self.message(link, &topic, &payload),
                LinkEvent::Connection {
                    link, connected, ..
                } => self.live.on_link(&link, connected, self.clock.now()),
            }
        }
    }

    fn message(&mut self, link: LinkId, topic: &str, payload: &[u8]) {
        let Some(&identity) = self.command_links.get(&link) else {
            return;
        };
        match command::parse(&self.topics, identity, topic, payload) {
            Ok(None) => {}
            Ok(Some(Parsed::Alert(c))) => {
                let req = CommandRequest {
                    id: c.alert,
                    action: c.action,
                    by: c.by,
                    note: c.note,
                    via: Via::Mqtt,
                    reply: None,
                };
                // A full queue means a flood: drop rather than stall the links behind the router.
                if self.routes.commands.try_send(req).is_err() {
                    self.count(Rejection::Busy);
                    if let Verdict::Log { repeats, total } =
                        self.busy_log.hit(tokio::time::Instant::now())
                    {
                        tracing::warn!(%link, %topic, dropped = total, since_last_line = repeats, "alert command dropped: the alert task's command queue is full");
                    }
                }
            }
            Ok(Some(Parsed::Device(cmd))) => {
                if self
                    .routes
                    .devices
                    .try_send(DeviceRequest {
                        cmd,
                        note: None,
                        via: Via::Mqtt,
                        link: Some(link.clone()),
                        reply: None,
                    })
                    .is_err()
                {
                    self.count(Rejection::Busy);
                    if let Verdict::Log { repeats, total } =
                        self.busy_log.hit(tokio::time::Instant::now())
                    {
                        tracing::warn!(%link, %topic, dropped = total, since_last_line = repeats, "device command dropped: the device task is busy");
                    }
                }
            }
            Err(error) => {
                self.count(Rejection::Malformed);
                if let Verdict::Log { repeats, total } =
                    self.rejected_log.hit(tokio::time::Instant::now())
                {
                    tracing::warn!(%link, %topic, %error, rejected = total, since_last_line = repeats, "malformed command ignored");
                }
            }
        }
    }

    fn count(&self, why: Rejection) {
        Counters::bump(&self.live.counters.commands_rejected);
        self.live.metrics.command_rejected(why);
    }
}
