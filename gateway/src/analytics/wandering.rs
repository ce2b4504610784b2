//! Wandering of residents with dementia, inside `wandering.hours` (local time):
//! - an exit door opens (a door contact in a room of kind `exit`, or a door bound to a dementia
//!   resident in a private home) → High `wandering` for the resident it is bound to, else for the
//!   exit room, with the dementia residents last seen near the exit or out of bed as evidence;
//!   it clears when the door closes;
//! - a dementia resident's beacon is seen in an exit zone at or above `min_rssi` → High
//!   `wandering` for that resident; it clears after `zone_timeout` without being seen there.
//!
//! Presence works both ways round: a fixed receiver in the exit zone reporting a resident's tag
//! (`beacon` = the tag's device id), or a resident's wearable reporting a fixed beacon
//! (`beacon` = the id of a beacon device installed in the exit room).

use std::collections::HashMap;
use std::time::Duration;

use pingan_drivers::{DeviceId, Measurement, Timestamp};
use serde_json::json;

use super::emit::{self, Pacer, Place};
use super::{Context, Finding, Normalized, Rule};
use crate::alert::{AlertKind, Location, Priority, Subject};
use crate::config::CareFlag;
use crate::facility::{Binding, Facility};

/// While the condition holds, the event repeats at most this often.
const REPEAT: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Seen {
    last: Timestamp,
    location: Location,
    device: DeviceId,
    pacer: Pacer,
}

/// Exit doors and exit zones.
#[derive(Debug, Default)]
pub(crate) struct WanderingRule {
    /// Open exit doors with an active alert: door → subject.
    doors: HashMap<DeviceId, (Subject, Pacer)>,
    /// Dementia residents seen in an exit zone.
    in_zone: HashMap<String, Seen>,
    /// Residents' last known bed state (evidence for doors nobody is bound to).
    out_of_bed: HashMap<String, bool>,
}

fn is_dementia(f: &Facility, resident: &str) -> bool {
    f.resident(resident)
        .is_some_and(|r| r.has(CareFlag::Dementia))
}

/// Resident and exit-zone flag of a presence sighting, either way round.
fn sighting(n: &Normalized, beacon: &str, f: &Facility) -> Option<(String, bool)> {
    let other: Option<&Binding> = f.device(&DeviceId::new(beacon));
    let resident = n
        .binding
        .resident
        .clone()
        .or_else(|| other.and_then(|b| b.resident.clone()))?;
    let exit = n.binding.exit_zone || other.is_some_and(|b| b.exit_zone && b.resident.is_none());
    Some((resident, exit))
}

impl WanderingRule {
    fn door(&mut self, n: &Normalized, open: bool, ctx: &Context<'_>) -> Vec<Finding> {
        let device = &n.reading.device;
        let at = n.reading.at;
        let bound = n.binding.resident.clone();
        let watched = match &bound {
            Some(r) => is_dementia(ctx.facility, r),
            None => n.binding.exit_zone,
        };
        if !watched {
            return Vec::new();
        }
        if !open {
            return match self.doors.remove(device) {
                Some((subject, _)) => vec![Finding::Event(emit::clear(
                    AlertKind::Wandering,
                    subject,
                    at,
                    &n.binding.location,
                    format!("exit door {device} closed"),
                ))],
                None => Vec::new(),
            };
        }
        let any_dementia = ctx.facility.residents().any(|r| r.has(CareFlag::Dementia));
        if !any_dementia || !ctx.config.wandering.hours.contains(at, ctx.timezone) {
            return Vec::new();
        }
        let subject = match bound {
            Some(r) => Subject::Resident(r),
            None => n.binding.subject(),
        };
        let (_, pacer) = self
            .doors
            .entry(device.clone())
            .or_insert_with(|| (subject.clone(), Pacer::default()));
        let first = pacer == &Pacer::default();
        if !pacer.due(at, first, REPEAT) {
            return Vec::new();
        }
        let timeout = ctx.config.wandering.zone_timeout;
        let mut near: Vec<&str> = self
            .in_zone
            .iter()
            .filter(|(_, s)| at.since(s.last) <= timeout)
            .map(|(r, _)| r.as_str())
            .collect();
        near.sort_unstable();
        let mut up: Vec<&str> = self
            .out_of_bed
            .iter()
            .filter(|(r, out)| **out && is_dementia(ctx.facility, r))
            .map(|(r, _)| r.as_str())
            .collect();
        up.sort_unstable();
        vec![Finding::Event(emit::raise(
            (AlertKind::Wandering, subject, Priority::High),
            at,
            Place {
                location: &n.binding.location,
                device: Some(device),
            },
            format!("exit door {device} opened during wandering hours"),
            json!({"door": device, "seen_near_exit": near, "out_of_bed": up}),
        ))]
    }

