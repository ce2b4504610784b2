//! Modbus devices by profile: TCP and RTU polling driven by declarative TOML register maps.
//!
//! An integrator adds a device by writing one profile (see `docs/MODBUS.md`); no Rust.
//!
//! Pure parts (table- and property-tested):
//! - [`profile`]: the validated profile types; [`parse`]: TOML → [`Profile`] with
//!   `FILE:LINE:COL` errors; [`library`]: the built-in profiles (`drivers/profiles/*.toml`,
//!   embedded) and lookup by name or file.
//! - [`plan`]: neighbouring points merge into one request (125 registers / 2000 bits, `max_gap`).
//! - [`decode`]: every type × byte order; [`mapping`]: values → [`Measurement`](crate::Measurement)s;
//!   [`health`]: N failed polls → offline, backoff, the RTU inter-frame gap; [`schedule`]: the
//!   fixed poll grid, skipped and counted polls.
//!
//! I/O edges: [`link`] (timed tokio-modbus calls), `poll` (one poll with retries),
//! [`driver`] ([`ModbusDriver`]: one task per RTU bus, one per TCP device) and [`probe`].
//!
//! Data flow: config → profiles → plan → (link) → blocks → decode → map → [`ReadingSink`](crate::ReadingSink).

pub mod config;
pub mod decode;
pub mod driver;
pub mod health;
pub mod library;
pub mod link;
mod location;
pub mod mapping;
pub mod parse;
pub mod plan;
mod poll;
pub mod probe;
pub mod profile;
pub mod schedule;

pub use config::{ModbusConfig, ModbusConfigError, ModbusDeviceConfig, Parity, TransportKind};
pub use driver::{CommandError, ModbusCommands, ModbusDriver};
pub use location::ProfileError;
pub use parse::parse_profile;
pub use poll::DeviceCounters;
pub use probe::{ProbeError, ProbeTarget, probe};
pub use profile::Profile;

#[cfg(test)]
mod tests;
