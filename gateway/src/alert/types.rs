//! Alert vocabulary: kinds, priorities, subjects, the [`Event`] analytics emit, and the [`Alert`]
//! record with its lifecycle state.

use pingan_drivers::{DeviceId, Timestamp};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

pub use crate::config::{AlertKind, Locale};

impl AlertKind {
    /// Short label in the site's language.
    pub fn label(self, locale: Locale) -> &'static str {
        let (zh, en) = match self {
            Self::Sos => ("紧急呼叫", "SOS call"),
            Self::Fall => ("跌倒", "Fall"),
            Self::Vitals => ("生命体征异常", "Abnormal vital signs"),
            Self::BedExit => ("夜间离床", "Bed exit at night"),
            Self::OutOfBedTooLong => ("离床过久", "Out of bed too long"),
            Self::Inactivity => ("长时间无活动", "No activity"),
            Self::Wandering => ("走失风险", "Wandering"),
            Self::Smoke => ("烟雾报警", "Smoke alarm"),
            Self::Gas => ("燃气泄漏", "Gas leak"),
            Self::WaterLeak => ("漏水", "Water leak"),
            Self::Environment => ("室内环境异常", "Room climate out of range"),
            Self::DeviceOffline => ("设备离线", "Device offline"),
            Self::LowBattery => ("电量低", "Low battery"),
            Self::Technical => ("系统故障", "Technical fault"),
        };
        match locale {
            Locale::ZhCn => zh,
            Locale::En => en,
        }
    }
}

/// Alarm priority after IEC 60601-1-8: High needs immediate response, Medium prompt, Low awareness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Awareness.
    Low,
    /// Prompt response.
    Medium,
    /// Immediate response; latches until a person acknowledges.
    High,
}

/// Whom or what an alert is about; with the kind it is the dedup key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Subject {
    /// A resident (pseudonymous id).
    Resident(String),
    /// A device not bound to a resident, or the device itself (offline, battery).
    Device(DeviceId),
    /// A room.
    Room(String),
    /// The whole site (fire, gas, water).
    Site,
    /// A part of the gateway itself (`storage`, `fall-detection`): technical alerts of different
    /// parts stay apart.
    Gateway(String),
}

impl Subject {
    /// A stable text key, for storage keys and logs.
    pub fn key(&self) -> String {
        match self {
            Self::Resident(r) => format!("resident:{r}"),
            Self::Device(d) => format!("device:{d}"),
            Self::Room(r) => format!("room:{r}"),
            Self::Site => "site".to_owned(),
            Self::Gateway(part) => format!("gateway:{part}"),
        }
    }
}

/// Where an alert happened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Floor id.
    pub floor: Option<String>,
    /// Room id.
    pub room: Option<String>,
    /// Bed id.
    pub bed: Option<String>,
}

/// What analytics emit: a condition that is present (`active`) or has cleared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// What happened.
    pub kind: AlertKind,
    /// To whom.
    pub subject: Subject,
    /// How urgent.
    pub priority: Priority,
    /// When it was observed.
    pub at: Timestamp,
    /// `true` raises or updates; `false` says the condition cleared.
    pub active: bool,
    /// Where.
    pub location: Location,
    /// The device that observed it.
    pub device: Option<DeviceId>,
    /// A short English explanation for logs and the audit trail (the dashboard localises kinds).
    pub detail: String,
    /// Supporting data: a vitals snapshot, NEWS2 points, accelerometer samples around a fall.
    pub evidence: serde_json::Value,
    /// Escalate straight to the green channel (NEWS2 emergency, a fall with no movement).
    pub green_channel: bool,
}

impl Event {
    /// An active event with empty evidence.
    pub fn raise(kind: AlertKind, subject: Subject, priority: Priority, at: Timestamp) -> Self {
        Self {
            kind,
            subject,
            priority,
            at,
            active: true,
            location: Location::default(),
            device: None,
            detail: String::new(),
            evidence: serde_json::Value::Null,
            green_channel: false,
        }
    }

    /// The cleared counterpart of a condition.
    pub fn clear(kind: AlertKind, subject: Subject, at: Timestamp) -> Self {
        Self {
            active: false,
            ..Self::raise(kind, subject, Priority::Low, at)
        }
    }

    /// A technical alert of one part of the gateway (`storage`, `fall-detection`,
    /// `uplink:{id}`): raised (Medium) with `detail`, or cleared with `None`.
    pub fn technical(part: &str, detail: Option<String>, at: Timestamp) -> Self {
        let subject = Subject::Gateway(part.to_owned());
        match detail {
            Some(detail) => Self {
                detail,
                ..Self::raise(AlertKind::Technical, subject, Priority::Medium, at)
            },
            None => Self::clear(AlertKind::Technical, subject, at),
        }
    }
}

/// Where an alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Stored and being sent.
    Raised,
    /// A broker confirmed receipt (PUBACK); nobody has acknowledged yet.
    Delivered,
    /// Not acknowledged in time: moved to a further escalation level.
    Escalated,
    /// A person acknowledged it.
    Acknowledged,
    /// Over: resolved by a person, cancelled by the resident, or the condition cleared.
    Resolved,
}

impl AlertState {
    /// Whether the alert still needs a person.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Resolved)
    }

    /// Whether a person has acknowledged it (escalation stops).
    pub fn is_acknowledged(self) -> bool {
        matches!(self, Self::Acknowledged | Self::Resolved)
    }
}

/// An alert: the unit of delivery, acknowledgement and audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// ULID; the idempotency key everywhere.
    pub id: Ulid,
    /// Increases with every change; receivers keep the highest.
    pub revision: u32,
    /// What.
    pub kind: AlertKind,
    /// How urgent.
    pub priority: Priority,
    /// Whom.
    pub subject: Subject,
    /// The resident's pseudonymous id, when the subject is a resident.
    pub resident: Option<String>,
    /// Where.
    pub location: Location,
    /// The device that observed it.
    pub device: Option<DeviceId>,
    /// First observation.
    pub raised_at: Timestamp,
    /// Latest observation.
    pub last_seen: Timestamp,
    /// Observations merged into this alert.
    pub count: u32,
    /// Lifecycle state.
    pub state: AlertState,
    /// Current escalation level (0 = first level).
    pub escalation_level: u32,
    /// When the next level is due, if any.
    pub escalate_at: Option<Timestamp>,
    /// The condition is no longer present (an unacknowledged High alert stays latched).
    pub condition_cleared: bool,
    /// The resident may cancel until then.
    pub cancel_until: Option<Timestamp>,
    /// Sent to the green channel.
    pub green_channel: bool,
    /// The links that confirmed receipt of a message carrying it (sorted).
    #[serde(default)]
    pub delivered_to: Vec<String>,
    /// Who acknowledged, when.
    pub acknowledged_by: Option<String>,
    /// When it was acknowledged.
    pub acknowledged_at: Option<Timestamp>,
    /// When it was resolved.
    pub resolved_at: Option<Timestamp>,
    /// Why it was resolved (`"resolved by …"`, `"cancelled by resident"`, `"condition cleared"`).
    pub resolution: Option<String>,
    /// English detail of the latest observation.
    pub detail: String,
    /// Supporting data of the latest observation.
    pub evidence: serde_json::Value,
}