    fn presence(
        &mut self,
        n: &Normalized,
        beacon: &str,
        rssi: i16,
        ctx: &Context<'_>,
    ) -> Vec<Finding> {
        let Some((resident, exit)) = sighting(n, beacon, ctx.facility) else {
            return Vec::new();
        };
        let at = n.reading.at;
        let cfg = &ctx.config.wandering;
        if !exit || rssi < cfg.min_rssi || !is_dementia(ctx.facility, &resident) {
            return Vec::new();
        }
        if !cfg.hours.contains(at, ctx.timezone) && !self.in_zone.contains_key(&resident) {
            return Vec::new();
        }
        let seen = self
            .in_zone
            .entry(resident.clone())
            .or_insert_with(|| Seen {
                last: at,
                location: n.binding.location.clone(),
                device: n.reading.device.clone(),
                pacer: Pacer::default(),
            });
        let first = seen.pacer == Pacer::default();
        seen.last = seen.last.max(at);
        if n.binding.exit_zone {
            seen.location = n.binding.location.clone();
        } else if let Some(b) = ctx.facility.device(&DeviceId::new(beacon)) {
            seen.location = b.location.clone();
        }
        seen.device = n.reading.device.clone();
        if !seen.pacer.due(at, first, REPEAT) {
            return Vec::new();
        }
        vec![Finding::Event(emit::raise(
            (
                AlertKind::Wandering,
                Subject::Resident(resident),
                Priority::High,
            ),
            at,
            Place {
                location: &seen.location,
                device: Some(&seen.device),
            },
            format!(
                "seen in exit zone {} (RSSI {rssi} dBm)",
                seen.location.room.as_deref().unwrap_or("?")
            ),
            json!({"beacon": beacon, "rssi": rssi, "zone": seen.location.room}),
        ))]
    }
}

