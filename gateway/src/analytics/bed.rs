//! Bed sensors at night: a `bed_exit_watch` resident leaving the bed raises `bed_exit` within
//! seconds (after `bed.exit_confirm`, so turning over on the mat edge does not count); any
//! resident with a bed mat who stays out longer than `bed.out_of_bed_limit` raises
//! `out_of_bed_too_long`. Both clear when the mat feels the resident again.
//!
//! Only exits that start inside the night window count: a resident who got up at 21:00 is up,
//! not out of bed at night.

use std::collections::HashMap;
use std::time::Duration;

use pingan_drivers::{DeviceId, Measurement, Timestamp};
use serde_json::json;

use super::emit::{self, Pacer, Place};
use super::{Context, Finding, Normalized, Rule};
use crate::alert::{AlertKind, Location, Priority, Subject};
use crate::config::CareFlag;

/// Out-of-bed events repeat at most this often while the resident stays out.
const REPEAT: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Out {
    since: Timestamp,
    at_night: bool,
    exit: Option<Pacer>,
    too_long: Option<Pacer>,
}

#[derive(Debug, Default)]
struct Bed {
    in_bed: Option<bool>,
    out: Option<Out>,
    device: Option<DeviceId>,
    location: Location,
}

/// Bed exit at night and out of bed too long.
#[derive(Debug, Default)]
pub(crate) struct BedRule {
    residents: HashMap<String, Bed>,
}

impl Rule for BedRule {
    fn on_reading(&mut self, n: &Normalized, ctx: &Context<'_>) -> Vec<Finding> {
        let Measurement::BedOccupancy { in_bed, .. } = n.reading.measurement else {
            return Vec::new();
        };
        let Some(resident) = &n.binding.resident else {
            return Vec::new();
        };
        let at = n.reading.at;
        // No allocation per reading: the resident's entry and location are copied only when new.
        if !self.residents.contains_key(resident) {
            self.residents.insert(resident.clone(), Default::default());
        }
        let Some(bed) = self.residents.get_mut(resident) else {
            return Vec::new();
        };
        bed.device = Some(n.reading.device.clone());
        if bed.location != n.binding.location {
            bed.location = n.binding.location.clone();
        }
        let was = bed.in_bed.replace(in_bed);
        let mut out = Vec::new();
        match (was, in_bed) {
            (Some(true), false) => {
                bed.out = Some(Out {
                    since: at,
                    at_night: ctx.config.night.window.contains(at, ctx.timezone),
                    exit: None,
                    too_long: None,
                });
            }
            (_, true) => {
                if let Some(o) = bed.out.take() {
                    let subject = Subject::Resident(resident.clone());
                    let detail = format!("back in bed after {} s", at.since(o.since).as_secs());
                    if o.exit.is_some() {
                        out.push(Finding::Event(emit::clear(
                            AlertKind::BedExit,
                            subject.clone(),
                            at,
                            &bed.location,
                            detail.clone(),
                        )));
                    }
                    if o.too_long.is_some() {
                        out.push(Finding::Event(emit::clear(
                            AlertKind::OutOfBedTooLong,
                            subject,
                            at,
                            &bed.location,
                            detail,
                        )));
                    }
                }
            }
            _ => {}
        }
        out
    }

