//! The handover task: at the end of every shift (`[[shifts]]`, local time), and whenever a person
//! asks on the dashboard, the shift handover (`report::handover`) is made from the store's alert
//! trails and the devices' live state, recorded in the store (tree `handovers`), and published
//! retained on `pingan/{site}/handover` through the durable outboxes of the local broker and of
//! every uplink that carries all alerts.
//!
//! The timer follows the wall clock, not a fixed sleep: it looks again at least once a minute,
//! so a clock that is set forward or back still ends the shift at the right local time. The end
//! of the last shift handed over is kept in the store's meta (`last_handover_end`): a shift is
//! handed over once even if a backwards clock change crosses its end again, and one that ended
//! while the gateway was stopped is handed over (late) at the next start during the following
//! shift.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::drivers::DeviceCommands;
use super::live::Live;
use crate::clock::SharedClock;
use crate::config::ShiftInstance;
use crate::facility::Facility;
use crate::mqtt::{Topics, payload};
use crate::report::handover::{self, DeviceState, HandoverInput, Trigger};
use crate::report::{Handover, ReportSetup};
use crate::shared::Shared;
use crate::store::{Outbox, OutboxEntry, Store, StoreError};

/// Longest sleep between looks at the wall clock.
const RECHECK: Duration = Duration::from_secs(60);
/// Meta key of the end (Unix ms) of the last shift handed over at its end.
const LAST_END: &str = "last_handover_end";

/// A person asks for the current shift's handover now.
#[derive(Debug)]
pub(super) struct HandoverRequest {
    /// Who.
    pub by: String,
    /// The handover made, or why not.
    pub reply: oneshot::Sender<Result<Handover, StoreError>>,
}

/// What a handover is made from; the dashboard's preview uses the same.
#[derive(Debug, Clone)]
pub(super) struct HandoverSources {
    /// Time zone, shifts, battery threshold.
    pub setup: ReportSetup,
    /// Site id.
    pub site: String,
    /// Alert trails.
    pub store: Store,
    /// The devices.
    pub facility: Shared<Facility>,
    /// Their live state.
    pub live: Arc<Live>,
    /// Their commands (for the device views).
    pub commands: DeviceCommands,
    /// The time.
    pub clock: SharedClock,
}

impl HandoverSources {
    /// The shift the time now falls in.
    pub(super) fn current_shift(&self) -> Option<ShiftInstance> {
        self.setup.shifts.at(self.clock.now(), self.setup.tz())
    }

    /// The handover of `shift` as of now.
    pub(super) fn make(
        &self,
        shift: ShiftInstance,
        trigger: Trigger,
        by: Option<String>,
    ) -> Result<Handover, StoreError> {
        let trails = self.store.trails(shift.start, shift.end, true)?;
        let devices: Vec<DeviceState> = self
            .live
            .device_views(&self.facility.get(), &self.commands)
            .iter()
            .map(DeviceState::from)
            .collect();
        Ok(handover::build(&HandoverInput {
            site: &self.site,
            shift,
            made_at: self.clock.now(),
            trigger,
            by,
            trails: &trails,
            devices: &devices,
            low_battery_percent: self.setup.low_battery_percent,
        }))
    }
}

/// The task's input, created before the task so the dashboard can hold its sender.
#[derive(Debug)]
pub(super) struct HandoverTaskBuilder {
    input: (
        mpsc::Sender<HandoverRequest>,
        mpsc::Receiver<HandoverRequest>,
    ),
}

impl HandoverTaskBuilder {
    /// Where on-demand requests go.
    pub(super) fn input(&self) -> mpsc::Sender<HandoverRequest> {
        self.input.0.clone()
    }

    /// The task; it runs until `shutdown`.
    pub(super) fn build(
        self,
        sources: HandoverSources,
        outboxes: Vec<Outbox>,
        topics: Topics,
        shutdown: CancellationToken,
    ) -> HandoverTask {
        HandoverTask {
            input: self.input.1,
            sources,
            outboxes,
            topics,
            shutdown,
        }
    }
}

