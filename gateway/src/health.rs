//! The gateway's health report: what `GET /healthz` answers and `pingan status` prints (version,
//! uptime, links and their outboxes, drivers' devices, store and disk, models), and the pure
//! judgement of which facts need a person ([`HealthReport::assess`], table-tested).
//!
//! The conditions are documented in docs/CLI.md (`pingan status`). They are technical: an
//! alert waiting for a nurse is the escalation policy's business, not the IT person's, so open
//! alerts are reported but never make the gateway unhealthy.

use serde::{Deserialize, Serialize};

/// Report format version.
pub const VERSION: u32 = 1;

/// A link down this long needs a person (short drops heal by themselves).
pub const LINK_DOWN_AFTER_S: u64 = 30;
/// A message waiting this long for its broker's PUBACK needs a person.
pub const OUTBOX_STALE_AFTER_S: u64 = 60;
/// The pipeline's last turn this long ago means it is stuck.
pub const PIPELINE_STALLED_AFTER_S: u64 = 30;
/// Less free disk than this (bytes) needs a person, and so does less than the store may still
/// grow to within its budget (`storage.max_bytes` minus its size): the budget could not be kept.
pub const DISK_LOW_BYTES: u64 = 256 << 20;

/// Whether anything needs a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overall {
    /// Nothing needs a person.
    Ok,
    /// At least one problem is listed.
    Attention,
}

/// What needs a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    /// A link has been disconnected for [`LINK_DOWN_AFTER_S`] or longer.
    LinkDown,
    /// A link's oldest outbox message has waited [`OUTBOX_STALE_AFTER_S`] or longer.
    OutboxStale,
    /// The store is over `storage.max_bytes`: telemetry is being shed.
    StorageOverBudget,
    /// The data directory's file system cannot hold what the store may still grow to.
    DiskLow,
    /// A device is reported offline by its driver.
    DeviceOffline,
    /// Fall detection is not running (its threads could not be started).
    FallDetectionUnavailable,
    /// The pipeline has not turned for [`PIPELINE_STALLED_AFTER_S`].
    PipelineStalled,
}

/// One problem: its code, what it is about (a link or driver id, `storage`, `fall`) and a
/// sentence for the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// What kind of problem.
    pub code: ProblemCode,
    /// The link, driver or part it concerns.
    pub subject: String,
    /// What is wrong, in English.
    pub detail: String,
}

/// One MQTT link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkHealth {
    /// `local` or the uplink's id.
    pub id: String,
    /// Connected to its broker now.
    pub connected: bool,
    /// Seconds since the connection was lost (or since start, if it never connected); `None`
    /// while connected.
    pub down_for_s: Option<u64>,
    /// Messages waiting for their PUBACK.
    pub outbox_depth: u64,
    /// Seconds the oldest of them has waited.
    pub outbox_oldest_age_s: Option<u64>,
}

/// The devices of one driver instance by health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverHealth {
    /// The driver instance's id.
    pub id: String,
    /// Devices the config binds to it.
    pub devices: u64,
    /// Online (or not reported otherwise).
    pub online: u64,
    /// Reachable but with errors.
    pub degraded: u64,
    /// Not reachable.
    pub offline: u64,
}

/// The store and its disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreHealth {
    /// Database size on disk.
    pub bytes: u64,
    /// `storage.max_bytes`.
    pub max_bytes: u64,
    /// Free bytes on the data directory's file system (for unprivileged users).
    pub disk_free_bytes: Option<u64>,
    /// Size of that file system.
    pub disk_total_bytes: Option<u64>,
}

/// Models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelsHealth {
    /// The fall model is loaded and its thread runs.
    pub fall_detection: bool,
    /// Whether the site needs it: false when no wearable is configured, and the model is then
    /// never loaded (absent in reports of earlier versions: needed).
    #[serde(default = "needed")]
    pub fall_needed: bool,
}

fn needed() -> bool {
    true
}

/// The health report (`"v": 1`); docs/schema/health-report.schema.json.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReport {
    /// Format version.
    pub v: u32,
    /// The gateway's version.
    pub version: String,
    /// Site id.
    pub site: String,
    /// Seconds since start.
    pub uptime_s: u64,
    /// `ok` or `attention`.
    pub status: Overall,
    /// What needs a person; empty when `status` is `ok`.
    pub problems: Vec<Problem>,
    /// Links, local first.
    pub links: Vec<LinkHealth>,
    /// Driver instances.
    pub drivers: Vec<DriverHealth>,
    /// Store and disk.
    pub store: StoreHealth,
    /// Models.
    pub models: ModelsHealth,
    /// Alerts not yet resolved (information only).
    pub open_alerts: u64,
    /// Seconds since the pipeline's last turn.
    pub pipeline_idle_s: u64,
}

impl HealthReport {
    /// Fills `problems` and `status` from the facts.
    pub fn assess(mut self) -> Self {
        self.problems = problems(&self);
        self.status = if self.problems.is_empty() {
            Overall::Ok
        } else {
            Overall::Attention
        };
        self
    }
}

