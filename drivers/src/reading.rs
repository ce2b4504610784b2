//! The data every driver produces: a [`Reading`] is one [`Measurement`] from one device at one time.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A device's identifier as configured for the site (e.g. `"w-101a"` for a wristband).
///
/// Cheap to clone: readings carry it at high rates.
#[derive(Debug, Clone, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceId(Arc<str>);

/// Equal when the text is; clones of one id (every reading of a configured device carries a
/// clone of the id its driver was given) compare by pointer without reading the text. The
/// per-device maps on the reading path compare ids at every look-up (docs/BENCHMARKS.md).
impl PartialEq for DeviceId {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

/// The text's hash, as `PartialEq` compares the text.
impl std::hash::Hash for DeviceId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl DeviceId {
    /// Wraps a configured device id.
    pub fn new(id: impl AsRef<str>) -> Self {
        Self(Arc::from(id.as_ref()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for DeviceId {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

/// A point in time: UTC milliseconds since the Unix epoch.
///
/// Time is a value everywhere below the I/O edges so that rules are testable with injected clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The wall clock now.
    pub fn now() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Self(ms)
    }

    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// This time plus a duration (saturating).
    #[must_use]
    pub fn plus(self, d: std::time::Duration) -> Self {
        Self(
            self.0
                .saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        )
    }

    /// This time minus a duration (saturating).
    #[must_use]
    pub fn minus(self, d: std::time::Duration) -> Self {
        Self(
            self.0
                .saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        )
    }

    /// Time elapsed from `earlier` to `self`; zero when `earlier` is later. Total over every pair
    /// of timestamps (recorded traces can hold any value).
    pub fn since(self, earlier: Timestamp) -> std::time::Duration {
        // The difference of two i64 fits an i128 and, when positive, a u64.
        let ms = i128::from(self.0) - i128::from(earlier.0);
        std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0))
    }
}

/// Which button was pressed on a wearable or a call panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonKind {
    /// One-key emergency call (一键呼救).
    Sos,
    /// The resident cancels a pending SOS or fall alert.
    Cancel,
}

/// One measured quantity; units are part of the type (field names say the unit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Measurement {
    /// Heart rate in beats per minute.
    HeartRate { bpm: f32 },
    /// Peripheral oxygen saturation in percent.
    #[serde(rename = "spo2")]
    SpO2 { percent: f32 },
    /// Breaths per minute.
    RespirationRate { per_min: f32 },
    /// Body temperature in degrees Celsius.
    BodyTemperature { celsius: f32 },
    /// Blood pressure in mmHg; `map` is the mean arterial pressure.
    BloodPressure {
        systolic: f32,
        diastolic: f32,
        map: Option<f32>,
    },
    /// A batch of 3-axis accelerometer samples in g at `hz` samples per second; the reading's time
    /// is that of the first sample.
    Motion { samples: Vec<[f32; 3]>, hz: f32 },
    /// A button press.
    Button { button: ButtonKind },
    /// Bed sensor: occupancy and, when the mat measures them, in-bed heart and respiration rates.
    BedOccupancy {
        in_bed: bool,
        heart_rate: Option<f32>,
        respiration_rate: Option<f32>,
    },
    /// Room climate: °C, % relative humidity, CO2 in ppm.
    Environment {
        temperature: f32,
        humidity: f32,
        co2: Option<f32>,
    },
    /// Smoke detector state.
    Smoke { alarm: bool },
    /// Combustible gas detector state, with concentration when reported.
    Gas { alarm: bool, ppm: Option<f32> },
    /// Door contact.
    Door { open: bool },
    /// Water-leak sensor.
    WaterLeak { wet: bool },
    /// Battery charge in percent.
    Battery { percent: f32 },
    /// A BLE beacon seen by the gateway (room presence, wandering zones).
    Presence { beacon: String, rssi: i16 },
}

impl Measurement {
    /// Measurements that can raise a life-safety alert travel on the lossless path: they are never
    /// dropped under pressure, while routine telemetry may be.
    pub fn is_critical(&self) -> bool {
        match self {
            Self::Button { .. } => true,
            Self::Smoke { alarm } | Self::Gas { alarm, .. } => *alarm,
            Self::WaterLeak { wet } => *wet,
            Self::Door { .. } | Self::BedOccupancy { .. } => true,
            _ => false,
        }
    }

    /// The `kind` tag as serialized, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::HeartRate { .. } => "heart_rate",
            Self::SpO2 { .. } => "spo2",
            Self::RespirationRate { .. } => "respiration_rate",
            Self::BodyTemperature { .. } => "body_temperature",
            Self::BloodPressure { .. } => "blood_pressure",
            Self::Motion { .. } => "motion",
            Self::Button { .. } => "button",
            Self::BedOccupancy { .. } => "bed_occupancy",
            Self::Environment { .. } => "environment",
            Self::Smoke { .. } => "smoke",
            Self::Gas { .. } => "gas",
            Self::Door { .. } => "door",
            Self::WaterLeak { .. } => "water_leak",
            Self::Battery { .. } => "battery",
            Self::Presence { .. } => "presence",
        }
    }
}

/// One measurement from one device at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// The device that measured.
    pub device: DeviceId,
    /// When it was measured.
    pub at: Timestamp,
    /// What was measured.
    #[serde(flatten)]
    pub measurement: Measurement,
}

impl Reading {
    /// A reading of `measurement` by `device` at `at`.
    pub fn new(device: impl Into<DeviceId>, at: Timestamp, measurement: Measurement) -> Self {
        Self {
            device: device.into(),
            at,
            measurement,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_are_equal_by_text_whether_or_not_they_share_it() {
        use std::collections::HashMap;
        let a = DeviceId::new("bed-3");
        let (same, other_copy, other) = (a.clone(), DeviceId::new("bed-3"), DeviceId::new("bed-4"));
        assert!(a == same && a == other_copy && a != other);
        let mut m = HashMap::new();
        m.insert(a, 1);
        assert_eq!(
            m.get(&other_copy),
            Some(&1),
            "an id read from elsewhere finds the entry"
        );
        assert_eq!(m.get(&other), None);
    }

    #[test]
    fn reading_json_is_flat_with_kind_tag() {
        let r = Reading::new("w-1", Timestamp(1_000), Measurement::SpO2 { percent: 97.0 });
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"device": "w-1", "at": 1000, "kind": "spo2", "percent": 97.0})
        );
        let back: Reading = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn only_alarm_states_of_detectors_are_critical() {
        assert!(Measurement::Smoke { alarm: true }.is_critical());
        assert!(!Measurement::Smoke { alarm: false }.is_critical());
        assert!(!Measurement::HeartRate { bpm: 70.0 }.is_critical());
        assert!(
            Measurement::Button {
                button: ButtonKind::Sos
            }
            .is_critical()
        );
    }
}
