//! From decoded point values to [`Reading`]s. Pure: values and the time in, readings out.
//!
//! - Levels (room climate, battery, gas with a concentration, bed mats with vitals) are sent on
//!   every poll.
//! - States (smoke, gas alarm, door, water leak, bed occupancy) are sent when they change and
//!   again every `refresh`, so a restarted pipeline learns the current state.
//! - Buttons are sent once per rising edge. Before the first poll a button counts as released,
//!   so a call that is already active when the gateway starts is reported, not lost.
//! - Several boolean points with the same target on one device are OR-ed (any zone in alarm).
//! - `health.fault` points are not measurements; they are returned as faults for the health
//!   tracker.

use std::collections::HashMap;
use std::time::Duration;

use super::plan::PointValues;
use super::profile::{Profile, Target};
use crate::reading::{ButtonKind, DeviceId, Measurement, Reading, Timestamp};

/// How often an unchanged state is sent again.
pub const DEFAULT_STATE_REFRESH: Duration = Duration::from_secs(60);

/// What one poll produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapped {
    /// Readings to send, in a stable order.
    pub readings: Vec<Reading>,
    /// Names of `health.fault` points that are active.
    pub faults: Vec<String>,
}

/// Per-device mapping state: previous button levels and last sent states. A mapper serves one
/// profile: which device each point maps to is worked out on the first poll.
#[derive(Debug)]
pub struct Mapper {
    device: DeviceId,
    channels: HashMap<String, DeviceId>,
    refresh: Duration,
    /// Per profile point, its device's index in `slots`. Resolved once, because a name look-up
    /// and a tree insert per point and poll were a tenth of a Modbus site's CPU
    /// (docs/BENCHMARKS.md).
    route: Vec<usize>,
    /// The devices the points map to, sorted: readings come out in this order.
    slots: Vec<DeviceId>,
    buttons: HashMap<usize, bool>,
    states: HashMap<(DeviceId, &'static str), (Measurement, Timestamp)>,
}

#[derive(Debug, Default)]
struct Accum {
    temperature: Option<f32>,
    humidity: Option<f32>,
    co2: Option<f32>,
    smoke: Option<bool>,
    gas: Option<bool>,
    ppm: Option<f32>,
    door: Option<bool>,
    wet: Option<bool>,
    in_bed: Option<bool>,
    hr: Option<f32>,
    rr: Option<f32>,
    battery: Option<f32>,
}

fn or(slot: &mut Option<bool>, v: bool) {
    *slot = Some(slot.unwrap_or(false) || v);
}

impl Mapper {
    /// A mapper for `device`; `channels` sends the readings of some points to other device ids
    /// (one input of a multi-channel module per door or bed).
    pub fn new(device: DeviceId, channels: HashMap<String, DeviceId>, refresh: Duration) -> Self {
        Self {
            device,
            channels,
            refresh,
            route: Vec::new(),
            slots: Vec::new(),
            buttons: HashMap::new(),
            states: HashMap::new(),
        }
    }

    /// Resolves each point's device (once per profile).
    fn resolve(&mut self, profile: &Profile) {
        if self.route.len() == profile.points.len() {
            return;
        }
        let devices: Vec<&DeviceId> = profile
            .points
            .iter()
            .map(|p| self.channels.get(&p.name).unwrap_or(&self.device))
            .collect();
        let mut slots: Vec<DeviceId> = devices.iter().map(|d| (*d).clone()).collect();
        slots.sort();
        slots.dedup();
        self.route = devices
            .iter()
            .map(|d| slots.binary_search(d).unwrap_or_default())
            .collect();
        self.slots = slots;
    }

