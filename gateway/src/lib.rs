//! The Pingan gateway: one process per site that turns device readings into alerts that arrive.
//!
//! Module map, in the order data flows:
//! - [`config`]: the site configuration (TOML) and its validation with `FILE:LINE:COL` errors.
//! - [`facility`]: residents, rooms and device bindings at run time.
//! - [`alert`]: alert vocabulary and the pure alert engine (lifecycle, dedup, escalation).
//! - [`mqtt`]: the embedded broker, uplinks and topics.
//!
//! Drivers (crate `pingan-drivers`) → pipeline (normalize) → store + analytics → alert engine →
//! store (flushed) → MQTT (embedded broker, uplinks with durable outboxes).

pub mod alert;
pub mod analytics;
/// Command-line subcommands owned by their areas; `main.rs` wires them.
pub mod cli {
    pub mod score;
}
pub mod config;
pub mod facility;
pub mod mqtt;
pub mod web;