/// See the module docs.
#[derive(Debug)]
pub(super) struct HandoverTask {
    input: mpsc::Receiver<HandoverRequest>,
    sources: HandoverSources,
    /// The local broker's and every all-alerts uplink's outbox.
    outboxes: Vec<Outbox>,
    topics: Topics,
    shutdown: CancellationToken,
}

impl HandoverTask {
    /// The task's input.
    pub(super) fn builder() -> HandoverTaskBuilder {
        HandoverTaskBuilder {
            input: mpsc::channel(8),
        }
    }

    /// Hands over at every shift end and on request until `shutdown`.
    pub(super) async fn run(mut self) {
        self.catch_up().await;
        loop {
            let clock = self.sources.clock.clone();
            let current = self.sources.current_shift();
            let wait = current.as_ref().map_or(RECHECK, |c| {
                let left = c.end.millis().saturating_sub(clock.now().millis()).max(0);
                Duration::from_millis(left as u64).min(RECHECK)
            });
            tokio::select! {
                () = self.shutdown.cancelled() => return,
                Some(req) = self.input.recv() => self.on_demand(req).await,
                () = tokio::time::sleep(wait) => {
                    if let Some(c) = current {
                        if clock.now() >= c.end {
                            self.shift_ended(c).await;
                        }
                    }
                }
            }
        }
    }

    fn last_end(&self) -> Option<i64> {
        self.sources.store.meta(LAST_END)?.parse().ok()
    }

    /// At start: hand over the previous shift if it ended while the gateway was stopped.
    async fn catch_up(&mut self) {
        let Some(current) = self.sources.current_shift() else {
            return;
        };
        let Some(previous) = self
            .sources
            .setup
            .shifts
            .before(&current, self.sources.setup.tz())
        else {
            return;
        };
        match self.last_end() {
            // A first start: there is nothing of ours to hand over yet.
            None => self.remember(&previous),
            Some(end) if end < previous.end.millis() => self.shift_ended(previous).await,
            Some(_) => {}
        }
    }

    fn remember(&self, shift: &ShiftInstance) {
        let end = shift.end.millis().to_string();
        if let Err(error) = self.sources.store.set_meta(LAST_END, &end) {
            tracing::warn!(%error, "cannot record the last handover");
        }
    }

    async fn shift_ended(&mut self, shift: ShiftInstance) {
        if self.last_end().is_some_and(|end| end >= shift.end.millis()) {
            // Handed over already: the clock went back across this shift's end.
            return;
        }
        match self.sources.make(shift.clone(), Trigger::ShiftEnd, None) {
            Ok(h) => match self.publish(&h).await {
                Ok(()) => {
                    self.remember(&shift);
                    tracing::info!(shift = %shift.shift, date = %shift.date, open = h.open.len(), events = h.events.len(), "shift handed over");
                }
                Err(error) => tracing::error!(%error, "could not record the handover"),
            },
            Err(error) => tracing::error!(%error, "could not make the handover"),
        }
    }

    async fn on_demand(&mut self, req: HandoverRequest) {
        let result = match self.sources.current_shift() {
            Some(shift) => match self.sources.make(shift, Trigger::OnDemand, Some(req.by)) {
                Ok(h) => self.publish(&h).await.map(|()| h),
                Err(e) => Err(e),
            },
            None => Err(StoreError::Corrupt {
                what: "shifts",
                detail: "no shift covers the time now".into(),
            }),
        };
        let _ = req.reply.send(result);
    }

    /// Records `h` and queues it for every outbox: one flush, then the links are woken.
    async fn publish(&self, h: &Handover) -> Result<(), StoreError> {
        let body = payload::handover(h).to_string();
        for ob in &self.outboxes {
            let mut entry = OutboxEntry::message(self.topics.handover(), body.clone(), h.made_at);
            entry.retain = true;
            ob.push(&entry)?;
        }
        // Flushes the outbox entries too.
        self.sources.store.put_handover(h.made_at, h).await?;
        for ob in &self.outboxes {
            ob.wake();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
