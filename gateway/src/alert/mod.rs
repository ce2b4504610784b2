//! Alerts: the vocabulary ([`types`]), alert ids as text ([`id`]), who acts on an alert
//! ([`actor`]), the audit trail's words ([`audit`]), escalation policies ([`policy`]) and the
//! pure [`engine`].

pub mod actor;
pub mod audit;
pub mod engine;
pub mod id;
pub mod policy;
pub mod types;

pub use actor::{Actor, MAX_PERSON, PersonError, Role, check_person};
pub use audit::{Act, ActionRecord, ActionSubject, AlertTrail, AuditAction, AuditEntry, Via};
pub use engine::{CommandError, Engine, EngineSettings, Output};
pub use id::{AlertIdError, parse_alert_id};
pub use policy::{Level, Policies};
pub use types::{Alert, AlertKind, AlertState, Event, Locale, Location, Priority, Subject};
