//! One MQTT connection out (the local link to the embedded broker, or an uplink), draining a
//! durable outbox: a thin I/O loop around the pure [`state`] machine and, for an uplink to a
//! broker cluster, the pure [`endpoints`] rotation over its nodes.
//!
//! An outbox message leaves the outbox only on the PUBACK for its own packet. To know which
//! packet id a message got without relying on rumqttc's internal numbering, one outbox message is
//! in flight at a time (stop-and-wait): at a loopback round trip of well under a millisecond this
//! still moves thousands of alert revisions a second, far beyond any care home's alert rate.
//! rumqttc's own retransmission queue is discarded on every disconnect: the outbox is the single
//! source of truth and is replayed from its start on every (re)connect. Receivers deduplicate on
//! `id` + `revision`.

mod batch;
mod drain;
mod endpoints;
mod local;
mod state;
mod types;
mod uplink;

pub use batch::BATCH_VERSION;
pub use local::LocalLinkTask;
pub use types::{
    LOCAL_ACK_TIMEOUT, LinkEvent, LinkSettings, LinkStats, Telemetry, TelemetryMsg, offer_telemetry,
};
pub use uplink::LinkTask;
