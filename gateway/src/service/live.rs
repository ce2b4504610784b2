//! Live state for the dashboard and the status line: latest vitals per resident, last seen and
//! battery per device, counters. Updated by the pipeline, read by the web API.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use pingan_drivers::{DeviceId, HealthState, Measurement, Reading, Timestamp};

use super::drivers::DeviceCommands;
use crate::analytics::news2::observe::{Measured, Sample};
use crate::config::LinkId;
use crate::facility::Facility;
use crate::metrics::Metrics;
use crate::web::backend::{DeviceView, VitalsView};

/// What the gateway knows about a device right now.
#[derive(Debug, Clone)]
pub struct DeviceLive {
    /// Link health as reported by its driver.
    pub health: HealthState,
    /// Latest battery level.
    pub battery: Option<f32>,
    /// Latest reading.
    pub last_seen: Option<Timestamp>,
}

impl Default for DeviceLive {
    fn default() -> Self {
        Self {
            health: HealthState::Online,
            battery: None,
            last_seen: None,
        }
    }
}

/// What the gateway knows about a resident right now.
#[derive(Debug, Clone, Default)]
pub struct ResidentLive {
    /// Latest vitals, each with its time.
    pub measured: Measured,
    /// Bed mat occupancy.
    pub in_bed: Option<bool>,
}

impl ResidentLive {
    /// The latest vitals as the dashboard shows them.
    pub fn vitals(&self) -> VitalsView {
        let m = &self.measured;
        let value = |s: Option<Sample>| s.map(|s| s.value);
        VitalsView {
            heart_rate: value(m.pulse),
            spo2: value(m.spo2),
            respiration_rate: value(m.respiration_rate),
            temperature: value(m.temperature),
            systolic: value(m.systolic_bp),
            at: [
                m.pulse,
                m.spo2,
                m.respiration_rate,
                m.temperature,
                m.systolic_bp,
            ]
            .into_iter()
            .flatten()
            .map(|s| s.at)
            .max(),
        }
    }
}

/// Counters since start.
#[derive(Debug, Default)]
pub struct Counters {
    /// Readings received from drivers.
    pub readings_in: AtomicU64,
    /// Readings written to the store.
    pub readings_stored: AtomicU64,
    /// Readings not stored by design: routine telemetry thinned to `storage.downsample`.
    pub readings_downsampled: AtomicU64,
    /// Readings not stored because the store was over budget or behind.
    pub readings_shed: AtomicU64,
    /// Readings from devices not in the config.
    pub unknown_device_readings: AtomicU64,
    /// Alerts raised.
    pub alerts_raised: AtomicU64,
    /// Commands refused (malformed, unknown alert, already resolved).
    pub commands_rejected: AtomicU64,
}

