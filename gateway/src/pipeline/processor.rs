//! Normalization and analytics: attach a reading's resident and location, run the rules, turn
//! driver health into device-offline events. Pure: the caller logs and counts.

use std::collections::HashSet;
use std::sync::Arc;

use pingan_drivers::{DeviceId, HealthState, Reading, Timestamp};

use super::site::Site;
use crate::alert::{AlertKind, Event, Priority, Subject};
use crate::analytics::{Analytics, Context, Finding, Normalized};
use crate::config::Config;
use crate::facility::{Binding, Facility};
use crate::shared::Shared;

/// Normalization and analytics for one site.
#[derive(Debug)]
pub struct Processor {
    config: Arc<Config>,
    /// Read anew for each reading and tick: care-record changes apply at once.
    facility: Shared<Facility>,
    analytics: Analytics,
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
    /// A processor of `site` running `analytics`.
    pub fn new(site: &Site, analytics: Analytics) -> Self {
        Self {
            config: site.config.clone(),
            facility: site.facility.clone(),
            analytics,
            unknown: HashSet::new(),
        }
    }

    /// What the facility knows about a device.
    pub fn binding(&self, device: &DeviceId) -> Option<Arc<Binding>> {
        self.facility.get().shared_device(device).cloned()
    }

    /// Normalizes one reading and runs analytics on it.
    pub fn on_reading(&mut self, reading: Reading) -> Processed {
        let facility: Arc<Facility> = self.facility.get();
        let Some(binding) = facility.shared_device(&reading.device).cloned() else {
            let first = self.unknown.insert(reading.device.clone());
            return Processed::Unknown { first };
        };
        let n = Normalized { reading, binding };
        // Field borrows, disjoint from the rules' mutable borrow.
        let ctx = Context {
            facility: &facility,
            timezone: self.config.timezone(),
            config: &self.config.analytics,
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
        let facility = self.facility.get();
        let Some(binding) = facility.device(device) else {
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
        let facility = self.facility.get();
        let ctx = Context {
            facility: &facility,
            timezone: self.config.timezone(),
            config: &self.config.analytics,
        };
        self.analytics.on_tick(now, &ctx)
    }
}
