//! Reports for the people on shift and the manager, computed from alerts and their audit trails
//! only: pure functions, no clock, no store. The service, the dashboard and `pingan report` feed
//! them what the store holds.
//!
//! - [`response`]: the response report: per shift, alert kind and priority, how many alerts,
//!   how fast they were acknowledged and resolved (median, 90th percentile, maximum),
//!   escalations, green-channel referrals, alerts nobody acknowledged.
//! - [`handover`]: the shift handover: what is still open, what happened during the shift and
//!   how it ended, devices offline or with a low battery.
//! - [`csv`]: the response report as CSV, labelled in Chinese or English.
//! - [`period`]: the span of a report as people write it (dates, local times, RFC 3339).
//! - [`ReportSetup`]: what they need of the site config (time zone, shifts, which escalation
//!   levels reach a hospital).

pub mod csv;
pub mod handover;
pub mod period;
pub mod response;
mod setup;
mod spread;
#[cfg(test)]
pub(crate) mod testkit;

pub use handover::{Handover, HandoverInput, Trigger};
pub use response::{ResponseReport, Row, Stats};
pub use setup::{ReportSetup, VERSION};
pub use spread::Spread;
