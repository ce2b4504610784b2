//! What the dashboard needs from the gateway: the [`Backend`] trait and the JSON views of the REST
//! API. The gateway's service implements it; tests use an in-memory implementation.

use futures::future::BoxFuture;
use pingan_drivers::{DeviceId, HealthState, Timestamp};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use ulid::Ulid;

use crate::alert::{ActionRecord, Actor, Alert, AlertTrail, CommandError, Location};
use crate::config::{CareFlag, DeviceModel};
use crate::report::{Handover, ReportSetup};

/// A resident on the floor view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResidentView {
    /// Pseudonymous id.
    pub id: String,
    /// Name (the dashboard is local to the site).
    pub name: String,
    /// Room, bed, floor.
    pub location: Location,
    /// Care flags.
    pub care_flags: Vec<CareFlag>,
    /// Whether the bed mat feels them (None: no bed mat or no reading yet).
    pub in_bed: Option<bool>,
    /// Seen away from their room (a presence beacon in another zone, or out through an exit);
    /// None: no presence data. The floor view shows "away" before in/out of bed.
    #[serde(default)]
    pub away: Option<bool>,
    /// Latest vitals.
    pub vitals: VitalsView,
    /// Latest NEWS2, when enough parameters are fresh.
    pub news2: Option<News2View>,
}

/// Latest vital signs of a resident; each with its time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VitalsView {
    /// Heart rate, bpm.
    pub heart_rate: Option<f32>,
    /// SpO2, %.
    pub spo2: Option<f32>,
    /// Respiration rate, per minute.
    pub respiration_rate: Option<f32>,
    /// Body temperature, °C.
    pub temperature: Option<f32>,
    /// Systolic blood pressure, mmHg.
    pub systolic: Option<f32>,
    /// When the newest of these was measured.
    pub at: Option<Timestamp>,
}

/// A NEWS2 score for the floor view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct News2View {
    /// Total score.
    pub score: u8,
    /// Computed from fewer parameters than the chart has.
    pub partial: bool,
    /// "routine" | "ward" | "urgent" | "emergency".
    pub response: String,
}

/// A device on the device-health view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceView {
    /// Device id.
    pub id: String,
    /// What it is.
    pub model: DeviceModel,
    /// The resident it belongs to.
    pub resident: Option<String>,
    /// Where it is.
    pub location: Location,
    /// Link health.
    pub health: HealthState,
    /// Battery, %.
    pub battery: Option<f32>,
    /// Last reading.
    pub last_seen: Option<Timestamp>,
    /// The profile commands it takes (Modbus devices; docs/MODBUS.md), by name.
    #[serde(default)]
    pub commands: Vec<DeviceCommandView>,
}

impl From<&DeviceView> for crate::report::handover::DeviceState {
    fn from(d: &DeviceView) -> Self {
        Self {
            id: DeviceId::new(&d.id),
            model: d.model,
            resident: d.resident.clone(),
            location: d.location.clone(),
            health: d.health,
            battery: d.battery,
            last_seen: d.last_seen,
        }
    }
}

/// A profile command a device offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCommandView {
    /// The command's name (`silence`, `reset`).
    pub name: String,
    /// What it does, from the profile.
    pub description: Option<String>,
}

/// One uplink on the status view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UplinkView {
    /// Uplink id.
    pub id: String,
    /// Connected to its broker now.
    pub connected: bool,
    /// Messages waiting in its durable outbox.
    pub outbox_depth: u64,
}

/// Gateway status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusView {
    /// Site id.
    pub site: String,
    /// Site name.
    pub site_name: String,
    /// "zh-CN" | "en".
    pub locale: String,
    /// Seconds since start.
    pub uptime_s: u64,
    /// Readings per second over the last interval.
    pub readings_per_s: f64,
    /// Readings stored since start.
    pub readings_total: u64,
    /// Open alerts.
    pub open_alerts: u64,
    /// Uplinks.
    pub uplinks: Vec<UplinkView>,
    /// Database size on disk, bytes.
    pub storage_bytes: u64,
    /// Disk budget, bytes.
    pub storage_max_bytes: u64,
    /// Fall detection runs (the model loaded and its threads started).
    pub fall_detection: bool,
    /// The site's IANA time zone: the dashboard shows times and dates in it, whatever the
    /// station PC's own zone.
    #[serde(default)]
    pub timezone: String,
}