    /// Maps one poll's values. Points that were not read this time are skipped.
    pub fn map(&mut self, profile: &Profile, values: &PointValues, now: Timestamp) -> Mapped {
        self.resolve(profile);
        let mut out = Mapped::default();
        let mut acc: Vec<Option<Accum>> = (0..self.slots.len()).map(|_| None).collect();
        for (i, p) in profile.points.iter().enumerate() {
            let (Some(target), Some(value)) = (p.maps_to, values.get(i)) else {
                continue;
            };
            let slot = self.route[i];
            let num = value
                .as_number()
                .filter(|n| n.is_finite())
                .map(|n| n as f32);
            let on = value.as_bool();
            let a = acc[slot].get_or_insert_with(Accum::default);
            match target {
                Target::Temperature => a.temperature = num,
                Target::Humidity => a.humidity = num,
                Target::Co2 => a.co2 = num,
                Target::GasPpm => a.ppm = num,
                Target::BedHeartRate => a.hr = num,
                Target::BedRespirationRate => a.rr = num,
                Target::BatteryPercent => a.battery = num,
                Target::SmokeAlarm => or(&mut a.smoke, on),
                Target::GasAlarm => or(&mut a.gas, on),
                Target::DoorOpen => or(&mut a.door, on),
                Target::WaterLeakWet => or(&mut a.wet, on),
                Target::InBed => or(&mut a.in_bed, on),
                Target::Fault => {
                    if on {
                        out.faults.push(p.name.clone());
                    }
                }
                Target::ButtonSos | Target::ButtonCancel => {
                    let was = self.buttons.insert(i, on).unwrap_or(false);
                    if on && !was {
                        let button = if target == Target::ButtonSos {
                            ButtonKind::Sos
                        } else {
                            ButtonKind::Cancel
                        };
                        out.readings.push(Reading::new(
                            self.slots[slot].clone(),
                            now,
                            Measurement::Button { button },
                        ));
                    }
                }
            }
        }
        for (slot, a) in acc.into_iter().enumerate() {
            if let Some(a) = a {
                let device = self.slots[slot].clone();
                self.emit(&device, a, now, &mut out.readings);
            }
        }
        out
    }

