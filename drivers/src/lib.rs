//! Pingan drivers: everything between a device and the gateway's pipeline.
//!
//! - [`ble`]: Bluetooth LE decoders (SIG health characteristics, the Pingan wearable profile,
//!   beacons, BTHome), the radio and the BLE driver.
//! - [`reading`]: the [`Reading`] and [`Measurement`] types every driver produces.
//! - [`driver`]: the [`Driver`] trait, the [`ReadingSink`] drivers write into (lossless for
//!   critical readings, drop-and-count for telemetry) and [`DriverError`].
//! - [`config`]: [`DriverConfig`], the closed registry of driver kinds.
//! - [`sim`]: a whole simulated facility with scripted incidents.
//! - [`modbus`]: Modbus TCP/RTU devices described by TOML profiles.
//!
//! Data flows one way: device → driver → [`ReadingSink`] → the gateway's pipeline. This crate
//! knows nothing of the gateway.

pub mod ble;
pub mod config;
pub mod driver;
pub mod modbus;
pub mod reading;
pub mod sim;

pub use config::DriverConfig;
pub use driver::{Driver, DriverError, DriverEvent, HealthState, ReadingSink, SinkClosed};
pub use reading::{ButtonKind, DeviceId, Measurement, Reading, Timestamp};
