//! Settings of the analytics rules (`[analytics]` in the site config). Every table and field has
//! a default, so an empty `[analytics]` (or none) gives the documented behaviour of
//! `docs/ANALYTICS.md`.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::vocab::DeviceModel;
use super::window::LocalWindow;

/// Analytics settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalyticsConfig {
    /// The night, in local time: bed exits and out-of-bed time count inside it.
    pub night: NightConfig,
    /// Bed sensors: bed exit at night, out of bed too long.
    pub bed: BedConfig,
    /// Inactivity checks of residents who live alone (巡访).
    pub inactivity: InactivityConfig,
    /// Wandering of residents with dementia.
    pub wandering: WanderingConfig,
    /// Safe room climate.
    pub environment: EnvironmentConfig,
    /// NEWS2 vitals scoring.
    pub news2: News2Config,
    /// Battery warnings.
    pub battery: BatteryConfig,
    /// Device supervision: expected report intervals.
    pub supervision: SupervisionConfig,
    /// Per-resident baselines and the anomaly model.
    pub anomaly: AnomalyConfig,
}

/// The night window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NightConfig {
    /// Local time the night starts and ends, e.g. `{ start = "22:00", end = "06:00" }`.
    pub window: LocalWindow,
}

impl Default for NightConfig {
    fn default() -> Self {
        Self {
            window: LocalWindow::hm((22, 0), (6, 0)),
        }
    }
}

/// Bed-exit and out-of-bed settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BedConfig {
    /// A `bed_exit_watch` resident must stay off the mat this long before the bed-exit alert
    /// (filters turning over on the mat edge); keep it well under 10 s.
    #[serde(with = "humantime_serde")]
    pub exit_confirm: Duration,
    /// Out of bed at night longer than this raises "out of bed too long" for every resident with a
    /// bed mat.
    #[serde(with = "humantime_serde")]
    pub out_of_bed_limit: Duration,
}

impl Default for BedConfig {
    fn default() -> Self {
        Self {
            exit_confirm: Duration::from_secs(3),
            out_of_bed_limit: Duration::from_secs(20 * 60),
        }
    }
}

/// Inactivity checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InactivityConfig {
    /// Daytime hours without any motion, door or bed event before the check-on-me alert; only
    /// time inside `daytime` counts.
    #[serde(with = "humantime_serde")]
    pub after: Duration,
    /// The daytime window in local time.
    pub daytime: LocalWindow,
    /// A wearable's accelerometer batch counts as motion when the standard deviation of its
    /// magnitude reaches this many g (walking ≈ 0.15 g, still ≈ 0.01 g).
    pub motion_threshold_g: f32,
}

impl Default for InactivityConfig {
    fn default() -> Self {
        Self {
            after: Duration::from_secs(4 * 3600),
            daytime: LocalWindow::hm((7, 0), (21, 0)),
            motion_threshold_g: 0.05,
        }
    }
}

/// Wandering checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WanderingConfig {
    /// Local hours in which an exit door or an exit zone raises a wandering alert;
    /// `start == end` watches all day.
    pub hours: LocalWindow,
    /// A resident's beacon counts as in an exit zone when seen there at or above this RSSI (dBm).
    pub min_rssi: i16,
    /// A resident seen in an exit zone is considered gone from it after this long unseen.
    #[serde(with = "humantime_serde")]
    pub zone_timeout: Duration,
}

impl Default for WanderingConfig {
    fn default() -> Self {
        Self {
            hours: LocalWindow::hm((19, 0), (7, 0)),
            min_rssi: -80,
            zone_timeout: Duration::from_secs(120),
        }
    }
}

/// Safe room climate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// Lowest safe room temperature, °C.
    pub temperature_min: f32,
    /// Highest safe room temperature, °C (heat-stroke risk above).
    pub temperature_max: f32,
    /// At or above this room temperature the alert is High, °C.
    pub temperature_critical: f32,
    /// Lowest safe relative humidity, %.
    pub humidity_min: f32,
    /// Highest safe relative humidity, %.
    pub humidity_max: f32,
    /// Highest acceptable CO2, ppm.
    pub co2_max: f32,
    /// A value must stay out of range this long before the alert (one odd sample does not count).
    #[serde(with = "humantime_serde")]
    pub hold: Duration,
    /// Back inside the range by this margin (°C, %, and 10× in ppm) before the condition clears.
    pub hysteresis: f32,
}

impl Default for EnvironmentConfig {
    fn default() -> Self {
        Self {
            temperature_min: 16.0,
            temperature_max: 30.0,
            temperature_critical: 35.0,
            humidity_min: 30.0,
            humidity_max: 80.0,
            co2_max: 1500.0,
            hold: Duration::from_secs(120),
            hysteresis: 0.5,
        }
    }
}

