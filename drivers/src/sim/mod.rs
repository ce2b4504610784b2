//! The facility simulator: realistic streams for every simulated device of a site, plus scripted
//! incidents from a scenario file. `pingan demo` runs a whole nursing home on it.
//!
//! Time comes from tokio's clock, so tests run it under `tokio::time::pause()` at full speed.

mod motion;
mod scenario;
mod subject;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

pub use motion::{MOTION_HZ, Posture, magnitude};
pub use scenario::{Incident, IncidentKind, Scenario, ScenarioError};
use subject::Subject;

use crate::driver::{Driver, DriverError, HealthState, ReadingSink};
use crate::reading::{ButtonKind, DeviceId, Measurement, Reading, Timestamp};

/// Settings of a `driver = "sim"` instance in the site config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// Seed of the random streams: the same seed gives the same facility.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Scenario file with scripted incidents, relative to the config file.
    #[serde(default)]
    pub scenario: Option<PathBuf>,
    /// Offset of the site's local time from UTC in hours, for day/night behaviour.
    #[serde(default = "default_utc_offset")]
    pub utc_offset_hours: i32,
}

fn default_seed() -> u64 {
    1
}

fn default_utc_offset() -> i32 {
    8
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: default_seed(),
            scenario: None,
            utc_offset_hours: default_utc_offset(),
        }
    }
}

/// The kinds of device the simulator can play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimModel {
    /// Wristband: HR and SpO2 at 1 Hz, accelerometer at 50 Hz, temperature, battery, SOS.
    Wristband,
    /// SOS pendant: buttons and battery.
    Pendant,
    /// Bed pressure mat: occupancy with in-bed HR and RR.
    BedMat,
    /// Room temperature and humidity (and CO2).
    RoomSensor,
    /// Door contact.
    DoorContact,
    /// Smoke detector.
    SmokeDetector,
    /// Combustible gas detector.
    GasDetector,
    /// Water-leak sensor.
    WaterLeak,
    /// Nurse-call panel: buttons only.
    CallPanel,
}

/// A device for the simulator to play.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimDevice {
    /// Its configured id.
    pub id: DeviceId,
    /// What it is.
    pub model: SimModel,
    /// Devices with the same subject (a resident or a room) share one simulated state.
    pub subject: String,
}

/// The simulator driver.
#[derive(Debug)]
pub struct SimDriver {
    config: SimConfig,
    devices: Vec<SimDevice>,
    scenario: Scenario,
}

/// The simulator's tick: motion batches are this long.
const TICK: Duration = Duration::from_millis(500);
const TICKS_PER_MIN: u64 = 120;

impl SimDriver {
    /// A simulator for `devices`, playing `scenario`.
    pub fn new(config: SimConfig, devices: Vec<SimDevice>, scenario: Scenario) -> Self {
        Self {
            config,
            devices,
            scenario,
        }
    }
}

/// Per-device state that is not shared with the subject.
#[derive(Debug)]
struct DeviceState {
    dev: SimDevice,
    subject: usize,
    battery: f32,
    silent: bool,
    alarm: bool,
    door_open_until: Option<u64>,
    last_in_bed: Option<bool>,
    heat: bool,
}

struct Run {
    rng: SmallRng,
    subjects: Vec<Subject>,
    devices: Vec<DeviceState>,
    index: HashMap<DeviceId, usize>,
    utc_offset_hours: i32,
}

impl Driver for SimDriver {
    async fn run(self, sink: ReadingSink, shutdown: CancellationToken) -> Result<(), DriverError> {
        let mut run = Run::new(&self.config, self.devices);
        for i in &self.scenario.incidents {
            if !run.index.contains_key(&i.device) {
                return Err(DriverError::Config(format!(
                    "scenario incident at {:?} names unknown simulated device {}",
                    i.at, i.device
                )));
            }
        }
        for d in &run.devices {
            sink.health(d.dev.id.clone(), HealthState::Online, "simulated")
                .await?;
        }
        let wall_start = Timestamp::now();
        let start = tokio::time::Instant::now();
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut pending = self.scenario.incidents.into_iter().peekable();
        let mut tick: u64 = 0;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                _ = interval.tick() => {}
            }
            let elapsed = start.elapsed();
            let now = wall_start.plus(elapsed);
            let mut out = Vec::new();
            while let Some(inc) = pending.next_if(|i| i.at <= elapsed) {
                run.apply(&inc, now, tick, &mut out);
            }
            run.tick(tick, now, elapsed.as_secs_f32(), &mut out);
            for r in out {
                sink.send(r).await?;
            }
            tick += 1;
        }
    }
}

