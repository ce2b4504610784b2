//! JSON payloads on MQTT (a version `"v"` in every payload). The scheme is documented in
//! docs/MQTT.md; it is a contract with regional platforms and nurse apps.

use chrono::{DateTime, Utc};
use pingan_drivers::{DeviceId, HealthState, Reading, Timestamp};

pub use super::topics::Topics;
use serde_json::{Value, json};

use crate::alert::{Alert, Locale};
use crate::facility::Binding;

/// Payload format version (every payload but the alert snapshot).
pub const VERSION: u32 = 1;
/// Version of the alert snapshot: 2 added `delivered_to` and made `delivered` mean that a link
/// meant for people confirmed it (docs/MQTT.md).
pub const ALERT_VERSION: u32 = 2;

/// RFC 3339 UTC with milliseconds.
pub fn rfc3339(t: Timestamp) -> String {
    DateTime::<Utc>::from_timestamp_millis(t.millis())
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn opt_time(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(rfc3339(t)))
}

/// The alert snapshot published on every change.
pub fn alert(a: &Alert, locale: Locale, notify: &[String]) -> Value {
    json!({
        "v": ALERT_VERSION,
        "id": a.id.to_string(),
        "revision": a.revision,
        "kind": a.kind,
        "title": a.kind.label(locale),
        "priority": a.priority,
        "state": a.state,
        "resident": a.resident,
        "subject": a.subject,
        "floor": a.location.floor,
        "room": a.location.room,
        "bed": a.location.bed,
        "device": a.device,
        "raised_at": rfc3339(a.raised_at),
        "last_seen": rfc3339(a.last_seen),
        "count": a.count,
        "escalation_level": a.escalation_level,
        "escalate_at": opt_time(a.escalate_at),
        "cancel_until": opt_time(a.cancel_until),
        "condition_cleared": a.condition_cleared,
        "green_channel": a.green_channel,
        "delivered_to": a.delivered_to,
        "acknowledged_by": a.acknowledged_by,
        "acknowledged_at": opt_time(a.acknowledged_at),
        "resolved_at": opt_time(a.resolved_at),
        "resolution": a.resolution,
        "notify": notify,
        "detail": a.detail,
        "evidence": a.evidence,
    })
}

/// A reading as published on the local broker (and downsampled on uplinks).
pub fn reading(r: &Reading, binding: &Binding) -> Value {
    let mut v = serde_json::to_value(&r.measurement).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("v".into(), json!(VERSION));
        m.insert("device".into(), json!(r.device));
        m.insert("at".into(), json!(rfc3339(r.at)));
        m.insert("at_ms".into(), json!(r.at.millis()));
        m.insert("resident".into(), json!(binding.resident));
        m.insert("room".into(), json!(binding.location.room));
    }
    v
}

/// The retained gateway status.
pub fn status(site: &str, online: bool, at: Timestamp) -> Value {
    json!({
        "v": VERSION,
        "site": site,
        "status": if online { "online" } else { "offline" },
        "at": rfc3339(at),
    })
}

/// A device's health.
pub fn health(device: &DeviceId, state: HealthState, detail: &str, at: Timestamp) -> Value {
    json!({
        "v": VERSION,
        "device": device,
        "state": state,
        "detail": detail,
        "at": rfc3339(at),
    })
}

/// The result of a person's device command (`pingan/{site}/devices/{device}/commands/{command}`).
pub fn device_command_result(
    device: &DeviceId,
    command: &str,
    by: &str,
    result: &Result<(), String>,
    at: Timestamp,
) -> Value {
    json!({
        "v": VERSION,
        "device": device,
        "command": command,
        "by": by,
        "ok": result.is_ok(),
        "error": result.as_ref().err(),
        "at": rfc3339(at),
    })
}