/// NEWS2 settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct News2Config {
    /// How long a parameter's last value stays usable; older values count as missing.
    pub freshness: News2Freshness,
    /// Each parameter's value is the median of its readings within this window (wearables are
    /// noisy; one artefact must not score 3).
    #[serde(with = "humantime_serde")]
    pub smoothing: Duration,
    /// While a response above routine holds, the event repeats at most this often.
    #[serde(with = "humantime_serde")]
    pub repeat: Duration,
}

impl Default for News2Config {
    fn default() -> Self {
        Self {
            freshness: News2Freshness::default(),
            smoothing: Duration::from_secs(120),
            repeat: Duration::from_secs(60),
        }
    }
}

/// Freshness window of each measured NEWS2 parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct News2Freshness {
    /// Respiration rate (bed mat, respiration sensors).
    #[serde(with = "humantime_serde")]
    pub respiration_rate: Duration,
    /// SpO2 (wearables, oximeters).
    #[serde(with = "humantime_serde")]
    pub spo2: Duration,
    /// Systolic blood pressure (cuffs, measured a few times a day).
    #[serde(with = "humantime_serde")]
    pub systolic_bp: Duration,
    /// Pulse (wearables, bed mat).
    #[serde(with = "humantime_serde")]
    pub pulse: Duration,
    /// Temperature (wearables, thermometers).
    #[serde(with = "humantime_serde")]
    pub temperature: Duration,
}

impl Default for News2Freshness {
    fn default() -> Self {
        Self {
            respiration_rate: Duration::from_secs(15 * 60),
            spo2: Duration::from_secs(15 * 60),
            systolic_bp: Duration::from_secs(12 * 3600),
            pulse: Duration::from_secs(15 * 60),
            temperature: Duration::from_secs(4 * 3600),
        }
    }
}

/// Battery warnings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatteryConfig {
    /// At or below this charge (%) a device warns whatever its trend.
    pub low_percent: f32,
    /// At or below this charge (%) the warning is Medium whatever its trend.
    pub critical_percent: f32,
    /// The trend predicting an empty battery within this many days also warns (early warning).
    pub forecast_days: f32,
    /// The warning is Low while at least this many days remain, Medium when fewer.
    pub medium_below_days: f32,
    /// Battery history used for the trend.
    #[serde(with = "humantime_serde")]
    pub trend_window: Duration,
    /// The trend needs samples spanning at least this long before it predicts.
    #[serde(with = "humantime_serde")]
    pub min_trend_span: Duration,
}

impl Default for BatteryConfig {
    fn default() -> Self {
        Self {
            low_percent: 25.0,
            critical_percent: 10.0,
            forecast_days: 60.0,
            medium_below_days: 28.0,
            trend_window: Duration::from_secs(14 * 86_400),
            min_trend_span: Duration::from_secs(86_400),
        }
    }
}

/// Device supervision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupervisionConfig {
    /// Longest expected silence per device model, unless a device sets `report_interval`.
    /// Wearables and triggers are capped at 24 h (EN 50134-2 supervision).
    pub report_intervals: ReportIntervals,
    /// While a device stays silent its offline event repeats at most this often.
    #[serde(with = "humantime_serde")]
    pub repeat: Duration,
}

impl Default for SupervisionConfig {
    fn default() -> Self {
        Self {
            report_intervals: ReportIntervals::default(),
            repeat: Duration::from_secs(600),
        }
    }
}

/// Default report interval of each device model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportIntervals {
    /// Wristbands stream vitals every few seconds.
    #[serde(with = "humantime_serde")]
    pub wristband: Duration,
    /// Pendants send a supervision beacon.
    #[serde(with = "humantime_serde")]
    pub pendant: Duration,
    /// Bed mats report occupancy.
    #[serde(with = "humantime_serde")]
    pub bed_mat: Duration,
    /// Room climate sensors.
    #[serde(with = "humantime_serde")]
    pub room_sensor: Duration,
    /// Door contacts send a supervision report.
    #[serde(with = "humantime_serde")]
    pub door_contact: Duration,
    /// Smoke detectors.
    #[serde(with = "humantime_serde")]
    pub smoke_detector: Duration,
    /// Gas detectors.
    #[serde(with = "humantime_serde")]
    pub gas_detector: Duration,
    /// Water-leak sensors.
    #[serde(with = "humantime_serde")]
    pub water_leak: Duration,
    /// Nurse-call panels.
    #[serde(with = "humantime_serde")]
    pub call_panel: Duration,
    /// Beacon receivers.
    #[serde(with = "humantime_serde")]
    pub beacon: Duration,
    /// Blood-pressure cuffs (spot checks).
    #[serde(with = "humantime_serde")]
    pub bp_cuff: Duration,
    /// Oximeters (spot checks).
    #[serde(with = "humantime_serde")]
    pub oximeter: Duration,
    /// Thermometers (spot checks).
    #[serde(with = "humantime_serde")]
    pub thermometer: Duration,
    /// Scales (spot checks).
    #[serde(with = "humantime_serde")]
    pub scale: Duration,
}

