//! The BLE driver's bookkeeping, without I/O: which configured device an event belongs to, what
//! it decodes to, which repeats to drop (BTHome packet ids, button counters, accelerometer
//! sequence numbers), presence throttling, and each device's health. Radio events and clock ticks
//! go in; readings and health changes come out.

use std::collections::HashMap;
use std::time::Duration;

use super::adv::AdvData;
use super::adv::bthome;
use super::adv::eddystone;
use super::adv::ibeacon;
use super::config::{BleConfig, normalize_address};
use super::gatt::{Decoded, decode_characteristic, format_uuid, uuid16};
use super::measurements::{from_bthome, from_decoded};
use super::radio::RadioEvent;
use super::wearable::{SeqCheck, SequenceTracker};
use crate::driver::HealthState;
use crate::reading::{DeviceId, Measurement, Reading, Timestamp};

/// What the state machine asks the driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send a reading.
    Reading(Reading),
    /// Report a health change.
    Health {
        /// The device.
        device: DeviceId,
        /// Its new state.
        state: HealthState,
        /// Why, for people.
        detail: String,
    },
    /// Something worth a log line (lost notifications, undecodable payloads).
    Warning {
        /// The device.
        device: DeviceId,
        /// What happened.
        detail: String,
    },
}

/// Counters, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Payloads that failed to decode.
    pub bad_payloads: u64,
    /// Accelerometer notifications lost (sequence gaps).
    pub lost_notifications: u64,
    /// Repeated advertisements, notifications or button events dropped.
    pub duplicates: u64,
}

#[derive(Debug)]
struct Device {
    id: DeviceId,
    connects: bool,
    health: Option<HealthState>,
    last_heard: Option<Timestamp>,
    accel: SequenceTracker,
    button: SequenceTracker,
    last_bthome: Option<BtHomeKey>,
    last_presence: Option<Timestamp>,
}

/// What identifies a repeated BTHome advertisement: its packet id, or its bytes without one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BtHomeKey {
    Packet(u8),
    Bytes(Vec<u8>),
}

/// The BLE driver's state.
#[derive(Debug)]
pub struct BleState {
    devices: Vec<Device>,
    by_address: HashMap<String, usize>,
    by_name: HashMap<String, usize>,
    by_beacon: HashMap<String, usize>,
    /// When the clock of `on_tick` started (the first tick).
    started: Option<Timestamp>,
    offline_after: Duration,
    presence_interval: Duration,
    counters: Counters,
}

impl BleState {
    /// State for the devices of `config` (validated).
    pub fn new(config: &BleConfig) -> Result<Self, String> {
        config.validate()?;
        let mut s = Self {
            devices: Vec::new(),
            by_address: HashMap::new(),
            by_name: HashMap::new(),
            by_beacon: HashMap::new(),
            started: None,
            offline_after: config.offline_after,
            presence_interval: config.presence_interval,
            counters: Counters::default(),
        };
        for (i, d) in config.devices.iter().enumerate() {
            if let Some(a) = d.address.as_deref().and_then(normalize_address) {
                s.by_address.insert(a, i);
            }
            if let Some(n) = &d.name {
                s.by_name.insert(n.clone(), i);
            }
            if let Some(b) = &d.beacon {
                s.by_beacon.insert(b.to_ascii_lowercase(), i);
            }
            s.devices.push(Device {
                id: d.id.clone(),
                connects: d.connects(),
                health: None,
                last_heard: None,
                accel: SequenceTracker::default(),
                button: SequenceTracker::default(),
                last_bthome: None,
                last_presence: None,
            });
        }
        Ok(s)
    }

    /// The counters so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The configured devices' ids.
    pub fn device_ids(&self) -> impl Iterator<Item = &DeviceId> {
        self.devices.iter().map(|d| &d.id)
    }