impl Counters {
    /// Adds one to a counter.
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// The live state. Locks are held for microseconds by single updates.
#[derive(Debug)]
pub struct Live {
    devices: Mutex<HashMap<DeviceId, DeviceLive>>,
    residents: Mutex<HashMap<String, ResidentLive>>,
    /// (unix ms, readings_in) at the last rate sample.
    rate: Mutex<(i64, u64, f64)>,
    /// Links' connection changes: (connected, unix ms of the change).
    links: Mutex<HashMap<LinkId, (bool, i64)>>,
    /// Counters.
    pub counters: Counters,
    /// The Prometheus families the tasks record into (`/metrics`).
    pub metrics: Arc<Metrics>,
}

impl Default for Live {
    fn default() -> Self {
        Self::new(Arc::new(Metrics::new([])))
    }
}

impl Live {
    /// Live state recording into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            devices: Mutex::default(),
            residents: Mutex::default(),
            rate: Mutex::default(),
            links: Mutex::default(),
            counters: Counters::default(),
            metrics,
        }
    }

    /// A link connected or lost its connection at `at`.
    pub fn on_link(&self, link: &LinkId, connected: bool, at: Timestamp) {
        if let Ok(mut links) = self.links.lock() {
            links.insert(link.clone(), (connected, at.millis()));
        }
    }

    /// A link's last connection change: whether it connected, and when (`None`: no change since
    /// start).
    pub fn link_change(&self, link: &LinkId) -> Option<(bool, Timestamp)> {
        let links = self.links.lock().ok()?;
        links.get(link).map(|(c, at)| (*c, Timestamp(*at)))
    }

    /// How many devices are in each health state (the devices that reported at all).
    pub fn device_health(&self) -> Vec<(DeviceId, HealthState)> {
        self.devices
            .lock()
            .map(|d| d.iter().map(|(id, l)| (id.clone(), l.health)).collect())
            .unwrap_or_default()
    }

    /// Every device of the facility as the dashboard shows it, id order.
    pub(super) fn device_views(
        &self,
        facility: &Facility,
        commands: &DeviceCommands,
    ) -> Vec<DeviceView> {
        let mut v: Vec<DeviceView> = facility
            .devices()
            .map(|d| {
                let state = self.device(&d.device).unwrap_or_default();
                DeviceView {
                    id: d.device.to_string(),
                    model: d.model,
                    resident: d.resident.clone(),
                    location: d.location.clone(),
                    health: state.health,
                    battery: state.battery,
                    last_seen: state.last_seen,
                    commands: commands.offered(&d.device),
                }
            })
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// Records a reading of a device bound to `resident`.
    pub fn on_reading(&self, r: &Reading, resident: Option<&str>) {
        if let Ok(mut devices) = self.devices.lock() {
            let d = devices.entry(r.device.clone()).or_default();
            d.last_seen = Some(r.at);
            if let Measurement::Battery { percent } = r.measurement {
                d.battery = Some(percent);
            }
        }
        let Some(resident) = resident else { return };
        let Ok(mut residents) = self.residents.lock() else {
            return;
        };
        // Looked up before inserting: an owned key per reading was an allocation on the hot path.
        if !residents.contains_key(resident) {
            residents.insert(resident.to_owned(), ResidentLive::default());
        }
        let Some(live) = residents.get_mut(resident) else {
            return;
        };
        let m = &mut live.measured;
        let at = r.at;
        let sample = |value: f32| Some(Sample { value, at });
        match &r.measurement {
            Measurement::HeartRate { bpm } => m.pulse = sample(*bpm),
            Measurement::SpO2 { percent } => m.spo2 = sample(*percent),
            Measurement::RespirationRate { per_min } => m.respiration_rate = sample(*per_min),
            Measurement::BodyTemperature { celsius } => m.temperature = sample(*celsius),
            Measurement::BloodPressure { systolic, .. } => m.systolic_bp = sample(*systolic),
            Measurement::BedOccupancy {
                in_bed,
                respiration_rate,
                heart_rate,
            } => {
                live.in_bed = Some(*in_bed);
                if let Some(rr) = respiration_rate {
                    live.measured.respiration_rate = sample(*rr);
                }
                if let Some(hr) = heart_rate {
                    live.measured.pulse = sample(*hr);
                }
            }
            _ => {}
        }
    }

    /// Records a device's health.
    pub fn on_health(&self, device: &DeviceId, state: HealthState) {
        if let Ok(mut devices) = self.devices.lock() {
            devices.entry(device.clone()).or_default().health = state;
        }
    }

    /// Readings per second at `now`, averaged since the previous call at least a second ago.
    pub fn readings_per_s(&self, now: Timestamp) -> f64 {
        let now = now.millis();
        let n = self.counters.readings_in.load(Ordering::Relaxed);
        let Ok(mut r) = self.rate.lock() else {
            return 0.0;
        };
        let (t0, n0, last) = *r;
        if now - t0 >= 1000 {
            let rate = if t0 == 0 {
                0.0
            } else {
                (n - n0) as f64 * 1000.0 / (now - t0) as f64
            };
            *r = (now, n, rate);
            rate
        } else {
            last
        }
    }

    /// A device's live state.
    pub fn device(&self, id: &DeviceId) -> Option<DeviceLive> {
        self.devices.lock().ok()?.get(id).cloned()
    }

    /// A resident's live state.
    pub fn resident(&self, id: &str) -> Option<ResidentLive> {
        self.residents.lock().ok()?.get(id).cloned()
    }
}
