//! The site configuration as it is written in TOML. Every struct denies unknown fields so typos
//! are caught; every field is documented because `pingan print-default-config` is the reference.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use pingan_drivers::DriverConfig;
use serde::{Deserialize, Serialize};

use super::analytics::AnalyticsConfig;
use super::shifts::Shifts;
use super::vocab::{AlertKind, DeviceModel, Locale};
use super::window::Timezone;

/// The whole configuration of one gateway (one site).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Who and where this gateway is.
    pub site: SiteConfig,
    /// Where and how long data is kept.
    #[serde(default)]
    pub storage: StorageConfig,
    /// The embedded MQTT broker.
    #[serde(default)]
    pub mqtt: MqttConfig,
    /// The dashboard and REST API.
    #[serde(default)]
    pub http: HttpConfig,
    /// The Prometheus metrics endpoint.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// Alert behaviour: cancel window, debounce.
    #[serde(default)]
    pub alerts: AlertsConfig,
    /// Driver instances (`[[drivers]]`), each with an `id` that devices refer to.
    #[serde(default)]
    pub drivers: Vec<DriverInstance>,
    /// Floors of the building.
    #[serde(default)]
    pub floors: Vec<Floor>,
    /// Rooms, each on a floor, with its beds.
    #[serde(default)]
    pub rooms: Vec<Room>,
    /// Residents.
    #[serde(default)]
    pub residents: Vec<Resident>,
    /// Devices, each bound to a resident or a room and read by one driver instance.
    #[serde(default)]
    pub devices: Vec<Device>,
    /// People and services that receive alerts.
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// Who is told, in which order, with what timeouts.
    #[serde(default)]
    pub escalation: EscalationConfig,
    /// Connections to external MQTT brokers (the institution, hospital green channels).
    #[serde(default)]
    pub uplinks: Vec<UplinkConfig>,
    /// Care analytics: night windows, thresholds, supervision.
    #[serde(default)]
    pub analytics: AnalyticsConfig,
    /// The care team's shifts in local time (`[[shifts]]`): the response report groups by
    /// them and a handover summary is made at each one's end. Default: day 07:00, evening
    /// 15:00, night 23:00.
    #[serde(default)]
    pub shifts: Shifts,
}

/// Identity of the site.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// Site id used in MQTT topics: lowercase letters, digits, `-` and `_`.
    pub id: String,
    /// Display name of the site.
    pub name: String,
    /// Language of user-facing texts: `"zh-CN"` or `"en"`.
    #[serde(default)]
    pub locale: Locale,
    /// IANA time zone of the site, e.g. `"Asia/Shanghai"`; night windows are in local time.
    #[serde(default)]
    pub timezone: Timezone,
    /// Telephone number hospitals call back (put into green-channel referrals).
    #[serde(default)]
    pub callback_phone: Option<String>,
}

/// Storage settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Directory of the sled database.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// How long readings are kept, e.g. `"30d"`. Alerts and audit are kept forever.
    #[serde(default = "default_retention", with = "humantime_serde")]
    pub retention: Duration,
    /// Routine telemetry is stored at most once per device and kind per this interval (alarm
    /// states, buttons, doors and beds always); `"0s"` stores everything.
    #[serde(default = "default_downsample", with = "humantime_serde")]
    pub downsample: Duration,
    /// How often the retention sweep runs.
    #[serde(default = "default_sweep", with = "humantime_serde")]
    pub sweep_interval: Duration,
    /// Disk budget of the database in bytes; above it telemetry is shed first and a technical
    /// alert is raised, while alerts keep being stored.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Messages an uplink's outbox may hold before a technical alert says the broker has not
    /// confirmed them for a long time (nothing is dropped: alerts wait for the broker).
    #[serde(default = "default_outbox_quota")]
    pub outbox_quota: u64,
    /// Free space kept on the data filesystem for alerts and their audit trail: below it
    /// telemetry is no longer stored and a technical alert is raised.
    #[serde(default = "default_reserve_bytes")]
    pub reserve_bytes: u64,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("/var/lib/pingan")
}
fn default_retention() -> Duration {
    Duration::from_secs(14 * 86_400)
}
fn default_downsample() -> Duration {
    Duration::from_secs(30)
}
fn default_sweep() -> Duration {
    Duration::from_secs(600)
}
fn default_outbox_quota() -> u64 {
    10_000
}
fn default_max_bytes() -> u64 {
    2 << 30
}
fn default_reserve_bytes() -> u64 {
    64 << 20
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: default_data_dir(),
            retention: default_retention(),
            downsample: default_downsample(),
            sweep_interval: default_sweep(),
            max_bytes: default_max_bytes(),
            outbox_quota: default_outbox_quota(),
            reserve_bytes: default_reserve_bytes(),
        }
    }
}

