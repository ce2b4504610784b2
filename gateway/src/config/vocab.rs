//! The words the site config is written in and every floor above shares: alert kinds, device
//! models and the language of user-facing texts. They live here, at the ground floor, so that the config imports
//! nothing of the gateway; the alert module adds their user-facing labels.

use std::fmt;

use pingan_drivers::sim::SimModel;
use serde::{Deserialize, Serialize};

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// One-key emergency call.
    Sos,
    /// A detected fall.
    Fall,
    /// Vital signs out of range (NEWS2, anomalies).
    Vitals,
    /// Bed exit at night.
    BedExit,
    /// Out of bed too long at night.
    OutOfBedTooLong,
    /// No sign of life for hours (residents living alone).
    Inactivity,
    /// A dementia resident at an exit.
    Wandering,
    /// Smoke.
    Smoke,
    /// Combustible gas.
    Gas,
    /// Water leak.
    WaterLeak,
    /// Room climate out of the safe range.
    Environment,
    /// A device stopped reporting.
    DeviceOffline,
    /// A battery is running low.
    LowBattery,
    /// A fault of the gateway itself (storage, model runtime, uplinks).
    Technical,
}

impl AlertKind {
    /// Every kind, for tables and validation.
    pub const ALL: [AlertKind; 14] = [
        Self::Sos,
        Self::Fall,
        Self::Vitals,
        Self::BedExit,
        Self::OutOfBedTooLong,
        Self::Inactivity,
        Self::Wandering,
        Self::Smoke,
        Self::Gas,
        Self::WaterLeak,
        Self::Environment,
        Self::DeviceOffline,
        Self::LowBattery,
        Self::Technical,
    ];

    /// The snake_case name used in JSON and config.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sos => "sos",
            Self::Fall => "fall",
            Self::Vitals => "vitals",
            Self::BedExit => "bed_exit",
            Self::OutOfBedTooLong => "out_of_bed_too_long",
            Self::Inactivity => "inactivity",
            Self::Wandering => "wandering",
            Self::Smoke => "smoke",
            Self::Gas => "gas",
            Self::WaterLeak => "water_leak",
            Self::Environment => "environment",
            Self::DeviceOffline => "device_offline",
            Self::LowBattery => "low_battery",
            Self::Technical => "technical",
        }
    }

    /// Medical emergencies may reach the hospital green channel.
    pub fn is_medical(self) -> bool {
        matches!(self, Self::Sos | Self::Fall | Self::Vitals)
    }

    /// Kinds a resident can cancel with the cancel button within the cancel window.
    pub fn is_cancellable(self) -> bool {
        matches!(self, Self::Sos | Self::Fall)
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Language of user-facing texts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Locale {
    /// Simplified Chinese (default: the first deployments are in Guangdong).
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// English.
    #[serde(rename = "en")]
    En,
}

impl Locale {
    /// The BCP 47 tag used in config, JSON and the dashboard: `"zh-CN"` or `"en"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ZhCn => "zh-CN",
            Self::En => "en",
        }
    }

    /// The locale of a tag; anything but `"en"` is Simplified Chinese (the default).
    pub fn from_tag(tag: &str) -> Self {
        if tag == "en" { Self::En } else { Self::ZhCn }
    }
}

/// What a device is; decides what it measures and how often it must report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceModel {
    /// Wristband: HR, SpO2, accelerometer, SOS button.
    Wristband,
    /// SOS pendant.
    Pendant,
    /// Bed pressure mat.
    BedMat,
    /// Room temperature/humidity (CO2) sensor.
    RoomSensor,
    /// Door contact.
    DoorContact,
    /// Smoke detector.
    SmokeDetector,
    /// Combustible gas detector.
    GasDetector,
    /// Water-leak sensor.
    WaterLeak,
    /// Nurse-call button panel.
    CallPanel,
    /// BLE beacon receiver / presence tag.
    Beacon,
    /// Blood-pressure cuff.
    BpCuff,
    /// Pulse oximeter.
    Oximeter,
    /// Thermometer.
    Thermometer,
    /// Weighing scale.
    Scale,
}

impl DeviceModel {
    /// Worn by a resident (wristbands, pendants): bound to a person, and the accelerometer the
    /// fall model reads.
    pub fn is_wearable(self) -> bool {
        matches!(self, Self::Wristband | Self::Pendant)
    }

    /// What the facility simulator plays for this model; `None` for models it cannot play.
    pub fn sim_model(self) -> Option<SimModel> {
        Some(match self {
            Self::Wristband => SimModel::Wristband,
            Self::Pendant => SimModel::Pendant,
            Self::BedMat => SimModel::BedMat,
            Self::RoomSensor => SimModel::RoomSensor,
            Self::DoorContact => SimModel::DoorContact,
            Self::SmokeDetector => SimModel::SmokeDetector,
            Self::GasDetector => SimModel::GasDetector,
            Self::WaterLeak => SimModel::WaterLeak,
            Self::CallPanel => SimModel::CallPanel,
            Self::Beacon | Self::BpCuff | Self::Oximeter | Self::Thermometer | Self::Scale => {
                return None;
            }
        })
    }
}

/// A link's id: [`LinkId::local`] for the gateway's own connection to the embedded broker, or
/// the `id` of an `[[uplinks]]` entry. Outbox trees, delivery receipts and logs are keyed on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LinkId(std::sync::Arc<str>);

impl LinkId {
    /// The id of the embedded broker's link; reserved (no uplink may use it).
    pub const LOCAL: &'static str = "local";
    /// The dashboard's event streams, as a receiver of alerts; reserved.
    pub const DASHBOARD: &'static str = "dashboard";

    /// The embedded broker's link.
    pub fn local() -> Self {
        Self::new(Self::LOCAL)
    }

    /// The link named `id`.
    pub fn new(id: &str) -> Self {
        Self(std::sync::Arc::from(id))
    }

    /// Whether this is the embedded broker's link.
    pub fn is_local(&self) -> bool {
        &*self.0 == Self::LOCAL
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