impl Run {
    fn new(config: &SimConfig, devices: Vec<SimDevice>) -> Self {
        let mut rng = SmallRng::seed_from_u64(config.seed);
        let mut subjects = Vec::new();
        let mut by_subject: HashMap<String, usize> = HashMap::new();
        let mut states = Vec::with_capacity(devices.len());
        let mut index = HashMap::new();
        for dev in devices {
            let subject = *by_subject.entry(dev.subject.clone()).or_insert_with(|| {
                subjects.push(Subject::new(&mut rng));
                subjects.len() - 1
            });
            index.insert(dev.id.clone(), states.len());
            states.push(DeviceState {
                battery: rng.gen_range(35.0..100.0),
                dev,
                subject,
                silent: false,
                alarm: false,
                door_open_until: None,
                last_in_bed: None,
                heat: false,
            });
        }
        Self {
            rng,
            subjects,
            devices: states,
            index,
            utc_offset_hours: config.utc_offset_hours,
        }
    }

    fn local_hour(&self, now: Timestamp) -> u32 {
        let local_s = now.millis() / 1000 + i64::from(self.utc_offset_hours) * 3600;
        u32::try_from(local_s.rem_euclid(86_400) / 3600).unwrap_or(0)
    }

    fn apply(&mut self, inc: &Incident, now: Timestamp, tick: u64, out: &mut Vec<Reading>) {
        let Some(&i) = self.index.get(&inc.device) else {
            return;
        };
        let id = inc.device.clone();
        let d = &mut self.devices[i];
        let s = &mut self.subjects[d.subject];
        match inc.kind {
            IncidentKind::Sos | IncidentKind::Cancel => {
                let button = if inc.kind == IncidentKind::Sos {
                    ButtonKind::Sos
                } else {
                    ButtonKind::Cancel
                };
                out.push(Reading::new(id, now, Measurement::Button { button }));
            }
            IncidentKind::Fall | IncidentKind::FallRecovered => {
                s.motion.script_fall(&mut self.rng);
                let stay = if inc.kind == IncidentKind::Fall {
                    3600.0
                } else {
                    6.0
                };
                s.fallen_until_s = Some(inc.at.as_secs_f32() + stay);
                s.posture = Posture::Floor;
            }
            IncidentKind::BedExit => s.out_of_bed = true,
            IncidentKind::BedReturn => {
                s.out_of_bed = false;
                s.posture = Posture::Lying;
            }
            IncidentKind::Smoke | IncidentKind::Gas | IncidentKind::WaterLeak => {
                d.alarm = true;
                out.push(Reading::new(id, now, alarm_measurement(d.dev.model, true)));
            }
            IncidentKind::DoorOpen => {
                d.door_open_until = Some(tick + 10);
                out.push(Reading::new(id, now, Measurement::Door { open: true }));
            }
            IncidentKind::DeviceSilent => d.silent = true,
            IncidentKind::Deteriorate => s.deteriorated = true,
            IncidentKind::Heat => d.heat = true,
        }
    }

