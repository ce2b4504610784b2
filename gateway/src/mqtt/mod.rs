//! MQTT: the embedded broker (rumqttd behind a guarded front: `guard` decides, `front` proxies,
//! `connect_packet` reads the CONNECT,
//! `subscribe_packet` and `interest` follow who subscribes to what), connections out (the local link and uplinks) with
//! durable outboxes, topics and payloads, and commands in.

pub mod broker;
pub mod command;
pub mod connect_packet;
pub mod front;
pub mod guard;
pub mod interest;
pub mod link;
pub mod mosquitto;
pub mod payload;
pub mod referral;
pub mod subscribe_packet;
pub mod tls;
pub mod topics;

pub use topics::{Inbound, Topics};
