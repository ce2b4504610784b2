//! Inactivity of residents who live alone (the 巡访 visit check): no motion, door or bed event
//! for `inactivity.after` of daytime raises `inactivity` (Medium: someone should check on them);
//! the next sign of life clears it.
//!
//! Signs of life: a wearable accelerometer batch that moves (standard deviation of |a| at or
//! above `motion_threshold_g`), a change of bed occupancy, a door of their room opening or
//! closing, a button press. Only time inside the daytime window counts, so a night's sleep does
//! not raise the check. Observation starts at the first tick: the rule never assumes activity it
//! did not see before the gateway started.

use std::collections::HashMap;
use std::time::Duration;

use pingan_drivers::{DeviceId, Measurement, Timestamp, sim::magnitude};
use serde_json::json;

use super::emit::{self, Pacer, Place};
use super::{Context, Finding, Normalized, Rule};
use crate::alert::{AlertKind, Priority, Subject};
use crate::config::CareFlag;

/// How often the daytime overlap is recomputed.
const CHECK_EVERY: Duration = Duration::from_secs(30);
/// While inactive, the event repeats at most this often.
const REPEAT: Duration = Duration::from_secs(15 * 60);
/// Longest look-back when counting daytime (longer silences are far past any threshold).
const MAX_DAYS: u32 = 7;

#[derive(Debug)]
struct Watch {
    last_activity: Timestamp,
    last_kind: &'static str,
    alerted: Option<Pacer>,
}

/// Inactivity checks.
#[derive(Debug, Default)]
pub(crate) struct InactivityRule {
    watches: HashMap<String, Watch>,
    /// Last state of each door and bed mat: only changes are events.
    states: HashMap<DeviceId, bool>,
    next_check: Option<Timestamp>,
}

/// The standard deviation of the acceleration magnitude of a batch, in g.
pub(crate) fn motion_sd(samples: &[[f32; 3]]) -> f32 {
    if samples.len() < 2 {
        return 0.0;
    }
    let mags: Vec<f32> = samples.iter().map(|s| magnitude(*s)).collect();
    let n = mags.len() as f32;
    let mean = mags.iter().sum::<f32>() / n;
    (mags.iter().map(|m| (m - mean).powi(2)).sum::<f32>() / n).sqrt()
}

impl InactivityRule {
    /// What sign of life a reading is, if any.
    fn activity(&mut self, n: &Normalized, threshold: f32) -> Option<&'static str> {
        let device = &n.reading.device;
        match &n.reading.measurement {
            Measurement::Motion { samples, .. } => {
                (motion_sd(samples) >= threshold).then_some("motion")
            }
            Measurement::Button { .. } => Some("button"),
            Measurement::Door { open } => {
                (self.states.insert(device.clone(), *open) != Some(*open)).then_some("door")
            }
            Measurement::BedOccupancy { in_bed, .. } => {
                (self.states.insert(device.clone(), *in_bed) != Some(*in_bed)).then_some("bed")
            }
            _ => None,
        }
    }
}

impl Rule for InactivityRule {
    fn on_reading(&mut self, n: &Normalized, ctx: &Context<'_>) -> Vec<Finding> {
        // Wrist batches are the bulk of the traffic: skip the maths for residents not watched.
        if matches!(n.reading.measurement, Measurement::Motion { .. })
            && !n.binding.resident.as_deref().is_some_and(|r| {
                ctx.facility
                    .resident(r)
                    .is_some_and(|i| i.has(CareFlag::LivesAlone))
            })
        {
            return Vec::new();
        }
        let Some(kind) = self.activity(n, ctx.config.inactivity.motion_threshold_g) else {
            return Vec::new();
        };
        let at = n.reading.at;
        // A wearable or bed mat is the resident's; a door counts for everyone living in its room.
        let residents: Vec<String> = match (&n.binding.resident, &n.binding.location.room) {
            (Some(r), _) => vec![r.clone()],
            (None, Some(room)) => ctx
                .facility
                .residents()
                .filter(|r| r.location.room.as_deref() == Some(room.as_str()))
                .map(|r| r.id.clone())
                .collect(),
            (None, None) => Vec::new(),
        };
        let mut out = Vec::new();
        for r in residents {
            let lives_alone = ctx
                .facility
                .resident(&r)
                .is_some_and(|i| i.has(CareFlag::LivesAlone));
            if !lives_alone {
                continue;
            }
            let w = self.watches.entry(r.clone()).or_insert(Watch {
                last_activity: at,
                last_kind: kind,
                alerted: None,
            });
            if at >= w.last_activity {
                w.last_activity = at;
                w.last_kind = kind;
            }
            if w.alerted.take().is_some() {
                let location = ctx
                    .facility
                    .resident(&r)
                    .map(|i| i.location.clone())
                    .unwrap_or_default();
                out.push(Finding::Event(emit::clear(
                    AlertKind::Inactivity,
                    Subject::Resident(r),
                    at,
                    &location,
                    format!("{kind} seen"),
                )));
            }
        }
        out
    }