const MIN: u64 = 60;
const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

impl Default for ReportIntervals {
    fn default() -> Self {
        let s = Duration::from_secs;
        Self {
            wristband: s(5 * MIN),
            pendant: s(HOUR),
            bed_mat: s(5 * MIN),
            room_sensor: s(15 * MIN),
            door_contact: s(HOUR),
            smoke_detector: s(HOUR),
            gas_detector: s(HOUR),
            water_leak: s(HOUR),
            call_panel: s(HOUR),
            beacon: s(HOUR),
            bp_cuff: s(7 * DAY),
            oximeter: s(7 * DAY),
            thermometer: s(7 * DAY),
            scale: s(7 * DAY),
        }
    }
}

impl ReportIntervals {
    /// The default interval of `model`.
    pub fn of(&self, model: DeviceModel) -> Duration {
        match model {
            DeviceModel::Wristband => self.wristband,
            DeviceModel::Pendant => self.pendant,
            DeviceModel::BedMat => self.bed_mat,
            DeviceModel::RoomSensor => self.room_sensor,
            DeviceModel::DoorContact => self.door_contact,
            DeviceModel::SmokeDetector => self.smoke_detector,
            DeviceModel::GasDetector => self.gas_detector,
            DeviceModel::WaterLeak => self.water_leak,
            DeviceModel::CallPanel => self.call_panel,
            DeviceModel::Beacon => self.beacon,
            DeviceModel::BpCuff => self.bp_cuff,
            DeviceModel::Oximeter => self.oximeter,
            DeviceModel::Thermometer => self.thermometer,
            DeviceModel::Scale => self.scale,
        }
    }
}

/// Per-resident baselines and the anomaly model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnomalyConfig {
    /// Complete days of history a resident needs before anomalies alert (the learning period).
    pub learning_days: u32,
    /// Days of history the baseline keeps (median/MAD over them).
    pub history_days: u32,
    /// Local time the care day closes: a day is the afternoon and evening before it, the night,
    /// and the morning up to it.
    pub day_close: super::window::ClockTime,
    /// A feature is named in the explanation when its robust z-score reaches this.
    pub explain_z: f32,
    /// Without the model (a configured file that does not load), a day is anomalous when any feature reaches this
    /// robust z-score.
    pub fallback_z: f32,
    /// The model file (`pingan-anomaly-svm/1` JSON, models/training/export_json.py); relative
    /// paths resolve against the working directory. When the file does
    /// not exist, the model built into the binary is used.
    pub model: PathBuf,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        Self {
            learning_days: 7,
            history_days: 28,
            // A window's start is a valid ClockTime by construction.
            day_close: LocalWindow::hm((12, 0), (12, 0)).start,
            explain_z: 2.0,
            fallback_z: 4.0,
            model: PathBuf::from("models/anomaly.json"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_table_gives_the_documented_defaults() {
        let c: AnalyticsConfig = toml::from_str("").unwrap();
        assert_eq!(c, AnalyticsConfig::default());
        assert_eq!(c.bed.out_of_bed_limit, Duration::from_secs(1200));
    }

    #[test]
    fn settings_are_read_in_local_time_and_humantime() {
        let c: AnalyticsConfig = toml::from_str(
            r#"
            night.window = { start = "21:30", end = "06:30" }
            bed.out_of_bed_limit = "15m"
            supervision.report_intervals.wristband = "2m"
            "#,
        )
        .unwrap();
        assert_eq!(c.night.window, LocalWindow::hm((21, 30), (6, 30)));
        assert_eq!(c.bed.out_of_bed_limit, Duration::from_secs(900));
        assert_eq!(
            c.supervision.report_intervals.of(DeviceModel::Wristband),
            Duration::from_secs(120)
        );
    }

    #[test]
    fn typos_are_rejected() {
        let err = toml::from_str::<AnalyticsConfig>("bed.out_of_bed_limt = \"15m\"").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
        let err = toml::from_str::<AnalyticsConfig>(
            "night.window = { start = \"10pm\", end = \"06:00\" }",
        )
        .unwrap_err();
        assert!(err.to_string().contains("22:00"), "{err}");
    }
}