/// The embedded broker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// Address and port the embedded broker listens on.
    #[serde(default = "default_mqtt_bind")]
    pub bind: SocketAddr,
    /// Minimum interval between published readings of one device and kind; high-rate streams
    /// (accelerometers) are thinned to this on MQTT, never in the store.
    #[serde(default = "default_reading_interval", with = "humantime_serde")]
    pub readings_min_interval: Duration,
    /// Maximum simultaneous client connections to the embedded broker.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

fn default_mqtt_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 1883))
}
fn default_reading_interval() -> Duration {
    Duration::from_secs(1)
}
fn default_max_connections() -> usize {
    256
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            bind: default_mqtt_bind(),
            readings_min_interval: default_reading_interval(),
            max_connections: default_max_connections(),
        }
    }
}

/// The dashboard and REST API.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address and port of the dashboard.
    #[serde(default = "default_http_bind")]
    pub bind: SocketAddr,
}

fn default_http_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            bind: default_http_bind(),
        }
    }
}

/// The Prometheus metrics endpoint (docs/METRICS.md).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address of `http://BIND/metrics`, on its own listener; absent: no metrics endpoint.
    #[serde(default)]
    pub bind: Option<SocketAddr>,
    /// File holding a bearer token scrapers must send (`Authorization: Bearer …`); required
    /// when `bind` is not a loopback address.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
}

/// Alert behaviour.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// How long a resident has to cancel an SOS or fall with the cancel button.
    #[serde(default = "default_cancel_window", with = "humantime_serde")]
    pub cancel_window: Duration,
    /// A cleared condition must stay clear this long before its alert resolves (flapping).
    #[serde(default = "default_debounce", with = "humantime_serde")]
    pub clear_debounce: Duration,
    /// A link whose oldest undelivered alert message is older than this raises a technical
    /// alert (resolved when it drains).
    #[serde(default = "default_undelivered_after", with = "humantime_serde")]
    pub undelivered_after: Duration,
}

fn default_cancel_window() -> Duration {
    Duration::from_secs(15)
}
fn default_debounce() -> Duration {
    Duration::from_secs(30)
}
fn default_undelivered_after() -> Duration {
    Duration::from_secs(60)
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            cancel_window: default_cancel_window(),
            clear_debounce: default_debounce(),
            undelivered_after: default_undelivered_after(),
        }
    }
}

/// One driver instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriverInstance {
    /// Name devices use in `driver = "…"`.
    pub id: String,
    /// The driver kind (`driver = "sim" | …`) and its settings.
    #[serde(flatten)]
    pub config: DriverConfig,
}

/// A floor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Floor {
    /// Floor id, e.g. `"2F"`.
    pub id: String,
    /// Display name, e.g. `"二楼"`.
    #[serde(default)]
    pub name: Option<String>,
}

/// A room.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Room {
    /// Room id, e.g. `"201"`.
    pub id: String,
    /// The floor it is on.
    pub floor: String,
    /// Beds in the room, e.g. `["201-A", "201-B"]`.
    #[serde(default)]
    pub beds: Vec<String>,
    /// What kind of space it is: resident rooms, corridors, the exit lobby (wandering zone).
    #[serde(default)]
    pub kind: RoomKind,
}

/// What a room is used for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// A resident's room.
    #[default]
    Bedroom,
    /// A shared space (lounge, dining, corridor).
    Common,
    /// An exit or lobby: dementia residents seen here may be wandering.
    Exit,
}

/// Care flags of a resident's care plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CareFlag {
    /// At risk of falling: falls escalate faster.
    FallRisk,
    /// Dementia: exits and exit zones raise wandering alerts.
    Dementia,
    /// Leaving the bed at night raises an alert.
    BedExitWatch,
    /// Lives alone: inactivity checks (巡访).
    LivesAlone,
    /// Hypercapnic respiratory failure: NEWS2 SpO2 scale 2.
    Hypercapnic,
    /// On supplemental oxygen (NEWS2 scores it).
    SupplementalOxygen,
}

/// Sex, as recorded in the care plan (shared in referrals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Other or not recorded.
    Other,
}

/// A resident.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resident {
    /// Pseudonymous id used in topics, alerts and referrals, e.g. `"R0107"`.
    pub id: String,
    /// Name, shown on the local dashboard; shared off-site only with `share_identity` contacts.
    pub name: String,
    /// Year of birth (referrals carry an age band, not the date).
    pub birth_year: u16,
    /// Sex.
    pub sex: Sex,
    /// Room id.
    pub room: String,
    /// Bed id within the room.
    #[serde(default)]
    pub bed: Option<String>,
    /// Care flags.
    #[serde(default)]
    pub care_flags: Vec<CareFlag>,
}