impl Rule for WanderingRule {
    fn on_reading(&mut self, n: &Normalized, ctx: &Context<'_>) -> Vec<Finding> {
        match &n.reading.measurement {
            Measurement::Door { open } => self.door(n, *open, ctx),
            Measurement::Presence { beacon, rssi } => self.presence(n, beacon, *rssi, ctx),
            Measurement::BedOccupancy { in_bed, .. } => {
                if let Some(r) = &n.binding.resident {
                    self.out_of_bed.insert(r.clone(), !in_bed);
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn on_tick(&mut self, now: Timestamp, ctx: &Context<'_>) -> Vec<Finding> {
        let timeout = ctx.config.wandering.zone_timeout;
        let gone: Vec<String> = self
            .in_zone
            .iter()
            .filter(|(_, s)| now.since(s.last) > timeout)
            .map(|(r, _)| r.clone())
            .collect();
        gone.into_iter()
            .filter_map(|r| {
                let s = self.in_zone.remove(&r)?;
                Some(Finding::Event(emit::clear(
                    AlertKind::Wandering,
                    Subject::Resident(r),
                    now,
                    &s.location,
                    "no longer seen in the exit zone".to_owned(),
                )))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::testkit::{Kit, local, resident, secs, summary};

    fn door(open: bool) -> Measurement {
        Measurement::Door { open }
    }

    #[test]
    fn exit_door_at_night_raises_high_for_the_exit_and_names_who_is_up() {
        let kit = Kit::new();
        let mut rule = WanderingRule::default();
        let ctx = kit.ctx();
        let t = local(2, 0);
        rule.on_reading(
            &kit.reading(
                "bed3",
                t,
                Measurement::BedOccupancy {
                    in_bed: false,
                    heart_rate: None,
                    respiration_rate: None,
                },
            ),
            &ctx,
        );
        let out = rule.on_reading(&kit.reading("door-exit", secs(t, 60), door(true)), &ctx);
        let ev = crate::analytics::testkit::events(out).pop().unwrap();
        assert_eq!(
            (ev.kind, ev.subject.clone(), ev.priority),
            (
                AlertKind::Wandering,
                Subject::Room("lobby".into()),
                Priority::High
            )
        );
        assert_eq!(ev.evidence["out_of_bed"], json!(["R3"]));
        let out = rule.on_reading(&kit.reading("door-exit", secs(t, 70), door(false)), &ctx);
        assert_eq!(
            summary(out),
            vec![(
                AlertKind::Wandering,
                Subject::Room("lobby".into()),
                Priority::Low,
                false
            )]
        );
    }

    #[test]
    fn exit_door_in_the_afternoon_and_room_doors_are_not_wandering() {
        let kit = Kit::new();
        let mut rule = WanderingRule::default();
        let ctx = kit.ctx();
        assert!(
            rule.on_reading(&kit.reading("door-exit", local(14, 0), door(true)), &ctx)
                .is_empty()
        );
        assert!(
            rule.on_reading(&kit.reading("door-102", local(2, 0), door(true)), &ctx)
                .is_empty()
        );
    }

    #[test]
    fn dementia_wearable_seeing_the_exit_beacon_raises_and_clears_after_the_timeout() {
        let kit = Kit::new();
        let mut rule = WanderingRule::default();
        let ctx = kit.ctx();
        let t = local(23, 0);
        let seen = |rssi| Measurement::Presence {
            beacon: "beacon-exit".into(),
            rssi,
        };
        // Too weak: the corridor next to the lobby.
        assert!(
            rule.on_reading(&kit.reading("w3", t, seen(-90)), &ctx)
                .is_empty()
        );
        let out = rule.on_reading(&kit.reading("w3", secs(t, 5), seen(-60)), &ctx);
        assert_eq!(
            summary(out),
            vec![(AlertKind::Wandering, resident("R3"), Priority::High, true)]
        );
        assert!(
            rule.on_reading(&kit.reading("w3", secs(t, 20), seen(-60)), &ctx)
                .is_empty()
        );
        assert!(rule.on_tick(secs(t, 100), &ctx).is_empty());
        let out = rule.on_tick(secs(t, 141), &ctx);
        assert_eq!(
            summary(out),
            vec![(AlertKind::Wandering, resident("R3"), Priority::Low, false)]
        );
    }

    #[test]
    fn residents_without_dementia_at_the_exit_raise_nothing() {
        let kit = Kit::new();
        let mut rule = WanderingRule::default();
        let m = Measurement::Presence {
            beacon: "beacon-exit".into(),
            rssi: -50,
        };
        assert!(
            rule.on_reading(&kit.reading("w1", local(23, 0), m), &kit.ctx())
                .is_empty()
        );
    }

    #[test]
    fn a_receiver_in_the_lobby_reporting_a_residents_tag_counts() {
        let kit = Kit::new();
        let mut rule = WanderingRule::default();
        // The lobby beacon device acting as a receiver that hears R3's wristband.
        let m = Measurement::Presence {
            beacon: "w3".into(),
            rssi: -55,
        };
        let out = rule.on_reading(&kit.reading("beacon-exit", local(23, 0), m), &kit.ctx());
        assert_eq!(
            summary(out),
            vec![(AlertKind::Wandering, resident("R3"), Priority::High, true)]
        );
    }
}
