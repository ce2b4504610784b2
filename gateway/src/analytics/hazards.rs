//! Smoke, gas and water leaks: any detector in alarm raises a High alert for the whole site
//! (`Subject::Site`), so everyone is told at once; the location names the detector's room. The
//! condition clears only when every detector of that kind is quiet again.

use std::collections::{BTreeSet, HashMap};

use pingan_drivers::{DeviceId, Measurement};
use serde_json::json;

use super::emit::{self, Place};
use super::{Context, Finding, Normalized, Rule};
use crate::alert::{AlertKind, Location, Priority, Subject};

/// Fire, gas and flood detectors.
#[derive(Debug, Default)]
pub(crate) struct HazardRule {
    alarming: HashMap<AlertKind, BTreeSet<DeviceId>>,
}

fn hazard(m: &Measurement) -> Option<(AlertKind, bool)> {
    match m {
        Measurement::Smoke { alarm } => Some((AlertKind::Smoke, *alarm)),
        Measurement::Gas { alarm, .. } => Some((AlertKind::Gas, *alarm)),
        Measurement::WaterLeak { wet } => Some((AlertKind::WaterLeak, *wet)),
        _ => None,
    }
}

fn room_text(l: &Location) -> String {
    match (&l.floor, &l.room) {
        (Some(f), Some(r)) => format!("{f} room {r}"),
        (None, Some(r)) => format!("room {r}"),
        _ => "unknown location".to_owned(),
    }
}

impl Rule for HazardRule {
    fn on_reading(&mut self, n: &Normalized, _ctx: &Context<'_>) -> Vec<Finding> {
        let Some((kind, alarm)) = hazard(&n.reading.measurement) else {
            return Vec::new();
        };
        let device = &n.reading.device;
        let set = self.alarming.entry(kind).or_default();
        let at = n.reading.at;
        if alarm {
            set.insert(device.clone());
            // Detectors repeat their alarm state at their own slow rate: raise on every report.
            let mut evidence = json!({"detectors_in_alarm": set.iter().collect::<Vec<_>>()});
            if let Measurement::Gas { ppm: Some(ppm), .. } = n.reading.measurement {
                evidence["ppm"] = json!(ppm);
            }
            vec![Finding::Event(emit::raise(
                (kind, Subject::Site, Priority::High),
                at,
                Place {
                    location: &n.binding.location,
                    device: Some(device),
                },
                format!(
                    "{} at {} ({device})",
                    kind.label(crate::alert::Locale::En),
                    room_text(&n.binding.location)
                ),
                evidence,
            ))]
        } else if set.remove(device) && set.is_empty() {
            vec![Finding::Event(emit::clear(
                kind,
                Subject::Site,
                at,
                &n.binding.location,
                format!("{device} back to normal; no detector in alarm"),
            ))]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::testkit::{Kit, local, secs, summary};

    #[test]
    fn smoke_raises_a_site_wide_high_alert_and_clears_when_all_detectors_are_quiet() {
        let kit = Kit::new();
        let mut rule = HazardRule::default();
        let ctx = kit.ctx();
        let t = local(3, 0);
        let smoke = |alarm| Measurement::Smoke { alarm };
        let out = rule.on_reading(&kit.reading("smoke-101", t, smoke(true)), &ctx);
        let ev = crate::analytics::testkit::events(out).pop().unwrap();
        assert_eq!(
            (ev.kind, ev.subject, ev.priority),
            (AlertKind::Smoke, Subject::Site, Priority::High)
        );
        assert_eq!(ev.location.room.as_deref(), Some("101"));
        rule.on_reading(&kit.reading("smoke-102", secs(t, 5), smoke(true)), &ctx);
        assert!(
            rule.on_reading(&kit.reading("smoke-101", secs(t, 60), smoke(false)), &ctx)
                .is_empty()
        );
        let out = rule.on_reading(&kit.reading("smoke-102", secs(t, 90), smoke(false)), &ctx);
        assert_eq!(
            summary(out),
            vec![(AlertKind::Smoke, Subject::Site, Priority::Low, false)]
        );
    }

    #[test]
    fn a_quiet_detector_reporting_normally_raises_nothing() {
        let kit = Kit::new();
        let mut rule = HazardRule::default();
        let out = rule.on_reading(
            &kit.reading(
                "smoke-101",
                local(3, 0),
                Measurement::Smoke { alarm: false },
            ),
            &kit.ctx(),
        );
        assert!(out.is_empty());
    }
}
