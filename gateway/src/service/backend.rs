//! The dashboard's view of the running gateway: implements [`Backend`] over the alert board, the
//! live state, the store and the queues of the alert task (the same engine path as MQTT), the
//! device task (the same path as MQTT device commands) and the handover task.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use futures::future::BoxFuture;
use tokio::sync::{broadcast, mpsc, oneshot};
use ulid::Ulid;

use super::LinkInfo;
use super::alerts::{CommandRequest, Receipt};
use super::board::AlertBoard;
use super::devices::DeviceRequest;
use super::drivers::DeviceCommands;
use super::handover::{HandoverRequest, HandoverSources};
use super::live::Live;
use crate::alert::{ActionRecord, Actor, Alert, AlertTrail, CommandError, Via};
use crate::mqtt::command::DeviceCommand;
use crate::report::handover::Trigger;
use crate::report::{Handover, ReportSetup};
use pingan_drivers::{DeviceId, Timestamp};

use crate::analytics::news2::observe::Measured;
use crate::analytics::news2::{self, observe};
use crate::clock::SharedClock;
use crate::config::analytics::News2Freshness;
use crate::config::{CareFlag, Config, LinkId};
use crate::facility::Facility;
use crate::mqtt::command::Action;
use crate::shared::Shared;
use crate::store::{Accounts, Store};
use crate::web::backend::{
    AlertDetail, Backend, BackendError, DeviceView, News2View, ResidentView, StatusView, UplinkView,
};

/// How long the dashboard waits for a device's answer (a driver retries within its own timeout;
/// this only bounds a driver that hangs).
const DEVICE_ANSWER: std::time::Duration = std::time::Duration::from_secs(30);

/// The gateway as the dashboard sees it.
#[derive(Debug)]
pub struct GatewayBackend {
    pub(crate) config: Arc<Config>,
    pub(crate) facility: Shared<Facility>,
    pub(crate) live: Arc<Live>,
    pub(crate) board: Arc<AlertBoard>,
    pub(crate) store: Store,
    pub(crate) commands: mpsc::Sender<CommandRequest>,
    pub(crate) changes: broadcast::Sender<Alert>,
    pub(crate) links: Vec<LinkInfo>,
    pub(crate) started: Instant,
    pub(crate) fall_detection: bool,
    pub(crate) accounts: Accounts,
    pub(crate) clock: SharedClock,
    pub(super) receipts: mpsc::Sender<Receipt>,
    pub(crate) status: Arc<super::status::StatusSources>,
    pub(super) device_commands: DeviceCommands,
    pub(super) device_requests: mpsc::Sender<DeviceRequest>,
    pub(super) handover: HandoverSources,
    pub(super) handover_requests: mpsc::Sender<HandoverRequest>,
    pub(crate) setup: ReportSetup,
    pub(crate) tool_token: Option<String>,
    pub(crate) care: Arc<crate::care::CareRecords>,
}

fn unavailable(e: impl std::fmt::Display) -> BackendError {
    BackendError::Unavailable(e.to_string())
}

impl GatewayBackend {
    fn command(
        &self,
        id: Ulid,
        action: Action,
        by: Actor,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<Alert, CommandError>> {
        Box::pin(async move {
            let (reply, rx) = oneshot::channel();
            let req = CommandRequest {
                id,
                action,
                by,
                note,
                via: Via::Http,
                reply: Some(reply),
            };
            if self.commands.send(req).await.is_err() {
                return Err(CommandError::UnknownAlert(id));
            }
            rx.await.unwrap_or(Err(CommandError::UnknownAlert(id)))
        })
    }
}

/// NEWS2 from the latest vitals, for the floor view: built like the running rule's (each value
/// counts while fresh per `analytics.news2.freshness`), and shown only when heart rate and SpO2
/// are both fresh. Consciousness is never measured, so it is always partial.
fn news2_of(
    m: &Measured,
    flags: &[CareFlag],
    freshness: &News2Freshness,
    now: Timestamp,
) -> Option<News2View> {
    let obs = observe::observations(m, now, freshness, flags);
    if obs.pulse.is_none() || obs.spo2.is_none() {
        return None;
    }
    let s = news2::score(&obs);
    Some(News2View {
        score: s.total,
        partial: s.partial(),
        response: s.response.as_str().to_owned(),
    })
}

impl Backend for GatewayBackend {
    fn alerts(&self, recent_s: u64) -> Vec<Alert> {
        self.board.list(recent_s, self.clock.now())
    }

    fn alert(&self, id: Ulid) -> Option<AlertDetail> {
        let alert = self.store.alert(id).ok()??;
        let audit = self.store.audit(id).unwrap_or_default();
        Some(AlertDetail { alert, audit })
    }