    fn on_tick(&mut self, now: Timestamp, ctx: &Context<'_>) -> Vec<Finding> {
        if self.next_check.is_some_and(|t| now < t) {
            return Vec::new();
        }
        self.next_check = Some(now.plus(CHECK_EVERY));
        let cfg = &ctx.config.inactivity;
        let mut out = Vec::new();
        for info in ctx.facility.residents() {
            if !info.has(CareFlag::LivesAlone) {
                continue;
            }
            // Someone with no device to notice them cannot be judged inactive.
            let sensed = ctx.facility.devices().any(|d| {
                d.resident.as_deref() == Some(info.id.as_str())
                    || (d.resident.is_none()
                        && d.location.room.is_some()
                        && d.location.room == info.location.room)
            });
            if !sensed {
                continue;
            }
            let w = self.watches.entry(info.id.clone()).or_insert(Watch {
                last_activity: now,
                last_kind: "start of observation",
                alerted: None,
            });
            let idle_ms = cfg
                .daytime
                .overlap_ms(w.last_activity, now, ctx.timezone, MAX_DAYS);
            let limit_ms = i64::try_from(cfg.after.as_millis()).unwrap_or(i64::MAX);
            if idle_ms < limit_ms {
                continue;
            }
            let first = w.alerted.is_none();
            if !w
                .alerted
                .get_or_insert_with(Pacer::default)
                .due(now, first, REPEAT)
            {
                continue;
            }
            let idle_h = idle_ms as f64 / 3_600_000.0;
            out.push(Finding::Event(emit::raise(
                (
                    AlertKind::Inactivity,
                    Subject::Resident(info.id.clone()),
                    Priority::Medium,
                ),
                now,
                Place {
                    location: &info.location,
                    device: None,
                },
                format!(
                    "no motion, door or bed event for {idle_h:.1} daytime hours (last: {})",
                    w.last_kind
                ),
                json!({
                    "last_activity_at": w.last_activity,
                    "last_activity": w.last_kind,
                    "inactive_daytime_hours": (idle_h * 10.0).round() / 10.0,
                }),
            )));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::testkit::{Kit, local, resident, secs, summary};

    fn still() -> Measurement {
        Measurement::Motion {
            samples: vec![[0.05, 0.1, 0.99]; 25],
            hz: 50.0,
        }
    }

    fn walking() -> Measurement {
        let samples = (0..25)
            .map(|i| [0.05, 0.1, 0.99 + 0.25 * (i as f32 * 0.2).sin()])
            .collect();
        Measurement::Motion { samples, hz: 50.0 }
    }

    #[test]
    fn motion_sd_separates_walking_from_stillness() {
        let Measurement::Motion { samples, .. } = walking() else {
            unreachable!()
        };
        assert!(motion_sd(&samples) > 0.1);
        let Measurement::Motion { samples, .. } = still() else {
            unreachable!()
        };
        assert!(motion_sd(&samples) < 0.01);
        assert_eq!(motion_sd(&[]), 0.0);
    }

    /// Ticks every 30 s from `start` for `hours`, feeding readings at (offset s, device, m).
    fn run(
        kit: &Kit,
        start: Timestamp,
        hours: i64,
        readings: &[(i64, &str, Measurement)],
    ) -> Vec<(i64, (AlertKind, Subject, Priority, bool))> {
        let mut rule = InactivityRule::default();
        let mut out = Vec::new();
        let mut s = 0;
        while s <= hours * 3600 {
            let now = secs(start, s);
            for (_, dev, m) in readings.iter().filter(|(t, _, _)| *t == s) {
                let f = rule.on_reading(&kit.reading(dev, now, m.clone()), &kit.ctx());
                out.extend(summary(f).into_iter().map(|e| (s, e)));
            }
            out.extend(
                summary(rule.on_tick(now, &kit.ctx()))
                    .into_iter()
                    .map(|e| (s, e)),
            );
            s += 30;
        }
        out
    }

    #[test]
    fn four_daytime_hours_without_a_sign_of_life_raise_the_check() {
        let kit = Kit::new();
        // From 08:00, only still wrist batches: the alert comes at 12:00.
        let readings: Vec<_> = (0..400).map(|i| (i * 30, "w2", still())).collect();
        let out = run(&kit, local(8, 0), 5, &readings);
        let (at, first) = out.first().unwrap();
        assert_eq!(*at, 4 * 3600);
        assert_eq!(
            *first,
            (
                AlertKind::Inactivity,
                resident("R2"),
                Priority::Medium,
                true
            )
        );
        // Repeats every 15 minutes, not every check.
        assert_eq!(out.len(), 5, "{out:?}");
    }

    #[test]
    fn the_night_does_not_count_and_a_door_clears() {
        let kit = Kit::new();
        // Last activity 20:00; 21:00–07:00 is not daytime: at 07:00 only 1 h counts, so the
        // alert comes at 10:00 — unless the room door opens at 09:00.
        let out = run(&kit, local(20, 0), 15, &[(0, "w2", walking())]);
        assert_eq!(out.first().map(|(s, _)| *s), Some(14 * 3600));
        let out = run(
            &kit,
            local(20, 0),
            15,
            &[
                (0, "w2", walking()),
                (13 * 3600, "door-102", Measurement::Door { open: true }),
            ],
        );
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn a_sign_of_life_clears_the_alert() {
        let kit = Kit::new();
        let out = run(&kit, local(8, 0), 5, &[(4 * 3600 + 600, "w2", walking())]);
        assert_eq!(
            out.iter().map(|(_, e)| e.3).collect::<Vec<_>>(),
            vec![true, false]
        );
    }

    #[test]
    fn residents_not_living_alone_are_not_checked() {
        let kit = Kit::new();
        let out = run(&kit, local(8, 0), 6, &[]);
        assert!(out.iter().all(|(_, e)| e.1 == resident("R2")), "{out:?}");
    }
}
