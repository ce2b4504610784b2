//! Device supervision: every configured device must report within its expected interval (the
//! device's `report_interval`, else the default for its model); a device silent for longer
//! raises `device_offline` for the device, repeated every `supervision.repeat`, and clears on its
//! next reading.
//!
//! Wearables and triggers (the devices a resident or a room relies on to call for help) are
//! supervised at least every 24 h whatever the configuration says, as EN 50134-2 requires of
//! social-alarm triggers; their offline alerts are Medium, other devices' Low. A device that
//! never reported counts from the rule's first tick.

use std::collections::HashMap;
use std::time::Duration;

use pingan_drivers::{DeviceId, Timestamp};
use serde_json::json;

use super::emit::{self, Pacer, Place};
use super::{Context, Finding, Normalized, Rule};
use crate::alert::{AlertKind, Priority, Subject};
use crate::config::{Config, DeviceModel};

/// EN 50134-2: triggers must be supervised at least once every 24 h.
pub const TRIGGER_SUPERVISION: Duration = Duration::from_secs(24 * 3600);
/// How often the silences are checked.
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Wearables and triggers: life-safety devices under EN 50134-2 supervision.
pub fn is_trigger(model: DeviceModel) -> bool {
    matches!(
        model,
        DeviceModel::Wristband
            | DeviceModel::Pendant
            | DeviceModel::CallPanel
            | DeviceModel::BedMat
            | DeviceModel::DoorContact
            | DeviceModel::SmokeDetector
            | DeviceModel::GasDetector
            | DeviceModel::WaterLeak
    )
}

/// Device supervision.
#[derive(Debug, Default)]
pub(crate) struct SupervisionRule {
    /// `report_interval` of devices that set one.
    overrides: HashMap<DeviceId, Duration>,
    last_seen: HashMap<DeviceId, Timestamp>,
    offline: HashMap<DeviceId, Pacer>,
    started: Option<Timestamp>,
    next_check: Option<Timestamp>,
}

impl SupervisionRule {
    /// Supervision with the per-device intervals of `config`.
    pub(crate) fn for_site(config: &Config) -> Self {
        Self {
            overrides: config
                .devices
                .iter()
                .filter_map(|d| Some((DeviceId::new(&d.id), d.report_interval?)))
                .collect(),
            ..Self::default()
        }
    }

    /// The longest silence allowed for `device` of `model`.
    fn expected(&self, device: &DeviceId, model: DeviceModel, ctx: &Context<'_>) -> Duration {
        let configured = self
            .overrides
            .get(device)
            .copied()
            .unwrap_or_else(|| ctx.config.supervision.report_intervals.of(model));
        if is_trigger(model) {
            configured.min(TRIGGER_SUPERVISION)
        } else {
            configured
        }
    }
}

impl Rule for SupervisionRule {
    fn on_reading(&mut self, n: &Normalized, _ctx: &Context<'_>) -> Vec<Finding> {
        let device = &n.reading.device;
        let at = n.reading.at;
        let last = self.last_seen.entry(device.clone()).or_insert(at);
        *last = (*last).max(at);
        if self.offline.remove(device).is_none() {
            return Vec::new();
        }
        vec![Finding::Event(emit::clear(
            AlertKind::DeviceOffline,
            Subject::Device(device.clone()),
            at,
            &n.binding.location,
            format!("{device} reports again"),
        ))]
    }