    fn tick(&mut self, tick: u64, now: Timestamp, elapsed_s: f32, out: &mut Vec<Reading>) {
        let hour = self.local_hour(now);
        let dt = TICK.as_secs_f32();
        for s in &mut self.subjects {
            s.step(dt, hour, elapsed_s, &mut self.rng);
        }
        for (idx, d) in self.devices.iter_mut().enumerate() {
            if d.silent {
                continue;
            }
            let s = &mut self.subjects[d.subject];
            let rng = &mut self.rng;
            // Stagger periodic reports so a facility does not report in lockstep.
            let phase = tick + idx as u64;
            let every = |n: u64| phase % n == 0;
            let id = || d.dev.id.clone();
            match d.dev.model {
                SimModel::Wristband => {
                    let samples = s.motion((MOTION_HZ * dt) as usize, rng);
                    out.push(Reading::new(
                        id(),
                        now,
                        Measurement::Motion {
                            samples,
                            hz: MOTION_HZ,
                        },
                    ));
                    if every(2) {
                        let bpm = s.heart_rate(hour, rng);
                        out.push(Reading::new(id(), now, Measurement::HeartRate { bpm }));
                        let percent = s.spo2(rng);
                        out.push(Reading::new(id(), now, Measurement::SpO2 { percent }));
                    }
                    if every(TICKS_PER_MIN) {
                        let celsius = s.body_temperature(rng);
                        out.push(Reading::new(
                            id(),
                            now,
                            Measurement::BodyTemperature { celsius },
                        ));
                    }
                }
                SimModel::BedMat => {
                    let in_bed = s.in_bed();
                    if every(10) || d.last_in_bed != Some(in_bed) {
                        d.last_in_bed = Some(in_bed);
                        let (heart_rate, respiration_rate) = if in_bed {
                            (Some(s.heart_rate(hour, rng)), Some(s.respiration_rate(rng)))
                        } else {
                            (None, None)
                        };
                        out.push(Reading::new(
                            id(),
                            now,
                            Measurement::BedOccupancy {
                                in_bed,
                                heart_rate,
                                respiration_rate,
                            },
                        ));
                    }
                }
                SimModel::RoomSensor if every(20) => {
                    let diurnal = ((hour as f32 - 15.0) / 24.0 * std::f32::consts::TAU).cos();
                    let base = if d.heat {
                        35.0
                    } else {
                        25.5 + s.room_offset_c + 1.2 * diurnal
                    };
                    out.push(Reading::new(
                        id(),
                        now,
                        Measurement::Environment {
                            temperature: round1(base + rng.gen_range(-0.1..0.1)),
                            humidity: round1(65.0 - 5.0 * diurnal + rng.gen_range(-1.0..1.0)),
                            co2: Some((650.0 + rng.gen_range(-80.0..150.0_f32)).round()),
                        },
                    ));
                }
                SimModel::DoorContact => {
                    if d.door_open_until == Some(tick) {
                        d.door_open_until = None;
                        out.push(Reading::new(id(), now, Measurement::Door { open: false }));
                    } else if d.door_open_until.is_none()
                        && !Subject::is_night(hour)
                        && rng.gen_bool(1.0 / 2400.0)
                    {
                        d.door_open_until = Some(tick + 10);
                        out.push(Reading::new(id(), now, Measurement::Door { open: true }));
                    } else if every(TICKS_PER_MIN) {
                        let open = d.door_open_until.is_some();
                        out.push(Reading::new(id(), now, Measurement::Door { open }));
                    }
                }
                SimModel::SmokeDetector | SimModel::GasDetector | SimModel::WaterLeak
                    if every(TICKS_PER_MIN) =>
                {
                    out.push(Reading::new(
                        id(),
                        now,
                        alarm_measurement(d.dev.model, d.alarm),
                    ));
                }
                _ => {}
            }
            let battery_powered = matches!(
                d.dev.model,
                SimModel::Wristband | SimModel::Pendant | SimModel::DoorContact
            );
            if battery_powered && every(TICKS_PER_MIN) {
                // About 1 % a day; visible as a trend over long runs.
                d.battery = (d.battery - 0.0007).max(0.0);
                out.push(Reading::new(
                    id(),
                    now,
                    Measurement::Battery {
                        percent: round1(d.battery),
                    },
                ));
            }
        }
    }
}

fn alarm_measurement(model: SimModel, alarm: bool) -> Measurement {
    match model {
        SimModel::GasDetector => Measurement::Gas {
            alarm,
            ppm: Some(if alarm { 5200.0 } else { 0.0 }),
        },
        SimModel::WaterLeak => Measurement::WaterLeak { wet: alarm },
        _ => Measurement::Smoke { alarm },
    }
}

fn round1(v: f32) -> f32 {
    (v * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests;
