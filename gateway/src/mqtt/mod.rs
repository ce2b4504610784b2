//! MQTT: topics, the embedded broker, uplinks.

pub mod uplink_url;
