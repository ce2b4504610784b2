//! Messages from the links, routed: delivery receipts and alert commands to the alert task,
//! device commands to the device task. Parsing happens here, so malformed input is counted and
//! logged before it reaches the engine or a driver.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::alerts::{CommandRequest, Receipt};
use super::devices::DeviceRequest;
use super::live::{Counters, Live};
use crate::alert::Via;
use crate::clock::SharedClock;
use crate::config::LinkId;
use crate::metrics::Rejection;
use crate::mqtt::command;
use crate::mqtt::link::LinkEvent;
use crate::mqtt::{Inbound, Topics};

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
        command_links: HashSet<LinkId>,
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
        }
    }
}

/// See the module docs.
#[derive(Debug)]
pub(super) struct InboundTask {
    events: mpsc::Receiver<LinkEvent>,
    topics: Topics,
    /// Links whose commands are accepted.
    command_links: HashSet<LinkId>,
    routes: Routes,
    live: Arc<Live>,
    clock: SharedClock,
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
                } => self.message(link, &topic, &payload).await,
                LinkEvent::Connection {
                    link, connected, ..
                } => self.live.on_link(&link, connected, self.clock.now()),
            }
        }
    }

    async fn message(&self, link: LinkId, topic: &str, payload: &[u8]) {
        if !self.command_links.contains(&link) {
            return;
        }
        let rejected = |error: &dyn std::fmt::Display| {
            Counters::bump(&self.live.counters.commands_rejected);
            self.live.metrics.command_rejected(Rejection::Malformed);
            tracing::warn!(%link, %topic, %error, "malformed command ignored");
        };
        match self.topics.inbound(topic) {
            Inbound::AlertCommand => {
                match command::parse(&self.topics.commands_prefix(), topic, payload) {
                    Ok(c) => {
                        let req = CommandRequest {
                            id: c.alert,
                            action: c.action,
                            by: c.by,
                            note: c.note,
                            via: Via::Mqtt,
                            reply: None,
                        };
                        let _ = self.routes.commands.send(req).await;
                    }
                    Err(e) => rejected(&e),
                }
            }
            Inbound::DeviceCommand => {
                match command::parse_device(&self.topics.device_commands_prefix(), topic, payload) {
                    Ok(cmd) => {
                        let req = DeviceRequest {
                            cmd,
                            note: None,
                            via: Via::Mqtt,
                            link: Some(link),
                            reply: None,
                        };
                        let _ = self.routes.devices.send(req).await;
                    }
                    Err(e) => rejected(&e),
                }
            }
            Inbound::Other => {}
        }
    }
}
