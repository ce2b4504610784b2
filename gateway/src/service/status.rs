//! The running gateway observed as a whole: one place that reads what the tasks already keep
//! (links' counters and outboxes, device health, the store, the board) and turns it into the
//! health report (`GET /healthz`, `pingan status`) and the scrape-time metric levels
//! (`/metrics`). Both come from the same [`StatusSources::health`], so they never disagree.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use pingan_drivers::driver::SinkStats;
use pingan_drivers::{HealthState, Timestamp};
use prometheus_client::registry::Unit;

use super::LinkInfo;
use super::board::AlertBoard;
use super::live::Live;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::health::{
    DriverHealth, HealthReport, LinkHealth, ModelsHealth, Overall, StoreHealth, VERSION,
};
use crate::metrics::Levels;
use crate::store::Store;

/// What the report is made of; shared by the dashboard's `/healthz` and the metrics exporter.
#[derive(Debug)]
pub struct StatusSources {
    pub(super) config: Arc<Config>,
    pub(super) live: Arc<Live>,
    pub(super) board: Arc<AlertBoard>,
    pub(super) store: Store,
    pub(super) links: Vec<LinkInfo>,
    pub(super) fall_detection: bool,
    /// The site has wearables (decided once at start, like whether the model was loaded).
    pub(super) fall_needed: bool,
    pub(super) started: Instant,
    pub(super) started_at: Timestamp,
    pub(super) clock: SharedClock,
    pub(super) heartbeat: Arc<AtomicI64>,
    pub(super) sink_stats: Arc<SinkStats>,
}

fn secs_between(from: Timestamp, to: Timestamp) -> u64 {
    u64::try_from(to.millis() - from.millis()).unwrap_or(0) / 1000
}

/// Free and total bytes of the file system holding `dir` (statvfs).
fn disk(dir: &Path) -> (Option<u64>, Option<u64>) {
    match rustix::fs::statvfs(dir) {
        Ok(s) => (
            Some(s.f_bavail.saturating_mul(s.f_frsize)),
            Some(s.f_blocks.saturating_mul(s.f_frsize)),
        ),
        Err(e) => {
            tracing::debug!(error = %e, "statvfs of the data directory");
            (None, None)
        }
    }
}

impl StatusSources {
    /// The health report now, assessed.
    pub fn health(&self) -> HealthReport {
        let now = self.clock.now();
        let links = self
            .links
            .iter()
            .map(|l| {
                let connected = l.stats.connected.load(Ordering::Relaxed);
                let down_since = match self.live.link_change(&l.id) {
                    Some((false, at)) => Some(at),
                    Some((true, _)) => None,
                    None => Some(self.started_at),
                };
                LinkHealth {
                    id: l.id.to_string(),
                    connected,
                    down_for_s: (!connected).then(|| secs_between(down_since.unwrap_or(now), now)),
                    outbox_depth: l.outbox.len() as u64,
                    outbox_oldest_age_s: l.outbox.oldest_queued_at().map(|t| secs_between(t, now)),
                }
            })
            .collect();
        let health: BTreeMap<String, HealthState> = self
            .live
            .device_health()
            .into_iter()
            .map(|(d, h)| (d.to_string(), h))
            .collect();
        let mut drivers: BTreeMap<&str, DriverHealth> = self
            .config
            .drivers
            .iter()
            .map(|d| {
                let h = DriverHealth {
                    id: d.id.clone(),
                    devices: 0,
                    online: 0,
                    degraded: 0,
                    offline: 0,
                };
                (d.id.as_str(), h)
            })
            .collect();
        for d in &self.config.devices {
            let Some(h) = drivers.get_mut(d.driver.as_str()) else {
                continue;
            };
            h.devices += 1;
            match health.get(&d.id).copied().unwrap_or(HealthState::Online) {
                HealthState::Online => h.online += 1,
                HealthState::Degraded => h.degraded += 1,
                HealthState::Offline => h.offline += 1,
            }
        }
        let (disk_free_bytes, disk_total_bytes) = disk(&self.config.storage.data_dir);
        HealthReport {
            v: VERSION,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            site: self.config.site.id.clone(),
            uptime_s: self.started.elapsed().as_secs(),
            status: Overall::Ok,
            problems: Vec::new(),
            links,
            drivers: drivers.into_values().collect(),
            store: StoreHealth {
                bytes: self.store.size_on_disk(),
                max_bytes: self.config.storage.max_bytes,
                disk_free_bytes,
                disk_total_bytes,
            },
            models: ModelsHealth {
                fall_detection: self.fall_detection,
                fall_needed: self.fall_needed,
            },
            open_alerts: self.board.open_count() as u64,
            pipeline_idle_s: secs_between(Timestamp(self.heartbeat.load(Ordering::Relaxed)), now),
        }
        .assess()
    }