    /// Handles one radio event.
    pub fn on_event(&mut self, ev: RadioEvent, out: &mut Vec<Output>) {
        match ev {
            RadioEvent::Advert {
                at,
                address,
                name,
                rssi,
                data,
            } => self.on_advert(at, &address, name.as_deref(), rssi, &data, out),
            RadioEvent::Notification {
                at,
                address,
                uuid,
                value,
            } => {
                if let Some(i) = self.by_address.get(&address).copied() {
                    self.on_notification(i, at, uuid, &value, out);
                }
            }
            RadioEvent::Connected { at, address } => {
                if let Some(i) = self.by_address.get(&address).copied() {
                    self.heard(i, at);
                    self.set_health(i, HealthState::Online, "connected".into(), out);
                }
            }
            RadioEvent::Disconnected {
                address, reason, ..
            } => {
                if let Some(i) = self.by_address.get(&address).copied() {
                    self.set_health(i, HealthState::Offline, reason, out);
                }
            }
        }
    }

    /// Marks devices not heard from for `offline_after` offline (advertising devices have no
    /// connection to lose, so silence is the only sign).
    pub fn on_tick(&mut self, now: Timestamp, out: &mut Vec<Output>) {
        let started = *self.started.get_or_insert(now);
        for i in 0..self.devices.len() {
            let Some(d) = self.devices.get(i) else {
                continue;
            };
            let since = d.last_heard.unwrap_or(started);
            if now.since(since) >= self.offline_after && d.health != Some(HealthState::Offline) {
                let detail = match d.last_heard {
                    Some(_) => format!(
                        "not heard for {}",
                        humantime_serde::re::humantime::format_duration(self.offline_after)
                    ),
                    None => format!(
                        "never heard in {}",
                        humantime_serde::re::humantime::format_duration(self.offline_after)
                    ),
                };
                self.set_health(i, HealthState::Offline, detail, out);
            }
        }
    }

    /// The radio is gone: every device is offline with the reason.
    pub fn radio_down(&mut self, reason: &str, out: &mut Vec<Output>) {
        for i in 0..self.devices.len() {
            self.set_health(i, HealthState::Offline, reason.to_owned(), out);
        }
    }

    fn heard(&mut self, i: usize, at: Timestamp) {
        if let Some(d) = self.devices.get_mut(i) {
            d.last_heard = Some(at);
        }
    }

    fn set_health(&mut self, i: usize, state: HealthState, detail: String, out: &mut Vec<Output>) {
        let Some(d) = self.devices.get_mut(i) else {
            return;
        };
        if d.health != Some(state) {
            d.health = Some(state);
            out.push(Output::Health {
                device: d.id.clone(),
                state,
                detail,
            });
        }
    }

    fn warn(&mut self, i: usize, detail: String, out: &mut Vec<Output>) {
        if let Some(d) = self.devices.get(i) {
            out.push(Output::Warning {
                device: d.id.clone(),
                detail,
            });
        }
    }

    fn read(&self, i: usize, at: Timestamp, m: Measurement, out: &mut Vec<Output>) {
        if let Some(d) = self.devices.get(i) {
            out.push(Output::Reading(Reading::new(d.id.clone(), at, m)));
        }
    }

    fn on_advert(
        &mut self,
        at: Timestamp,
        address: &str,
        name: Option<&str>,
        rssi: Option<i16>,
        data: &AdvData,
        out: &mut Vec<Output>,
    ) {
        let ibeacon = data
            .manufacturer(ibeacon::APPLE)
            .and_then(|d| ibeacon::decode(d).ok().flatten());
        let eddystone = data
            .service(uuid16(eddystone::SERVICE))
            .and_then(|d| eddystone::decode(d).ok());
        let beacon_id = ibeacon
            .as_ref()
            .map(ibeacon::IBeacon::beacon_id)
            .or_else(|| eddystone.as_ref().and_then(eddystone::Eddystone::beacon_id));
        let found = self.by_address.get(address).copied().or_else(|| {
            // Devices known by name may change address: learn the current one.
            let i = name.and_then(|n| self.by_name.get(n)).copied()?;
            self.by_address.insert(address.to_owned(), i);
            Some(i)
        });
        let found = found.or_else(|| {
            beacon_id
                .as_ref()
                .and_then(|b| self.by_beacon.get(&b.to_ascii_lowercase()))
                .copied()
        });
        let Some(i) = found else {
            return;
        };
        self.heard(i, at);
        let connects = self.devices.get(i).is_some_and(|d| d.connects);
        if !connects {
            self.set_health(i, HealthState::Online, "advertising".into(), out);
        }
        if let (Some(beacon), Some(rssi)) = (beacon_id, rssi) {
            self.presence(i, at, beacon, rssi, out);
        }
        if let Some(raw) = data.service(uuid16(bthome::SERVICE)) {
            self.on_bthome(i, at, raw, out);
        }
    }

