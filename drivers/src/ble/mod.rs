//! Bluetooth LE: wearables, medical devices, beacons and BTHome sensors.
//!
//! - [`gatt`]: pure decoders for the Bluetooth SIG health characteristics (bytes → typed value or
//!   [`DecodeError`]); [`ieee11073`] holds their SFLOAT/FLOAT and Date Time types.
//! - [`wearable`]: the open Pingan wearable GATT profile (accelerometer stream, SOS/cancel).
//! - [`adv`]: advertisement decoding: iBeacon, Eddystone, BTHome v2.
//! - [`measurements`]: decoded values → [`crate::Measurement`]s.
//! - [`state`]: the driver's pure bookkeeping (device matching, deduplication, health).
//! - [`radio`]: the I/O edge — btleplug (BlueZ) or a replayed recording.
//! - [`driver`]: [`BleDriver`], radio → state → [`crate::ReadingSink`].
//! - [`config`]: [`BleConfig`], the `driver = "ble"` settings.
//!
//! Data flows: radio event → [`state::BleState`] (decode, dedup, health) → readings. Everything
//! but `radio` and `driver` is pure and table-tested; the I/O edges are thin.

pub mod adv;
pub mod config;
pub mod driver;
pub mod error;
pub mod gatt;
pub mod ieee11073;
pub mod measurements;
pub mod radio;
mod reader;
pub mod state;
pub mod wearable;

#[cfg(test)]
mod tests;

pub use config::{BleConfig, BleDeviceConfig};
pub use driver::BleDriver;
pub use error::DecodeError;
pub use gatt::{Decoded, decode, decode_characteristic};
pub use ieee11073::{DateTime, MedFloat};