fn problems(r: &HealthReport) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut add = |code, subject: &str, detail: String| {
        out.push(Problem {
            code,
            subject: subject.to_owned(),
            detail,
        });
    };
    for l in &r.links {
        if let Some(down) = l.down_for_s.filter(|d| *d >= LINK_DOWN_AFTER_S) {
            add(
                ProblemCode::LinkDown,
                &l.id,
                format!("link {} has been disconnected for {down} s", l.id),
            );
        }
        if let Some(age) = l.outbox_oldest_age_s.filter(|a| *a >= OUTBOX_STALE_AFTER_S) {
            add(
                ProblemCode::OutboxStale,
                &l.id,
                format!(
                    "{} messages wait on link {}, the oldest for {age} s",
                    l.outbox_depth, l.id
                ),
            );
        }
    }
    for d in r.drivers.iter().filter(|d| d.offline > 0) {
        add(
            ProblemCode::DeviceOffline,
            &d.id,
            format!(
                "{} of {} devices of driver {} are offline",
                d.offline, d.devices, d.id
            ),
        );
    }
    let s = &r.store;
    if s.bytes > s.max_bytes {
        add(
            ProblemCode::StorageOverBudget,
            "storage",
            format!(
                "the store holds {} bytes, over its budget of {}: readings are being shed",
                s.bytes, s.max_bytes
            ),
        );
    }
    if let Some(free) = s.disk_free_bytes {
        let room = s.max_bytes.saturating_sub(s.bytes);
        if free < DISK_LOW_BYTES || free < room {
            add(
                ProblemCode::DiskLow,
                "storage",
                format!(
                    "only {free} bytes are free on the data directory's disk; the store may still grow by {room} (storage.max_bytes)"
                ),
            );
        }
    }
    if r.models.fall_needed && !r.models.fall_detection {
        add(
            ProblemCode::FallDetectionUnavailable,
            "fall",
            "fall detection is not running (its threads could not be started; see the log)".into(),
        );
    }
    if r.pipeline_idle_s >= PIPELINE_STALLED_AFTER_S {
        add(
            ProblemCode::PipelineStalled,
            "pipeline",
            format!("the pipeline has not turned for {} s", r.pipeline_idle_s),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> HealthReport {
        HealthReport {
            v: VERSION,
            version: "0.1.0".into(),
            site: "t".into(),
            uptime_s: 600,
            status: Overall::Attention,
            problems: Vec::new(),
            links: vec![LinkHealth {
                id: "local".into(),
                connected: true,
                down_for_s: None,
                outbox_depth: 0,
                outbox_oldest_age_s: None,
            }],
            drivers: vec![DriverHealth {
                id: "sim".into(),
                devices: 3,
                online: 3,
                degraded: 0,
                offline: 0,
            }],
            store: StoreHealth {
                bytes: 1 << 20,
                max_bytes: 1 << 30,
                disk_free_bytes: Some(10 << 30),
                disk_total_bytes: Some(100 << 30),
            },
            models: ModelsHealth {
                fall_detection: true,
                fall_needed: true,
            },
            open_alerts: 4,
            pipeline_idle_s: 1,
        }
    }

    #[test]
    fn each_condition_that_needs_a_person_is_reported_and_nothing_else() {
        type Change = fn(&mut HealthReport);
        let cases: [(&str, Change, Option<ProblemCode>); 15] = [
            ("healthy, open alerts are not a problem", |_| {}, None),
            ("a short drop", |r| r.links[0].down_for_s = Some(29), None),
            (
                "down 30 s",
                |r| r.links[0].down_for_s = Some(30),
                Some(ProblemCode::LinkDown),
            ),
            (
                "young outbox",
                |r| r.links[0].outbox_oldest_age_s = Some(59),
                None,
            ),
            (
                "stale outbox",
                |r| r.links[0].outbox_oldest_age_s = Some(60),
                Some(ProblemCode::OutboxStale),
            ),
            (
                "degraded is not offline",
                |r| r.drivers[0].degraded = 1,
                None,
            ),
            (
                "a device offline",
                |r| r.drivers[0].offline = 1,
                Some(ProblemCode::DeviceOffline),
            ),
            ("at the budget", |r| r.store.bytes = r.store.max_bytes, None),
            (
                "over the budget",
                |r| r.store.bytes = r.store.max_bytes + 1,
                Some(ProblemCode::StorageOverBudget),
            ),
            (
                "room for the rest of the budget",
                |r| r.store.disk_free_bytes = Some((1 << 30) - (1 << 20)),
                None,
            ),
            (
                "less than the rest of the budget",
                |r| r.store.disk_free_bytes = Some((1 << 30) - (2 << 20)),
                Some(ProblemCode::DiskLow),
            ),
            (
                "under 256 MiB free with a small budget",
                |r| {
                    r.store.max_bytes = 2 << 20;
                    r.store.disk_free_bytes = Some(255 << 20);
                },
                Some(ProblemCode::DiskLow),
            ),
            (
                "no fall model",
                |r| r.models.fall_detection = false,
                Some(ProblemCode::FallDetectionUnavailable),
            ),
            (
                "no fall model on a site without wearables",
                |r| {
                    r.models.fall_detection = false;
                    r.models.fall_needed = false;
                },
                None,
            ),
            (
                "stalled pipeline",
                |r| r.pipeline_idle_s = 30,
                Some(ProblemCode::PipelineStalled),
            ),
        ];
        for (what, change, want) in cases {
            let mut r = healthy();
            change(&mut r);
            let r = r.assess();
            let codes: Vec<ProblemCode> = r.problems.iter().map(|p| p.code).collect();
            assert_eq!(codes, want.into_iter().collect::<Vec<_>>(), "{what}");
            let status = if want.is_some() {
                Overall::Attention
            } else {
                Overall::Ok
            };
            assert_eq!(r.status, status, "{what}");
        }
    }

    #[test]
    fn unknown_disk_figures_are_not_a_problem() {
        let mut r = healthy();
        r.store.disk_free_bytes = None;
        assert_eq!(r.assess().status, Overall::Ok);
    }
}