    fn emit(&mut self, device: &DeviceId, a: Accum, now: Timestamp, out: &mut Vec<Reading>) {
        let mut level = |m: Measurement| out.push(Reading::new(device.clone(), now, m));
        if let (Some(temperature), Some(humidity)) = (a.temperature, a.humidity) {
            level(Measurement::Environment {
                temperature,
                humidity,
                co2: a.co2,
            });
        }
        if let Some(percent) = a.battery {
            level(Measurement::Battery { percent });
        }
        if let (Some(alarm), Some(ppm)) = (a.gas, a.ppm) {
            level(Measurement::Gas {
                alarm,
                ppm: Some(ppm),
            });
        }
        if let (Some(in_bed), true) = (a.in_bed, a.hr.is_some() || a.rr.is_some()) {
            level(Measurement::BedOccupancy {
                in_bed,
                heart_rate: a.hr,
                respiration_rate: a.rr,
            });
        }
        let mut states = Vec::new();
        if let (Some(alarm), None) = (a.gas, a.ppm) {
            states.push(Measurement::Gas { alarm, ppm: None });
        }
        if let (Some(in_bed), None, None) = (a.in_bed, a.hr, a.rr) {
            states.push(Measurement::BedOccupancy {
                in_bed,
                heart_rate: None,
                respiration_rate: None,
            });
        }
        if let Some(alarm) = a.smoke {
            states.push(Measurement::Smoke { alarm });
        }
        if let Some(open) = a.door {
            states.push(Measurement::Door { open });
        }
        if let Some(wet) = a.wet {
            states.push(Measurement::WaterLeak { wet });
        }
        for m in states {
            let key = (device.clone(), m.kind());
            let due = match self.states.get(&key) {
                None => true,
                Some((last, at)) => *last != m || now.since(*at) >= self.refresh,
            };
            if due {
                self.states.insert(key, (m.clone(), now));
                out.push(Reading::new(device.clone(), now, m));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modbus::decode::Value;
    use crate::modbus::parse::parse_profile;

    fn profile(points: &str) -> Profile {
        parse_profile("t.toml", &format!("name = \"t\"\n{points}")).unwrap()
    }

    fn kinds(m: &Mapped) -> Vec<(String, Measurement)> {
        m.readings
            .iter()
            .map(|r| (r.device.to_string(), r.measurement.clone()))
            .collect()
    }

    const CLIMATE: &str = r#"
[[points]]
name = "t"
table = "input"
address = 0
type = "i16"
maps_to = "environment.temperature"
[[points]]
name = "h"
table = "input"
address = 1
type = "u16"
maps_to = "environment.humidity"
"#;

    #[test]
    fn temperature_and_humidity_form_one_environment_reading_every_poll() {
        let p = profile(CLIMATE);
        let mut m = Mapper::new("room-1".into(), HashMap::new(), DEFAULT_STATE_REFRESH);
        let v = PointValues(vec![Some(Value::Number(21.5)), Some(Value::Number(55.0))]);
        for t in 0..2 {
            let out = m.map(&p, &v, Timestamp(t));
            assert_eq!(
                kinds(&out),
                vec![(
                    "room-1".into(),
                    Measurement::Environment {
                        temperature: 21.5,
                        humidity: 55.0,
                        co2: None
                    }
                )]
            );
        }
        // Half a measurement is not sent.
        let half = PointValues(vec![Some(Value::Number(21.5)), None]);
        assert!(m.map(&p, &half, Timestamp(3)).readings.is_empty());
    }

    const CALL: &str = r#"
[[points]]
name = "call"
table = "discrete"
address = 0
type = "bool"
maps_to = "button.sos"
[[points]]
name = "cancel"
table = "discrete"
address = 1
type = "bool"
maps_to = "button.cancel"
"#;

    #[test]
    fn nurse_call_inputs_send_one_button_per_rising_edge() {
        let p = profile(CALL);
        let mut m = Mapper::new("panel".into(), HashMap::new(), DEFAULT_STATE_REFRESH);
        let v = |a, b| PointValues(vec![Some(Value::Bool(a)), Some(Value::Bool(b))]);
        let seq = [
            (false, false),
            (true, false),
            (true, false),
            (false, true),
            (true, true),
        ];
        let got: Vec<Vec<ButtonKind>> = seq
            .iter()
            .enumerate()
            .map(|(t, &(a, b))| {
                m.map(&p, &v(a, b), Timestamp(t as i64))
                    .readings
                    .into_iter()
                    .filter_map(|r| match r.measurement {
                        Measurement::Button { button } => Some(button),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        assert_eq!(
            got,
            vec![
                vec![],
                vec![ButtonKind::Sos],
                vec![],
                vec![ButtonKind::Cancel],
                vec![ButtonKind::Sos]
            ]
        );
    }

    #[test]
    fn a_call_already_active_at_start_is_reported() {
        let p = profile(CALL);
        let mut m = Mapper::new("panel".into(), HashMap::new(), DEFAULT_STATE_REFRESH);
        let v = PointValues(vec![Some(Value::Bool(true)), Some(Value::Bool(false))]);
        assert_eq!(m.map(&p, &v, Timestamp(0)).readings.len(), 1);
    }

    const SMOKE: &str = r#"
[[points]]
name = "zone1"
table = "discrete"
address = 0
type = "bool"
maps_to = "smoke.alarm"
[[points]]
name = "zone2"
table = "discrete"
address = 1
type = "bool"
maps_to = "smoke.alarm"
[[points]]
name = "fault"
table = "discrete"
address = 2
type = "bool"
maps_to = "health.fault"
"#;

    #[test]
    fn states_are_sent_on_change_and_on_refresh_and_zones_are_ored() {
        let p = profile(SMOKE);
        let refresh = Duration::from_secs(60);
        let mut m = Mapper::new("smoke-2f".into(), HashMap::new(), refresh);
        let v = |a, b, f| {
            PointValues(vec![
                Some(Value::Bool(a)),
                Some(Value::Bool(b)),
                Some(Value::Bool(f)),
            ])
        };
        let smoke = |alarm| vec![("smoke-2f".to_owned(), Measurement::Smoke { alarm })];
        assert_eq!(
            kinds(&m.map(&p, &v(false, false, false), Timestamp(0))),
            smoke(false)
        );
        assert!(
            m.map(&p, &v(false, false, false), Timestamp(1_000))
                .readings
                .is_empty()
        );
        assert_eq!(
            kinds(&m.map(&p, &v(false, true, false), Timestamp(2_000))),
            smoke(true)
        );
        assert!(
            m.map(&p, &v(true, true, false), Timestamp(3_000))
                .readings
                .is_empty()
        );
        assert_eq!(
            kinds(&m.map(&p, &v(true, true, false), Timestamp(62_000))),
            smoke(true)
        );
        let out = m.map(&p, &v(false, false, true), Timestamp(63_000));
        assert_eq!(out.faults, vec!["fault".to_owned()]);
    }

    const DOORS: &str = r#"
[[points]]
name = "in1"
table = "discrete"
address = 0
type = "bool"
invert = true
maps_to = "door.open"
[[points]]
name = "in2"
table = "discrete"
address = 1
type = "bool"
invert = true
maps_to = "door.open"
"#;

    #[test]
    fn channels_send_each_input_as_its_own_door() {
        let p = profile(DOORS);
        let channels = HashMap::from([
            ("in1".to_owned(), DeviceId::new("door-101")),
            ("in2".to_owned(), DeviceId::new("door-102")),
        ]);
        let mut m = Mapper::new("di-1".into(), channels, DEFAULT_STATE_REFRESH);
        // Values are already decoded (invert applied by the decoder).
        let v = PointValues(vec![Some(Value::Bool(true)), Some(Value::Bool(false))]);
        assert_eq!(
            kinds(&m.map(&p, &v, Timestamp(0))),
            vec![
                ("door-101".into(), Measurement::Door { open: true }),
                ("door-102".into(), Measurement::Door { open: false })
            ]
        );
    }
}