    /// The levels of one scrape: the health report's facts and the links' own counters.
    pub fn levels(&self) -> Levels {
        let r = self.health();
        let mut m = Levels::default();
        m.gauge(
            "uptime",
            "Seconds since the gateway started",
            Some(Unit::Seconds),
            &[],
            r.uptime_s as f64,
        );
        for l in &r.links {
            let at = [("link", l.id.as_str())];
            m.gauge(
                "link_up",
                "1 while the link is connected to its broker",
                None,
                &at,
                f64::from(u8::from(l.connected)),
            );
            m.gauge(
                "outbox_messages",
                "Messages waiting in the link's durable outbox for their PUBACK",
                None,
                &at,
                l.outbox_depth as f64,
            );
            m.gauge(
                "outbox_oldest_age",
                "Age of the oldest message waiting in the link's outbox (0 when empty)",
                Some(Unit::Seconds),
                &at,
                l.outbox_oldest_age_s.unwrap_or(0) as f64,
            );
        }
        for l in &self.links {
            let at = [("link", l.id.as_str())];
            let s = &l.stats;
            let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            m.counter(
                "link_acked",
                "Outbox messages the broker acknowledged",
                &at,
                get(&s.acked),
            );
            m.counter(
                "link_connect_failures",
                "Connection attempts that failed or connections lost",
                &at,
                get(&s.connect_failures),
            );
            m.counter(
                "link_ack_timeouts",
                "Connections dropped because the broker did not acknowledge in time",
                &at,
                get(&s.ack_timeouts),
            );
            m.counter(
                "telemetry_dropped",
                "Telemetry messages dropped because the link was down or busy",
                &at,
                get(&s.telemetry_dropped),
            );
        }
        for d in &r.drivers {
            for (state, n) in [
                ("online", d.online),
                ("degraded", d.degraded),
                ("offline", d.offline),
            ] {
                m.gauge(
                    "devices",
                    "Devices by driver and health state",
                    None,
                    &[("driver", d.id.as_str()), ("state", state)],
                    n as f64,
                );
            }
        }
        m.counter(
            "readings_dropped_at_sink",
            "Telemetry readings dropped at the drivers' sink because the pipeline was full",
            &[],
            self.sink_stats.dropped_telemetry.load(Ordering::Relaxed),
        );
        let s = &r.store;
        m.gauge(
            "store_size",
            "Size of the database on disk",
            Some(Unit::Bytes),
            &[],
            s.bytes as f64,
        );
        m.gauge(
            "store_budget",
            "storage.max_bytes: above it telemetry is shed",
            Some(Unit::Bytes),
            &[],
            s.max_bytes as f64,
        );
        if let (Some(free), Some(total)) = (s.disk_free_bytes, s.disk_total_bytes) {
            m.gauge(
                "disk_free",
                "Free space on the data directory's file system",
                Some(Unit::Bytes),
                &[],
                free as f64,
            );
            m.gauge(
                "disk_size",
                "Size of the data directory's file system",
                Some(Unit::Bytes),
                &[],
                total as f64,
            );
        }
        m.gauge(
            "model_loaded",
            "1 when the model is loaded and running",
            None,
            &[("model", "fall")],
            f64::from(u8::from(r.models.fall_detection)),
        );
        m.gauge(
            "alerts_open",
            "Alerts not yet resolved",
            None,
            &[],
            r.open_alerts as f64,
        );
        m.gauge(
            "health_problems",
            "Conditions that need a person (docs/CLI.md, pingan status)",
            None,
            &[],
            r.problems.len() as f64,
        );
        m
    }
}