    fn acknowledge(
        &self,
        id: Ulid,
        by: Actor,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<Alert, CommandError>> {
        self.command(id, Action::Ack, by, note)
    }

    fn resolve(
        &self,
        id: Ulid,
        by: Actor,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<Alert, CommandError>> {
        self.command(id, Action::Resolve, by, note)
    }

    fn residents(&self) -> Vec<ResidentView> {
        let facility = self.facility.get();
        let mut v: Vec<ResidentView> = facility
            .residents()
            .map(|r| {
                let live = self.live.resident(&r.id).unwrap_or_default();
                ResidentView {
                    id: r.id.clone(),
                    name: r.name.clone(),
                    location: r.location.clone(),
                    care_flags: r.care_flags.clone(),
                    in_bed: live.in_bed,
                    away: None,
                    news2: news2_of(
                        &live.measured,
                        &r.care_flags,
                        &self.config.analytics.news2.freshness,
                        self.clock.now(),
                    ),
                    vitals: live.vitals(),
                }
            })
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    fn devices(&self) -> Vec<DeviceView> {
        self.live
            .device_views(&self.facility.get(), &self.device_commands)
    }

    fn status(&self) -> StatusView {
        let c = &self.live.counters;
        StatusView {
            site: self.config.site.id.clone(),
            site_name: self.config.site.name.clone(),
            locale: self.config.site.locale.as_str().to_owned(),
            uptime_s: self.started.elapsed().as_secs(),
            readings_per_s: self.live.readings_per_s(self.clock.now()),
            readings_total: c.readings_stored.load(Ordering::Relaxed),
            open_alerts: self.board.open_count() as u64,
            uplinks: self
                .links
                .iter()
                .map(|l| UplinkView {
                    id: l.id.to_string(),
                    connected: l.stats.connected.load(Ordering::Relaxed),
                    outbox_depth: l.outbox.len() as u64,
                })
                .collect(),
            storage_bytes: self.store.size_on_disk(),
            storage_max_bytes: self.config.storage.max_bytes,
            fall_detection: self.fall_detection,
            timezone: self.config.timezone().name().to_owned(),
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Alert> {
        self.changes.subscribe()
    }

    fn accounts(&self) -> Accounts {
        self.accounts.clone()
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn seen_on_dashboard(&self, alert: Ulid) {
        let receipt = Receipt {
            link: LinkId::new(LinkId::DASHBOARD),
            alert,
        };
        // A full queue only delays the "delivered" mark; the alert itself is on screen.
        let _ = self.receipts.try_send(receipt);
    }

    fn health(&self) -> Option<crate::health::HealthReport> {
        Some(self.status.health())
    }

    fn report_setup(&self) -> ReportSetup {
        self.setup.clone()
    }

    fn trails(
        &self,
        from: Timestamp,
        to: Timestamp,
        open_too: bool,
    ) -> Result<Vec<AlertTrail>, BackendError> {
        self.store.trails(from, to, open_too).map_err(unavailable)
    }

    fn handover_preview(&self) -> Result<Handover, BackendError> {
        let shift = self
            .handover
            .current_shift()
            .ok_or_else(|| unavailable("no shift covers the time now"))?;
        self.handover
            .make(shift, Trigger::OnDemand, None)
            .map_err(unavailable)
    }

    fn handover_now(&self, by: String) -> BoxFuture<'_, Result<Handover, BackendError>> {
        Box::pin(async move {
            let (reply, rx) = oneshot::channel();
            self.handover_requests
                .send(HandoverRequest { by, reply })
                .await
                .map_err(|_| unavailable("the handover task is not running"))?;
            rx.await
                .map_err(|_| unavailable("the handover task stopped"))?
                .map_err(unavailable)
        })
    }

    fn handovers(&self, limit: usize) -> Result<Vec<Handover>, BackendError> {
        self.store.handovers(limit).map_err(unavailable)
    }

    fn device_command(
        &self,
        device: DeviceId,
        command: String,
        by: Actor,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<ActionRecord, BackendError>> {
        Box::pin(async move {
            let (reply, rx) = oneshot::channel();
            let req = DeviceRequest {
                cmd: DeviceCommand {
                    device,
                    command,
                    by,
                },
                note,
                via: Via::Http,
                link: None,
                reply: Some(reply),
            };
            self.device_requests
                .send(req)
                .await
                .map_err(|_| unavailable("the device task is not running"))?;
            match tokio::time::timeout(DEVICE_ANSWER, rx).await {
                Ok(Ok(record)) => Ok(record),
                Ok(Err(_)) => Err(unavailable("the device task stopped")),
                Err(_) => Err(unavailable(
                    "the driver did not answer within 30 s; the outcome will be in the device's records",
                )),
            }
        })
    }

    fn actions(
        &self,
        device: Option<DeviceId>,
        limit: usize,
    ) -> Result<Vec<ActionRecord>, BackendError> {
        self.store
            .actions(device.as_ref(), limit)
            .map_err(unavailable)
    }

    fn record_action(&self, record: ActionRecord) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move { self.store.record_action(&record).await.map_err(unavailable) })
    }

    fn care(&self) -> Option<&crate::care::CareRecords> {
        Some(&self.care)
    }

    fn tool_token(&self) -> Option<String> {
        self.tool_token.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::news2::observe::Sample;

    fn measured(at: Timestamp) -> Measured {
        let s = |value| Some(Sample { value, at });
        Measured {
            pulse: s(120.0),
            spo2: s(91.0),
            respiration_rate: s(25.0),
            temperature: s(38.5),
            systolic_bp: None,
        }
    }

    #[test]
    fn floor_view_news2_comes_from_fresh_vitals_and_is_partial() {
        let now = Timestamp(1_800_000_000_000);
        let f = News2Freshness::default();
        let n = news2_of(&measured(now), &[], &f, now).unwrap();
        // RR 25 → 3, SpO2 91 on scale 1 → 3, air → 0, pulse 120 → 2, temp 38.5 → 1.
        assert_eq!(
            (n.score, n.partial, n.response.as_str()),
            (9, true, "emergency")
        );
        // Scale 2 scores 88–92 % on air as 0.
        let n = news2_of(&measured(now), &[CareFlag::Hypercapnic], &f, now).unwrap();
        assert_eq!(n.score, 6);
        let stale = now.minus(std::time::Duration::from_secs(3600));
        assert_eq!(news2_of(&measured(stale), &[], &f, now), None);
    }
}