/// A device.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// Device id, unique in the site.
    pub id: String,
    /// What it is.
    pub model: DeviceModel,
    /// The driver instance that reads it.
    pub driver: String,
    /// The resident it belongs to (wearables, bed mats); exclusive with `room`.
    #[serde(default)]
    pub resident: Option<String>,
    /// The room it is installed in (room sensors, doors, detectors); exclusive with `resident`.
    #[serde(default)]
    pub room: Option<String>,
    /// Longest expected silence before the device counts as offline; defaults by model.
    #[serde(default, with = "humantime_serde")]
    pub report_interval: Option<Duration>,
}

/// How a contact receives referrals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralFormat {
    /// Pingan's JSON referral packet.
    #[default]
    Json,
    /// An HL7 FHIR R4 Bundle.
    Fhir,
}

/// A person or service that receives alerts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Contact id used in escalation levels.
    pub id: String,
    /// Display name, e.g. `"值班护士"`.
    pub name: String,
    /// Telephone, shown on the dashboard.
    #[serde(default)]
    pub phone: Option<String>,
    /// The uplink that carries this contact's messages; without one, the contact watches the
    /// local broker and dashboard.
    #[serde(default)]
    pub uplink: Option<String>,
    /// A hospital green-channel contact: receives referral packets, not raw alerts.
    #[serde(default)]
    pub green_channel: bool,
    /// Whether this contact may see residents' names (referrals are pseudonymous otherwise).
    #[serde(default)]
    pub share_identity: bool,
    /// Referral format for green-channel contacts.
    #[serde(default)]
    pub format: ReferralFormat,
}

/// Escalation policies.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationConfig {
    /// Policies; the one listing an alert's kind applies, else the one with no kinds.
    #[serde(default)]
    pub policies: Vec<EscalationPolicy>,
}

/// One escalation policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicy {
    /// Name for logs and the dashboard.
    pub name: String,
    /// Alert kinds this policy governs; empty = the default policy.
    #[serde(default)]
    pub kinds: Vec<AlertKind>,
    /// Levels in order; an alert not acknowledged within a level's timeout moves to the next.
    pub levels: Vec<EscalationLevel>,
}

/// One level of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationLevel {
    /// Contacts told at this level (all at once).
    pub contacts: Vec<String>,
    /// Time without acknowledgement before the next level; absent on the last level.
    #[serde(default, with = "humantime_serde")]
    pub timeout: Option<Duration>,
}

/// A connection to an external broker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UplinkConfig {
    /// Uplink id contacts refer to.
    pub id: String,
    /// `mqtt://host:port` or `mqtts://host:port` (TLS): the broker.
    #[serde(default)]
    pub url: Option<String>,
    /// Instead of `url`: the nodes of one broker cluster, tried in order; on a lost connection
    /// the uplink moves to the next (docs/MQTT.md, failover). Same scheme for all.
    #[serde(default)]
    pub urls: Vec<String>,
    /// MQTT client id; defaults to `pingan-{site}-{id}`. Must be stable: the session is persistent.
    #[serde(default)]
    pub client_id: Option<String>,
    /// User name.
    #[serde(default)]
    pub username: Option<String>,
    /// File holding the password (kept out of the config file).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// CA certificate (PEM) to verify the broker; required for `mqtts://`.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS.
    #[serde(default)]
    pub client_cert: Option<PathBuf>,
    /// Client private key (PEM) for mutual TLS.
    #[serde(default)]
    pub client_key: Option<PathBuf>,
    /// Whether this uplink also receives alerts for the whole site (the institution) rather than
    /// only the referrals of its green-channel contacts.
    #[serde(default)]
    pub alerts: bool,
    /// Forward telemetry, downsampled to one reading per device and kind per this interval.
    #[serde(default, with = "humantime_serde")]
    pub telemetry_interval: Option<Duration>,
    /// Accept `cmd` topics (ack/resolve) from this broker.
    #[serde(default)]
    pub commands: bool,
    /// How long the broker may take to acknowledge (PUBACK) a message before the connection is
    /// dropped and the outbox replays on a fresh one.
    #[serde(default = "default_ack_timeout", with = "humantime_serde")]
    pub ack_timeout: Duration,
    /// Where the acting person of a command comes from: `"topic"` — the user name in
    /// `pingan/{site}/cmd/users/{user}/…`, which the broker's ACL ties to the MQTT login (the
    /// Mosquitto deployment of docs/SECURITY.md); `"body"` — the `by` of the payload, which
    /// anybody who may publish on that broker can set to any name.
    #[serde(default)]
    pub command_identity: CommandIdentity,
}

fn default_ack_timeout() -> Duration {
    Duration::from_secs(15)
}

/// Where the acting person of an MQTT command comes from (see docs/SECURITY.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandIdentity {
    /// The `by` of the payload under `pingan/{site}/cmd/alerts/…` (trusted publishers only).
    #[default]
    Body,
    /// The ACL-enforced user name under `pingan/{site}/cmd/users/{user}/…`.
    Topic,
}
