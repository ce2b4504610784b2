//! MQTT: the embedded broker, connections out (the local link and uplinks) with durable
//! outboxes, topics and payloads, and commands in.

pub mod broker;
pub mod command;
pub mod link;
pub mod payload;
pub mod referral;
pub mod tls;
pub mod topics;

pub use topics::{Inbound, Topics};
