//! Room climate: temperature, humidity or CO2 outside the safe range for `environment.hold`
//! raises `environment` for the room (Medium; High at or above `temperature_critical`, the
//! heat-stroke danger of Guangdong summers). It clears once every value is back inside the range
//! by the hysteresis margin, so a sensor hovering at the limit does not flap.

use std::collections::HashMap;
use std::time::Duration;

use pingan_drivers::{DeviceId, Measurement, Timestamp};
use serde_json::json;

use super::emit::{self, Pacer, Place};
use super::{Context, Finding, Normalized, Rule};
use crate::alert::{AlertKind, Priority};
use crate::config::analytics::EnvironmentConfig;

/// While out of range, the event repeats at most this often.
const REPEAT: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct Room {
    out_since: Option<Timestamp>,
    alerted: Option<(Priority, Pacer)>,
}

/// Room climate.
#[derive(Debug, Default)]
pub(crate) struct EnvironmentRule {
    sensors: HashMap<DeviceId, Room>,
}

/// What is out of range, as (what, value, limit) — `margin` narrows the range (for clearing).
fn violations(
    c: &EnvironmentConfig,
    t: f32,
    h: f32,
    co2: Option<f32>,
    margin: f32,
) -> Vec<(&'static str, f32, f32)> {
    let mut v = Vec::new();
    if t < c.temperature_min + margin {
        v.push(("temperature_low", t, c.temperature_min));
    }
    if t > c.temperature_max - margin {
        v.push(("temperature_high", t, c.temperature_max));
    }
    if h < c.humidity_min + margin {
        v.push(("humidity_low", h, c.humidity_min));
    }
    if h > c.humidity_max - margin {
        v.push(("humidity_high", h, c.humidity_max));
    }
    if let Some(co2) = co2.filter(|c2| *c2 > c.co2_max - 10.0 * margin) {
        v.push(("co2_high", co2, c.co2_max));
    }
    v
}

impl Rule for EnvironmentRule {
    fn on_reading(&mut self, n: &Normalized, ctx: &Context<'_>) -> Vec<Finding> {
        let Measurement::Environment {
            temperature,
            humidity,
            co2,
        } = n.reading.measurement
        else {
            return Vec::new();
        };
        let c = &ctx.config.environment;
        let at = n.reading.at;
        let subject = n.binding.subject();
        let room = self.sensors.entry(n.reading.device.clone()).or_default();
        let out = violations(c, temperature, humidity, co2, 0.0);
        if out.is_empty() {
            room.out_since = None;
            let still_near = !violations(c, temperature, humidity, co2, c.hysteresis).is_empty();
            if room.alerted.is_some() && !still_near {
                room.alerted = None;
                return vec![Finding::Event(emit::clear(
                    AlertKind::Environment,
                    subject,
                    at,
                    &n.binding.location,
                    format!("{temperature:.1} °C, {humidity:.0} % back in range"),
                ))];
            }
            return Vec::new();
        }
        let since = *room.out_since.get_or_insert(at);
        if at.since(since) < c.hold {
            return Vec::new();
        }
        let priority = if temperature >= c.temperature_critical {
            Priority::High
        } else {
            Priority::Medium
        };
        let changed = room.alerted.as_ref().is_none_or(|(p, _)| *p != priority);
        let (p, pacer) = room.alerted.get_or_insert((priority, Pacer::default()));
        *p = priority;
        if !pacer.due(at, changed, REPEAT) {
            return Vec::new();
        }
        let what: Vec<&str> = out.iter().map(|(w, _, _)| *w).collect();
        vec![Finding::Event(emit::raise(
            (AlertKind::Environment, subject, priority),
            at,
            Place {
                location: &n.binding.location,
                device: Some(&n.reading.device),
            },
            format!(
                "room climate out of range: {} ({temperature:.1} °C, {humidity:.0} %)",
                what.join(", ")
            ),
            json!({
                "temperature": temperature,
                "humidity": humidity,
                "co2": co2,
                "out_of_range": out.iter().map(|(w, v, l)| json!({"what": w, "value": v, "limit": l})).collect::<Vec<_>>(),
                "out_since": since,
            }),
        ))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Subject;
    use crate::analytics::testkit::{Kit, local, secs, summary};

    fn climate(t: f32, h: f32) -> Measurement {
        Measurement::Environment {
            temperature: t,
            humidity: h,
            co2: Some(700.0),
        }
    }

    fn feed(kit: &Kit, values: &[(i64, f32)]) -> Vec<(i64, (AlertKind, Subject, Priority, bool))> {
        let mut rule = EnvironmentRule::default();
        let t0 = local(14, 0);
        values
            .iter()
            .flat_map(|(s, t)| {
                let f = rule.on_reading(
                    &kit.reading("env-101", secs(t0, *s), climate(*t, 60.0)),
                    &kit.ctx(),
                );
                summary(f).into_iter().map(|e| (*s, e)).collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn heat_held_for_two_minutes_raises_for_the_room_and_critical_heat_is_high() {
        let kit = Kit::new();
        let room = Subject::Room("101".into());
        let out = feed(
            &kit,
            &[(0, 31.0), (60, 31.2), (120, 31.5), (130, 35.2), (140, 35.0)],
        );
        assert_eq!(
            out,
            vec![
                (
                    120,
                    (AlertKind::Environment, room.clone(), Priority::Medium, true)
                ),
                (130, (AlertKind::Environment, room, Priority::High, true)),
            ]
        );
    }

    #[test]
    fn one_odd_sample_does_not_alert() {
        let kit = Kit::new();
        assert!(feed(&kit, &[(0, 26.0), (10, 36.0), (20, 26.0), (200, 26.0)]).is_empty());
    }

    #[test]
    fn clearing_needs_the_hysteresis_margin() {
        let kit = Kit::new();
        let out = feed(&kit, &[(0, 14.0), (130, 14.0), (140, 16.2), (150, 16.6)]);
        let states: Vec<(i64, bool)> = out.iter().map(|(s, e)| (*s, e.3)).collect();
        assert_eq!(states, vec![(130, true), (150, false)]);
    }
}