    fn on_tick(&mut self, now: Timestamp, ctx: &Context<'_>) -> Vec<Finding> {
        let started = *self.started.get_or_insert(now);
        if self.next_check.is_some_and(|t| now < t) {
            return Vec::new();
        }
        self.next_check = Some(now.plus(CHECK_EVERY));
        let mut bindings: Vec<_> = ctx.facility.devices().collect();
        // Deterministic order of events (the facility is a hash map).
        bindings.sort_by(|a, b| a.device.cmp(&b.device));
        let mut out = Vec::new();
        for b in bindings {
            let last = self.last_seen.get(&b.device).copied().unwrap_or(started);
            let silent = now.since(last);
            let expected = self.expected(&b.device, b.model, ctx);
            if silent <= expected {
                continue;
            }
            let first = !self.offline.contains_key(&b.device);
            let pacer = self.offline.entry(b.device.clone()).or_default();
            if !pacer.due(now, first, ctx.config.supervision.repeat) {
                continue;
            }
            let priority = if is_trigger(b.model) {
                Priority::Medium
            } else {
                Priority::Low
            };
            out.push(Finding::Event(emit::raise(
                (
                    AlertKind::DeviceOffline,
                    Subject::Device(b.device.clone()),
                    priority,
                ),
                now,
                Place {
                    location: &b.location,
                    device: Some(&b.device),
                },
                format!(
                    "{} silent for {} s (expected every {} s)",
                    b.device,
                    silent.as_secs(),
                    expected.as_secs()
                ),
                json!({
                    "last_seen": self.last_seen.get(&b.device),
                    "silent_s": silent.as_secs(),
                    "expected_interval_s": expected.as_secs(),
                    "resident": b.resident,
                }),
            )));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::testkit::{Kit, local, secs, site_config, summary};
    use pingan_drivers::Measurement;

    fn device(id: &str) -> Subject {
        Subject::Device(DeviceId::new(id))
    }

    #[test]
    fn a_silent_wristband_goes_offline_after_its_interval_and_clears_when_it_reports() {
        let kit = Kit::new();
        let mut rule = SupervisionRule::for_site(&site_config());
        let ctx = kit.ctx();
        let t = local(10, 0);
        let hr = || Measurement::HeartRate { bpm: 70.0 };
        rule.on_tick(t, &ctx);
        // Every device but w2 keeps reporting.
        let others: Vec<String> = kit
            .facility
            .devices()
            .map(|b| b.device.to_string())
            .filter(|d| d != "w2")
            .collect();
        let mut offline = Vec::new();
        for s in (0..=200).step_by(5) {
            let now = secs(t, s);
            for d in &others {
                rule.on_reading(&kit.reading(d, now, hr()), &ctx);
            }
            if s == 0 {
                rule.on_reading(&kit.reading("w2", now, hr()), &ctx);
            }
            offline.extend(summary(rule.on_tick(now, &ctx)).into_iter().map(|e| (s, e)));
        }
        // w2 sets report_interval = "2m": offline once it has been silent more than 120 s.
        assert_eq!(
            offline,
            vec![(
                125,
                (
                    AlertKind::DeviceOffline,
                    device("w2"),
                    Priority::Medium,
                    true
                )
            )]
        );
        let out = rule.on_reading(&kit.reading("w2", secs(t, 300), hr()), &ctx);
        assert_eq!(
            summary(out),
            vec![(AlertKind::DeviceOffline, device("w2"), Priority::Low, false)]
        );
    }

    #[test]
    fn triggers_are_supervised_at_least_daily_whatever_the_config() {
        let mut kit = Kit::new();
        kit.config.supervision.report_intervals.smoke_detector = Duration::from_secs(7 * 86_400);
        kit.config.supervision.report_intervals.bp_cuff = Duration::from_secs(7 * 86_400);
        let rule = SupervisionRule::default();
        let ctx = kit.ctx();
        assert_eq!(
            rule.expected(
                &DeviceId::new("smoke-101"),
                DeviceModel::SmokeDetector,
                &ctx
            ),
            TRIGGER_SUPERVISION
        );
        assert_eq!(
            rule.expected(&DeviceId::new("cuff"), DeviceModel::BpCuff, &ctx),
            Duration::from_secs(7 * 86_400)
        );
    }

    #[test]
    fn devices_that_never_report_count_from_the_first_tick_and_repeat_slowly() {
        let kit = Kit::new();
        let mut rule = SupervisionRule::default();
        let ctx = kit.ctx();
        let t = local(10, 0);
        let mut raised = Vec::new();
        for s in (0..=3600).step_by(5) {
            for e in summary(rule.on_tick(secs(t, s), &ctx)) {
                if e.1 == device("w1") {
                    raised.push(s);
                }
            }
        }
        // Default wristband interval 5 min, then every 10 min.
        assert_eq!(raised, vec![305, 905, 1505, 2105, 2705, 3305]);
    }
}
