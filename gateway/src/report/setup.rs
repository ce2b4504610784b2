//! What reports need of the site config, and the version of their payloads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::alert::{AlertKind, Locale, Policies};
use crate::config::window::Timezone;
use crate::config::{Config, Shifts};

/// Payload version of reports and handovers (`"v"`).
pub const VERSION: u32 = 1;

/// The facts of the site config a report needs. Small and serializable: the gateway records it
/// in the store at every start, so `pingan report` with the gateway stopped and only the data
/// directory computes with the settings the gateway ran with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSetup {
    /// The site's time zone: shifts are local time.
    pub timezone: Timezone,
    /// The shifts.
    pub shifts: Shifts,
    /// Per medical alert kind, the escalation levels (1 = the first escalation) whose contacts
    /// include a green-channel (hospital) contact: reaching one is a referral.
    #[serde(default)]
    pub green_levels: BTreeMap<AlertKind, Vec<u32>>,
    /// A battery at or under this percentage is listed in the handover
    /// (`analytics.battery.low_percent`).
    #[serde(default = "default_low_battery")]
    pub low_battery_percent: f32,
    /// The site's language: the default of labels (CSV, `pingan report`).
    #[serde(default)]
    pub locale: Locale,
}

fn default_low_battery() -> f32 {
    25.0
}

impl ReportSetup {
    /// The setup of `config`.
    pub fn from_config(config: &Config) -> Self {
        Self {
            low_battery_percent: config.analytics.battery.low_percent,
            locale: config.site.locale,
            ..Self::new(
                config.site.timezone,
                config.shifts.clone(),
                &Policies::from_config(config),
            )
        }
    }

    /// A setup from its parts: the green levels are read off `policies`.
    pub fn new(timezone: Timezone, shifts: Shifts, policies: &Policies) -> Self {
        let green = policies.green_channel();
        let mut green_levels = BTreeMap::new();
        for kind in AlertKind::ALL {
            let levels: Vec<u32> = policies
                .levels(kind)
                .iter()
                .enumerate()
                .skip(1)
                .filter(|(_, l)| l.contacts.iter().any(|c| green.contains(c)))
                .map(|(i, _)| i as u32)
                .collect();
            if !levels.is_empty() {
                green_levels.insert(kind, levels);
            }
        }
        Self {
            timezone,
            shifts,
            green_levels,
            low_battery_percent: default_low_battery(),
            locale: Locale::default(),
        }
    }

    /// The time zone.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.0
    }

    /// Whether escalating an alert of `kind` to `level` reaches a hospital.
    pub fn is_green_level(&self, kind: AlertKind, level: u32) -> bool {
        self.green_levels
            .get(&kind)
            .is_some_and(|l| l.contains(&level))
    }
}

impl Default for ReportSetup {
    fn default() -> Self {
        Self::new(Timezone::default(), Shifts::default(), &Policies::default())
    }
}
