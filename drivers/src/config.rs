//! The closed registry of drivers: one variant per driver kind, selected by `driver = "…"` in the
//! site config. Adding a driver = one module, one variant here, its sample config, its tests.

use serde::{Deserialize, Serialize};

use crate::ble::BleConfig;
use crate::modbus::ModbusConfig;
use crate::sim::SimConfig;

/// One driver instance of the site config (`[[drivers]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "driver", rename_all = "snake_case")]
pub enum DriverConfig {
    /// The facility simulator.
    Sim(SimConfig),
    /// Bluetooth LE wearables, medical devices, beacons and BTHome sensors.
    Ble(BleConfig),
    /// Modbus devices on one RTU bus or one TCP host, described by profiles.
    Modbus(ModbusConfig),
}

impl DriverConfig {
    /// The `driver` tag, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sim(_) => "sim",
            Self::Ble(_) => "ble",
            Self::Modbus(_) => "modbus",
        }
    }
}
