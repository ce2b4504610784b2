//! Bluetooth LE: wearables, medical devices, beacons and BTHome sensors.
//!
//! - [`gatt`]: pure decoders for the Bluetooth SIG health characteristics (bytes → typed value or
//!   [`DecodeError`]); [`ieee11073`] holds their SFLOAT/FLOAT and Date Time types.
//! - [`wearable`]: the open Pingan wearable GATT profile (accelerometer stream, SOS/cancel).
//! - [`adv`]: advertisement decoding: iBeacon, Eddystone, BTHome v2.
//!
//! Everything above is pure and table-tested; the I/O edges are thin.

pub mod adv;
pub mod error;
pub mod gatt;
pub mod ieee11073;
pub mod measurements;
mod reader;
pub mod wearable;

#[cfg(test)]
mod tests;

pub use error::DecodeError;
pub use gatt::{Decoded, decode, decode_characteristic};
pub use ieee11073::{DateTime, MedFloat};
