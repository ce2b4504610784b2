//! The synchronous heart of the pipeline, shared by the live gateway and `pingan replay`:
//! normalize a reading (attach resident and location), run analytics, turn driver health into
//! device-offline events.

use std::collections::HashSet;

use pingan_drivers::{DeviceId, HealthState, Reading, Timestamp};

use crate::alert::{AlertKind, Event, Priority, Subject};
use crate::analytics::{Analytics, AnalyticsConfig, Context, Finding, Normalized};
use crate::config::Config;
use crate::facility::Facility;

/// Normalization and analytics. Pure apart from logging.
#[derive(Debug)]
pub struct Processor {
    facility: Facility,
    analytics: Analytics,
    config: AnalyticsConfig,
    timezone: chrono_tz::Tz,
    unknown: HashSet<DeviceId>,
}

/// What became of one reading.
#[derive(Debug)]
pub enum Processed {
    /// A configured device: the normalized reading and what analytics concluded.
    Known(Box<Normalized>, Vec<Finding>),
    /// A device not in the config; `first` is true the first time it is seen.
    Unknown { first: bool },
}

impl Processor {
    /// A processor for a validated config.
    pub fn new(config: &Config) -> Self {
        Self::with_analytics(config, Analytics::for_site(config))
    }

    /// A processor running the given analytics (replays and tests choose the model).
    pub fn with_analytics(config: &Config, analytics: Analytics) -> Self {
        Self {
            facility: Facility::from_config(config),
            analytics,
            config: config.analytics.clone(),
            timezone: config.timezone(),
            unknown: HashSet::new(),
        }
    }

    /// The facility.
    pub fn facility(&self) -> &Facility {
        &self.facility
    }

    /// Normalizes one reading and runs analytics on it.
    pub fn on_reading(&mut self, reading: Reading) -> Processed {
        let Some(binding) = self.facility.device(&reading.device).cloned() else {
            let first = self.unknown.insert(reading.device.clone());
            return Processed::Unknown { first };
        };
        let n = Normalized { reading, binding };
        let ctx = Context {
            facility: &self.facility,
            timezone: self.timezone,
            config: &self.config,
        };
        let findings = self.analytics.on_reading(&n, &ctx);
        Processed::Known(Box::new(n), findings)
    }

    /// A driver's health report: offline raises device_offline, online clears it.
    pub fn on_health(
        &mut self,
        device: &DeviceId,
        state: HealthState,
        detail: &str,
        at: Timestamp,
    ) -> Vec<Finding> {
        let Some(binding) = self.facility.device(device) else {
            return Vec::new();
        };
        let subject = Subject::Device(device.clone());
        let ev = match state {
            HealthState::Offline => {
                let mut ev = Event::raise(AlertKind::DeviceOffline, subject, Priority::Medium, at);
                ev.location = binding.location.clone();
                ev.device = Some(device.clone());
                ev.detail = format!("{device} offline: {detail}");
                ev
            }
            HealthState::Online => Event::clear(AlertKind::DeviceOffline, subject, at),
            HealthState::Degraded => return Vec::new(),
        };
        vec![Finding::Event(ev)]
    }

    /// Advances analytics timers.
    pub fn on_tick(&mut self, now: Timestamp) -> Vec<Finding> {
        let ctx = Context {
            facility: &self.facility,
            timezone: self.timezone,
            config: &self.config,
        };
        self.analytics.on_tick(now, &ctx)
    }
}
