//! The dashboard's view of the running gateway: implements [`Backend`] over the alert board, the
//! live state, the store and the alert task's command queue (the same engine path as MQTT).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use futures::future::BoxFuture;
use tokio::sync::{broadcast, mpsc, oneshot};
use ulid::Ulid;

use super::LinkInfo;
use super::alerts::CommandRequest;
use super::board::AlertBoard;
use super::live::Live;
use crate::alert::{Alert, CommandError, Locale, Via};
use crate::config::Config;
use crate::facility::Facility;
use crate::mqtt::command::Action;
use crate::store::Store;
use crate::web::backend::{AlertDetail, Backend, DeviceView, ResidentView, StatusView, UplinkView};

/// The gateway as the dashboard sees it.
#[derive(Debug)]
pub struct GatewayBackend {
    pub(crate) config: Arc<Config>,
    pub(crate) facility: Arc<Facility>,
    pub(crate) live: Arc<Live>,
    pub(crate) board: Arc<AlertBoard>,
    pub(crate) store: Store,
    pub(crate) commands: mpsc::Sender<CommandRequest>,
    pub(crate) changes: broadcast::Sender<Alert>,
    pub(crate) links: Vec<LinkInfo>,
    pub(crate) started: Instant,
    pub(crate) fall_detection: bool,
}

impl GatewayBackend {
    fn command(
        &self,
        id: Ulid,
        action: Action,
        by: String,
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
                reply,
            };
            if self.commands.send(req).await.is_err() {
                return Err(CommandError::UnknownAlert(id));
            }
            rx.await.unwrap_or(Err(CommandError::UnknownAlert(id)))
        })
    }
}

impl Backend for GatewayBackend {
    fn alerts(&self, recent_s: u64) -> Vec<Alert> {
        self.board.list(recent_s)
    }

    fn alert(&self, id: Ulid) -> Option<AlertDetail> {
        let alert = self.store.alert(id).ok()??;
        let audit = self.store.audit(id).unwrap_or_default();
        Some(AlertDetail { alert, audit })
    }

    fn acknowledge(
        &self,
        id: Ulid,
        by: String,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<Alert, CommandError>> {
        self.command(id, Action::Ack, by, note)
    }

    fn resolve(
        &self,
        id: Ulid,
        by: String,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<Alert, CommandError>> {
        self.command(id, Action::Resolve, by, note)
    }

    fn residents(&self) -> Vec<ResidentView> {
        let mut v: Vec<ResidentView> = self
            .facility
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
                    vitals: live.vitals,
                    news2: live.news2,
                }
            })
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    fn devices(&self) -> Vec<DeviceView> {
        let mut v: Vec<DeviceView> = self
            .facility
            .devices()
            .map(|d| {
                let live = self.live.device(&d.device).unwrap_or_default();
                DeviceView {
                    id: d.device.to_string(),
                    model: d.model,
                    resident: d.resident.clone(),
                    location: d.location.clone(),
                    health: live.health,
                    battery: live.battery,
                    last_seen: live.last_seen,
                }
            })
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    fn status(&self) -> StatusView {
        let c = &self.live.counters;
        StatusView {
            site: self.config.site.id.clone(),
            site_name: self.config.site.name.clone(),
            locale: match self.config.site.locale {
                Locale::ZhCn => "zh-CN".into(),
                Locale::En => "en".into(),
            },
            uptime_s: self.started.elapsed().as_secs(),
            readings_per_s: self.live.readings_per_s(),
            readings_total: c.readings_stored.load(Ordering::Relaxed),
            open_alerts: self.board.open_count() as u64,
            uplinks: self
                .links
                .iter()
                .map(|l| UplinkView {
                    id: l.id.clone(),
                    connected: l.stats.connected.load(Ordering::Relaxed),
                    outbox_depth: l.outbox.len() as u64,
                })
                .collect(),
            storage_bytes: self.store.size_on_disk(),
            storage_max_bytes: self.config.storage.max_bytes,
            fall_detection: self.fall_detection,
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Alert> {
        self.changes.subscribe()
    }

    fn db(&self) -> &sled::Db {
        self.store.db()
    }
}
