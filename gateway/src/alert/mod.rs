//! Alerts: the vocabulary ([`types`]), the audit trail's words ([`audit`]), escalation policies
//! ([`policy`]) and the pure [`engine`].

pub mod audit;
pub mod engine;
pub mod policy;
pub mod types;

pub use audit::{Act, ActionRecord, ActionSubject, AlertTrail, AuditAction, AuditEntry, Via};
pub use engine::{CommandError, Engine, EngineSettings, Output};
pub use policy::{Level, Policies};
pub use types::{Alert, AlertKind, AlertState, Event, Locale, Location, Priority, Subject};
