//! Analytics: pure rules that turn normalized readings into [`Finding`]s for the alert engine.
//!
//! Every rule is a state machine without I/O: readings and clock ticks go in with the time as a
//! value, findings come out. [`Analytics`] runs them all; the pipeline calls it.

mod anomaly;
mod baseline;
mod battery;
mod bed;
mod emit;
mod environment;
mod hazards;
mod inactivity;
pub mod news2;
mod sos;
pub mod supervision;
#[cfg(test)]
pub(crate) mod testkit;
mod vitals;
mod wandering;

use pingan_drivers::{Reading, Timestamp};
use pingan_models::anomaly::{AnomalyError, AnomalyModel};

pub use crate::config::analytics::{
    AnalyticsConfig, AnomalyConfig, BatteryConfig, BedConfig, EnvironmentConfig, InactivityConfig,
    News2Config, News2Freshness, NightConfig, ReportIntervals, SupervisionConfig, WanderingConfig,
};

use crate::alert::{Event, Subject};
use crate::config::Config;
use crate::facility::{Binding, Facility};

/// A reading with what the facility knows about its device.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// The reading as the driver produced it.
    pub reading: Reading,
    /// The device's binding (resident, location), shared with the facility.
    pub binding: std::sync::Arc<Binding>,
}

/// What analytics conclude.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// A condition is present or has cleared.
    Event(Event),
    /// The resident pressed cancel: open SOS/fall alerts of `subject` inside their cancel window
    /// resolve.
    Cancel { subject: Subject, at: Timestamp },
}

/// What rules may look at besides the reading.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Residents, rooms, devices.
    pub facility: &'a Facility,
    /// The site's time zone (night windows are local).
    pub timezone: chrono_tz::Tz,
    /// Rule settings.
    pub config: &'a AnalyticsConfig,
}

/// One analytics rule.
pub trait Rule: std::fmt::Debug + Send {
    /// Looks at one reading.
    fn on_reading(&mut self, reading: &Normalized, ctx: &Context<'_>) -> Vec<Finding>;
    /// Time passes (called about once a second with the current time).
    fn on_tick(&mut self, _now: Timestamp, _ctx: &Context<'_>) -> Vec<Finding> {
        Vec::new()
    }
}

/// All rules of the gateway, run in order.
#[derive(Debug)]
pub struct Analytics {
    rules: Vec<Box<dyn Rule>>,
}

impl Analytics {
    /// The rule set for a site: device supervision uses each device's `report_interval`; the
    /// anomaly model is loaded from `analytics.anomaly.model` (relative to the working
    /// directory) when a resident's wearable or bed mat is configured, or the anomaly rule runs
    /// on baselines alone and says so once.
    pub fn for_site(config: &Config) -> Self {
        // A configured file wins; otherwise the model built into the binary. A site whose
        // devices feed no daily pattern never loads it (issue 14).
        let path = &config.analytics.anomaly.model;
        let model = if !config.needs_anomaly_model() {
            Err(AnomalyError::NotNeeded)
        } else if path.exists() {
            AnomalyModel::load(path)
        } else {
            AnomalyModel::embedded()
        };
        Self::for_site_with_model(config, model)
    }

    /// [`Analytics::for_site`] with an anomaly model loaded by the caller (or the reason there
    /// is none).
    pub fn for_site_with_model(config: &Config, model: Result<AnomalyModel, AnomalyError>) -> Self {
        Self::build(supervision::SupervisionRule::for_site(config), model)
    }

    fn build(
        supervision: supervision::SupervisionRule,
        model: Result<AnomalyModel, AnomalyError>,
    ) -> Self {
        Self {
            rules: vec![
                Box::new(sos::SosRule),
                Box::new(hazards::HazardRule::default()),
                Box::new(vitals::VitalsRule::default()),
                Box::new(bed::BedRule::default()),
                Box::new(wandering::WanderingRule::default()),
                Box::new(inactivity::InactivityRule::default()),
                Box::new(environment::EnvironmentRule::default()),
                Box::new(supervision),
                Box::new(battery::BatteryRule::default()),
                Box::new(anomaly::AnomalyRule::new(model)),
            ],
        }
    }

    /// Runs every rule on one reading.
    pub fn on_reading(&mut self, reading: &Normalized, ctx: &Context<'_>) -> Vec<Finding> {
        self.rules
            .iter_mut()
            .flat_map(|r| r.on_reading(reading, ctx))
            .collect()
    }

    /// Advances every rule's timers.
    pub fn on_tick(&mut self, now: Timestamp, ctx: &Context<'_>) -> Vec<Finding> {
        self.rules
            .iter_mut()
            .flat_map(|r| r.on_tick(now, ctx))
            .collect()
    }
}
