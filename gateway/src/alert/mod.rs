//! Alerts: the vocabulary ([`types`]), escalation policies ([`policy`]) and the pure [`engine`].

pub mod engine;
pub mod policy;
pub mod types;

pub use engine::{AuditEntry, CommandError, Engine, EngineSettings, Output, Via};
pub use policy::{Level, Policies};
pub use types::{Alert, AlertKind, AlertState, Event, Locale, Location, Priority, Subject};
