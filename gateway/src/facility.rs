//! The facility at run time: who wears which device, which room each device is in, and the
//! lookups the pipeline needs to attach a resident and a location to every reading.

use std::collections::HashMap;

use pingan_drivers::DeviceId;
use pingan_drivers::sim::SimDevice;

use crate::alert::{Location, Subject};
use crate::config::{CareFlag, Config, DeviceModel, Resident, RoomKind, Sex};

/// What the pipeline knows about a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The device.
    pub device: DeviceId,
    /// What it is.
    pub model: DeviceModel,
    /// The resident it belongs to.
    pub resident: Option<String>,
    /// Where it is (a wearable: its resident's room and bed).
    pub location: Location,
    /// The room is an exit zone.
    pub exit_zone: bool,
    /// The driver instance that reads it (telemetry is batched per driver).
    pub driver: std::sync::Arc<str>,
}

impl Binding {
    /// The subject alerts about this device's readings are raised for.
    pub fn subject(&self) -> Subject {
        match (&self.resident, &self.location.room) {
            (Some(r), _) => Subject::Resident(r.clone()),
            (None, Some(room)) => Subject::Room(room.clone()),
            (None, None) => Subject::Device(self.device.clone()),
        }
    }
}

/// A resident as the pipeline and referrals need them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentInfo {
    /// Pseudonymous id.
    pub id: String,
    /// Name (local only unless a contact may see it).
    pub name: String,
    /// Year of birth.
    pub birth_year: u16,
    /// Sex.
    pub sex: Sex,
    /// Where they live.
    pub location: Location,
    /// Care flags.
    pub care_flags: Vec<CareFlag>,
}

impl ResidentInfo {
    /// Whether the care plan has `flag`.
    pub fn has(&self, flag: CareFlag) -> bool {
        self.care_flags.contains(&flag)
    }
}

/// The facility built from a validated config.
#[derive(Debug, Clone, Default)]
pub struct Facility {
    /// Shared: every reading carries its device's binding, and cloning an `Arc` is one atomic
    /// increment where cloning the strings was five allocations per reading.
    devices: HashMap<DeviceId, std::sync::Arc<Binding>>,
    residents: HashMap<String, ResidentInfo>,
}

impl Facility {
    /// Builds the lookups from a validated config.
    pub fn from_config(config: &Config) -> Self {
        let floor_of: HashMap<&str, &str> = config
            .rooms
            .iter()
            .map(|r| (r.id.as_str(), r.floor.as_str()))
            .collect();
        let exit_rooms: Vec<&str> = config
            .rooms
            .iter()
            .filter(|r| r.kind == RoomKind::Exit)
            .map(|r| r.id.as_str())
            .collect();
        let resident_location = |r: &Resident| Location {
            floor: floor_of.get(r.room.as_str()).map(|f| (*f).to_owned()),
            room: Some(r.room.clone()),
            bed: r.bed.clone(),
        };
        let residents: HashMap<String, ResidentInfo> = config
            .residents
            .iter()
            .map(|r| {
                (
                    r.id.clone(),
                    ResidentInfo {
                        id: r.id.clone(),
                        name: r.name.clone(),
                        birth_year: r.birth_year,
                        sex: r.sex,
                        location: resident_location(r),
                        care_flags: r.care_flags.clone(),
                    },
                )
            })
            .collect();
        let devices = config
            .devices
            .iter()
            .map(|d| {
                let id = DeviceId::new(&d.id);
                let location = match (&d.resident, &d.room) {
                    (Some(r), _) => residents
                        .get(r)
                        .map(|r| r.location.clone())
                        .unwrap_or_default(),
                    (None, Some(room)) => Location {
                        floor: floor_of.get(room.as_str()).map(|f| (*f).to_owned()),
                        room: Some(room.clone()),
                        bed: None,
                    },
                    (None, None) => Location::default(),
                };
                let exit_zone = d
                    .room
                    .as_deref()
                    .is_some_and(|room| exit_rooms.contains(&room));
                let binding = Binding {
                    device: id.clone(),
                    model: d.model,
                    resident: d.resident.clone(),
                    location,
                    exit_zone,
                    driver: std::sync::Arc::from(d.driver.as_str()),
                };
                (id, std::sync::Arc::new(binding))
            })
            .collect();
        Self { devices, residents }
    }

    /// The binding of a configured device.
    pub fn device(&self, id: &DeviceId) -> Option<&Binding> {
        self.devices.get(id).map(|b| &**b)
    }

    /// The shared binding of a configured device (what a normalized reading carries).
    pub fn shared_device(&self, id: &DeviceId) -> Option<&std::sync::Arc<Binding>> {
        self.devices.get(id)
    }

    /// A resident by pseudonymous id.
    pub fn resident(&self, id: &str) -> Option<&ResidentInfo> {
        self.residents.get(id)
    }

    /// Every resident.
    pub fn residents(&self) -> impl Iterator<Item = &ResidentInfo> {
        self.residents.values()
    }

    /// Every device.
    pub fn devices(&self) -> impl Iterator<Item = &Binding> {
        self.devices.values().map(|b| &**b)
    }
}

/// The devices a simulator instance plays: those configured with `driver = driver_id`.
pub fn sim_devices(config: &Config, driver_id: &str) -> Vec<SimDevice> {
    config
        .devices
        .iter()
        .filter(|d| d.driver == driver_id)
        .filter_map(|d| {
            Some(SimDevice {
                id: DeviceId::new(&d.id),
                model: d.model.sim_model()?,
                // Devices of one resident share a body; room devices share a room.
                subject: d
                    .resident
                    .clone()
                    .or_else(|| d.room.clone())
                    .unwrap_or_else(|| d.id.clone()),
            })
        })
        .collect()
}