    fn presence(
        &mut self,
        i: usize,
        at: Timestamp,
        beacon: String,
        rssi: i16,
        out: &mut Vec<Output>,
    ) {
        let Some(d) = self.devices.get_mut(i) else {
            return;
        };
        if d.last_presence
            .is_some_and(|last| at.since(last) < self.presence_interval)
        {
            return;
        }
        d.last_presence = Some(at);
        self.read(i, at, Measurement::Presence { beacon, rssi }, out);
    }

    fn on_bthome(&mut self, i: usize, at: Timestamp, raw: &[u8], out: &mut Vec<Output>) {
        let frame = match bthome::decode(raw) {
            Ok(f) => f,
            Err(e) => {
                self.counters.bad_payloads += 1;
                self.warn(i, e.to_string(), out);
                return;
            }
        };
        let key = match frame.packet_id {
            Some(p) => BtHomeKey::Packet(p),
            None => BtHomeKey::Bytes(raw.to_vec()),
        };
        let Some(d) = self.devices.get_mut(i) else {
            return;
        };
        if d.last_bthome.as_ref() == Some(&key) {
            // The same advertisement again (devices repeat each event several times).
            self.counters.duplicates += 1;
            return;
        }
        d.last_bthome = Some(key);
        for m in from_bthome(&frame) {
            self.read(i, at, m, out);
        }
    }

    fn on_notification(
        &mut self,
        i: usize,
        at: Timestamp,
        uuid: u128,
        value: &[u8],
        out: &mut Vec<Output>,
    ) {
        self.heard(i, at);
        let decoded = match decode_characteristic(uuid, value) {
            Ok(d) => d,
            Err(e) => {
                self.counters.bad_payloads += 1;
                self.warn(i, format!("{}: {e}", format_uuid(uuid)), out);
                return;
            }
        };
        let Some(d) = self.devices.get_mut(i) else {
            return;
        };
        let mut at = at;
        match &decoded {
            Decoded::Accelerometer(batch) => match d.accel.check(batch.sequence) {
                SeqCheck::Duplicate => {
                    self.counters.duplicates += 1;
                    return;
                }
                SeqCheck::Gap { missed } => {
                    self.counters.lost_notifications += u64::from(missed);
                    let detail = format!(
                        "accelerometer: {missed} notification(s) lost before sequence {}",
                        batch.sequence
                    );
                    self.warn(i, detail, out);
                }
                SeqCheck::Start | SeqCheck::InOrder => {}
            },
            Decoded::Button(b) if d.button.check(b.counter) == SeqCheck::Duplicate => {
                self.counters.duplicates += 1;
                return;
            }
            _ => {}
        }
        if let Decoded::Accelerometer(batch) = &decoded {
            // The notification leaves when the batch is full: the first sample is older.
            let span_ms = (batch.samples_g.len() as u64 * 1000) / u64::from(batch.sample_rate_hz);
            at = Timestamp(at.0.saturating_sub(i64::try_from(span_ms).unwrap_or(0)));
        }
        for m in from_decoded(&decoded) {
            self.read(i, at, m, out);
        }
    }
}
