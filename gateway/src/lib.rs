//! The Pingan gateway: one process per site that turns device readings into alerts that arrive.
//! ARCHITECTURE.md (repository root) draws the floors and the data flow; in short, a module
//! imports only modules on lower floors:
//!
//! - floor 0 — [`config`]: the site configuration and its vocabulary, with `FILE:LINE:COL`
//!   errors; [`clock`]: where the running gateway reads the time; [`log_limit`]: repeated problems
//!   logged at a low rate; [`metrics`]: the Prometheus families the service records into;
//!   [`health`]: the health report and which of its facts need a person; [`rate_limit`]: token
//!   buckets by key; [`fd_limit`]: the open-file limit and the connection caps that fit in it; [`cold_pages`]:
//!   memory start-up touched, given back; [`shared`]: values
//!   swapped whole while tasks read them (the facility, escalation policies).
//! - floor 1 — [`alert`]: alert vocabulary, audit, escalation policies and the pure alert engine.
//! - floor 2 — [`facility`]: residents, rooms and device bindings; [`store`]: the sled store
//!   (the only module that sees sled).
//! - floor 3 — [`analytics`]: the pure rules; [`report`]: the pure reports (response times per
//!   shift, the shift handover); [`care`]: care records (care flags, escalation)
//!   changed while the gateway runs, kept as an overlay over the site file.
//! - floor 4 — [`pipeline`]: the pure pipeline built once from the config, used by the service,
//!   `pingan replay` and the benches; [`mqtt`]: topics, payloads, commands, the embedded broker,
//!   links.
//! - floor 5 — [`web`]: the dashboard and REST API over a `Backend`.
//! - floor 6 — [`service`]: the running gateway's tasks, wiring and shutdown.
//! - floor 7 — [`cli`]: the `pingan` subcommands.
//!
//! Drivers (crate `pingan-drivers`) → pipeline (normalize + analytics) → alert engine → effects
//! (store, outboxes, one flush) → MQTT links (embedded broker, uplinks) → PUBACK → delivered.

pub mod alert;
pub mod analytics;
pub mod care;
pub mod cli;
pub mod clock;
pub mod cold_pages;
pub mod config;
pub mod facility;
pub mod fd_limit;
pub mod health;
pub mod log_limit;
pub mod metrics;
pub mod mqtt;
pub mod pipeline;
pub mod rate_limit;
pub mod report;
pub mod service;
pub mod shared;
pub mod store;
pub mod web;