/// An alert with its audit trail.
pub type AlertDetail = AlertTrail;

/// Why the gateway could not do what the dashboard asked, below the API's own checks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// No such device, command or record.
    #[error("{0}")]
    NotFound(String),
    /// The part that would do it is not running, or storage failed.
    #[error("{0}")]
    Unavailable(String),
}

/// What the gateway offers the dashboard.
pub trait Backend: Send + Sync + 'static {
    /// Open alerts and alerts resolved in the last `recent_s` seconds, newest first.
    fn alerts(&self, recent_s: u64) -> Vec<Alert>;
    /// One alert (open or not) with its audit trail.
    fn alert(&self, id: Ulid) -> Option<AlertDetail>;
    /// A person acknowledges an alert; the same engine path as MQTT commands.
    fn acknowledge(
        &self,
        id: Ulid,
        by: Actor,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<Alert, CommandError>>;
    /// A person resolves an alert.
    fn resolve(
        &self,
        id: Ulid,
        by: Actor,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<Alert, CommandError>>;
    /// Residents for the floor view.
    fn residents(&self) -> Vec<ResidentView>;
    /// Devices for the health view.
    fn devices(&self) -> Vec<DeviceView>;
    /// Gateway status.
    fn status(&self) -> StatusView;
    /// Every alert change as it happens (each new revision).
    fn subscribe(&self) -> broadcast::Receiver<Alert>;
    /// Staff accounts and sessions.
    fn accounts(&self) -> crate::store::Accounts;

    /// A revision of this alert was written to a logged-in person's event stream: the dashboard
    /// counts as a delivery to people.
    fn seen_on_dashboard(&self, _alert: Ulid) {}

    /// The time now (the gateway's clock; tests may run on paused time).
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    /// The health report for `GET /healthz` (`None`: this backend has none; 404).
    fn health(&self) -> Option<crate::health::HealthReport> {
        None
    }

    /// What reports need of the site config (time zone, shifts, green-channel levels).
    fn report_setup(&self) -> ReportSetup;
    /// The alerts raised in `from..to` with their audit trails; with `open_too`, also every
    /// open alert.
    fn trails(
        &self,
        from: Timestamp,
        to: Timestamp,
        open_too: bool,
    ) -> Result<Vec<AlertTrail>, BackendError>;
    /// The handover of the current shift so far (not recorded, not published).
    fn handover_preview(&self) -> Result<Handover, BackendError>;
    /// Makes the current shift's handover now for `by`, records it and publishes it.
    fn handover_now(&self, by: String) -> BoxFuture<'_, Result<Handover, BackendError>>;
    /// Recorded handovers, newest first.
    fn handovers(&self, limit: usize) -> Result<Vec<Handover>, BackendError>;
    /// Runs one of a device's profile commands for `by`; the record of it (also when the device
    /// refused: `ok` says).
    fn device_command(
        &self,
        device: DeviceId,
        command: String,
        by: Actor,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<ActionRecord, BackendError>>;
    /// Recorded acts, newest first; of one device when given.
    fn actions(
        &self,
        device: Option<DeviceId>,
        limit: usize,
    ) -> Result<Vec<ActionRecord>, BackendError>;
    /// Records a person's act (a staff-account change) in the audit, on disk before it returns.
    fn record_action(&self, record: ActionRecord) -> BoxFuture<'_, Result<(), BackendError>>;
    /// The care records changed while the gateway runs (`None`: this backend keeps none; the
    /// care endpoints answer 503).
    fn care(&self) -> Option<&crate::care::CareRecords> {
        None
    }
    /// A secret that lets tools on this machine (`pingan report`, `pingan user`) ask the running
    /// gateway without a session; `None` when there is none.
    fn tool_token(&self) -> Option<String> {
        None
    }
}