    fn on_tick(&mut self, now: Timestamp, ctx: &Context<'_>) -> Vec<Finding> {
        let cfg = &ctx.config.bed;
        let mut findings = Vec::new();
        for (resident, bed) in &mut self.residents {
            let Some(o) = bed.out.as_mut().filter(|o| o.at_night) else {
                continue;
            };
            let out_for = now.since(o.since);
            let flags = ctx
                .facility
                .resident(resident)
                .map_or(&[][..], |r| r.care_flags.as_slice());
            let subject = Subject::Resident(resident.clone());
            let place = Place {
                location: &bed.location,
                device: bed.device.as_ref(),
            };
            let evidence = json!({
                "left_bed_at": o.since,
                "out_of_bed_s": out_for.as_secs(),
            });
            if flags.contains(&CareFlag::BedExitWatch) && out_for >= cfg.exit_confirm {
                let first = o.exit.is_none();
                if o.exit
                    .get_or_insert_with(Pacer::default)
                    .due(now, first, REPEAT)
                {
                    // A resident at risk of falling needs someone there at once.
                    let priority = if flags.contains(&CareFlag::FallRisk) {
                        Priority::High
                    } else {
                        Priority::Medium
                    };
                    findings.push(Finding::Event(emit::raise(
                        (AlertKind::BedExit, subject.clone(), priority),
                        now,
                        place,
                        format!("left the bed at night {} s ago", out_for.as_secs()),
                        evidence.clone(),
                    )));
                }
            }
            if out_for >= cfg.out_of_bed_limit {
                let first = o.too_long.is_none();
                if o.too_long
                    .get_or_insert_with(Pacer::default)
                    .due(now, first, REPEAT)
                {
                    findings.push(Finding::Event(emit::raise(
                        (AlertKind::OutOfBedTooLong, subject, Priority::Medium),
                        now,
                        place,
                        format!("out of bed at night for {} min", out_for.as_secs() / 60),
                        evidence,
                    )));
                }
            }
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::testkit::{Kit, local, resident, secs, summary};

    fn occupancy(in_bed: bool) -> Measurement {
        Measurement::BedOccupancy {
            in_bed,
            heart_rate: None,
            respiration_rate: None,
        }
    }

    /// Feeds the mat states at the given offsets from `start` and ticks every second until
    /// `until_s`; returns the findings with the second they came at.
    fn run(
        kit: &Kit,
        device: &str,
        start: Timestamp,
        states: &[(i64, bool)],
        until_s: i64,
    ) -> Vec<(i64, (AlertKind, Subject, Priority, bool))> {
        let mut rule = BedRule::default();
        let mut out = Vec::new();
        for s in 0..=until_s {
            let now = secs(start, s);
            for (_, st) in states.iter().filter(|(t, _)| *t == s) {
                let f = rule.on_reading(&kit.reading(device, now, occupancy(*st)), &kit.ctx());
                out.extend(summary(f).into_iter().map(|e| (s, e)));
            }
            out.extend(
                summary(rule.on_tick(now, &kit.ctx()))
                    .into_iter()
                    .map(|e| (s, e)),
            );
        }
        out
    }

    #[test]
    fn night_bed_exit_of_a_watched_resident_alerts_within_10_seconds_and_clears_on_return() {
        let kit = Kit::new();
        let out = run(
            &kit,
            "bed1",
            local(2, 0),
            &[(0, true), (10, false), (40, true)],
            60,
        );
        let raised: Vec<_> = out.iter().filter(|(_, e)| e.3).collect();
        let (at, first) = raised.first().unwrap();
        assert!(*at - 10 < 10, "raised {} s after leaving", at - 10);
        // R1 is at risk of falling: High.
        assert_eq!(
            *first,
            (AlertKind::BedExit, resident("R1"), Priority::High, true)
        );
        assert_eq!(raised.len(), 1);
        assert_eq!(
            out.last().unwrap(),
            &(
                40,
                (AlertKind::BedExit, resident("R1"), Priority::Low, false)
            )
        );
    }

    #[test]
    fn turning_over_on_the_mat_edge_does_not_alert() {
        let kit = Kit::new();
        let out = run(
            &kit,
            "bed1",
            local(2, 0),
            &[(0, true), (10, false), (11, true)],
            30,
        );
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn daytime_exits_and_unwatched_residents_raise_no_bed_exit() {
        let kit = Kit::new();
        let day = run(&kit, "bed1", local(14, 0), &[(0, true), (10, false)], 60);
        assert!(day.is_empty(), "{day:?}");
        // R3 is not on bed-exit watch.
        let night = run(&kit, "bed3", local(2, 0), &[(0, true), (10, false)], 60);
        assert!(night.is_empty(), "{night:?}");
    }

    #[test]
    fn out_of_bed_too_long_at_night_for_any_resident_with_a_mat() {
        let mut kit = Kit::new();
        kit.config.bed.out_of_bed_limit = Duration::from_secs(120);
        let out = run(
            &kit,
            "bed3",
            local(1, 0),
            &[(0, true), (5, false), (300, true)],
            301,
        );
        let raised: Vec<_> = out.iter().filter(|(_, e)| e.3).map(|(s, _)| *s).collect();
        // At the limit, then once a minute.
        assert_eq!(raised, vec![125, 185, 245]);
        assert_eq!(
            out.last().unwrap(),
            &(
                300,
                (
                    AlertKind::OutOfBedTooLong,
                    resident("R3"),
                    Priority::Low,
                    false
                )
            )
        );
    }

    #[test]
    fn an_exit_just_before_night_does_not_count() {
        let mut kit = Kit::new();
        kit.config.bed.out_of_bed_limit = Duration::from_secs(60);
        let out = run(&kit, "bed1", local(21, 58), &[(0, true), (10, false)], 400);
        assert!(out.is_empty(), "{out:?}");
    }
}
