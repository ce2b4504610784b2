//! JSON payloads on MQTT (a version `"v"` in every payload). The scheme is documented in
//! docs/MQTT.md; it is a contract with regional platforms and nurse apps.

use chrono::{DateTime, Utc};
use pingan_drivers::{DeviceId, HealthState, Reading, Timestamp};

pub use super::topics::Topics;
use serde_json::{Value, json};

use crate::alert::{Alert, Locale};
use crate::facility::Binding;
use crate::report::handover::{AlertLine, DeviceState, Handover};

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

/// A reading as published on the local broker (and spliced into uplink batches).
///
/// Serialized straight from a borrowed struct: it is the per-reading hot path, so no
/// intermediate JSON map (the measurement's fields, `kind` first, follow the common ones).
#[derive(serde::Serialize)]
struct ReadingPayload<'a> {
    v: u32,
    device: &'a DeviceId,
    at: String,
    at_ms: i64,
    resident: &'a Option<String>,
    room: &'a Option<String>,
    #[serde(flatten)]
    measurement: &'a pingan_drivers::Measurement,
}

/// The JSON text of a reading (see [`ReadingPayload`]; docs/schema/reading.schema.json).
pub fn reading_json(r: &Reading, binding: &Binding) -> Vec<u8> {
    let p = ReadingPayload {
        v: VERSION,
        device: &r.device,
        at: rfc3339(r.at),
        at_ms: r.at.millis(),
        resident: &binding.resident,
        room: &binding.location.room,
        measurement: &r.measurement,
    };
    // Most readings fit: one allocation instead of a few doublings.
    let mut out = Vec::with_capacity(256);
    // Serializing plain fields of owned types cannot fail; an empty object would be a bug.
    match serde_json::to_writer(&mut out, &p) {
        Ok(()) => out,
        Err(_) => b"{}".to_vec(),
    }
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

fn handover_alert(l: &AlertLine) -> Value {
    json!({
        "id": l.id.to_string(),
        "kind": l.kind,
        "priority": l.priority,
        "state": l.state,
        "outcome": l.outcome,
        "resident": l.resident,
        "subject": l.subject,
        "floor": l.location.floor,
        "room": l.location.room,
        "bed": l.location.bed,
        "device": l.device,
        "raised_at": rfc3339(l.raised_at),
        "escalation_level": l.escalation_level,
        "green_channel": l.green_channel,
        "acknowledged_by": l.acknowledged_by,
        "acknowledged_at": opt_time(l.acknowledged_at),
        "closed_at": opt_time(l.closed_at),
        "closed_by": l.closed_by,
    })
}

fn handover_device(d: &DeviceState) -> Value {
    json!({
        "device": d.id,
        "model": d.model,
        "resident": d.resident,
        "floor": d.location.floor,
        "room": d.location.room,
        "health": d.health,
        "battery": d.battery,
        "last_seen": opt_time(d.last_seen),
    })
}

/// The shift handover on `pingan/{site}/handover`: pseudonymous (resident ids, no names) and
/// without the staff's free-text notes, which stay on the dashboard.
pub fn handover(h: &Handover) -> Value {
    json!({
        "v": VERSION,
        "type": "handover",
        "site": h.site,
        "shift": h.shift.shift,
        "shift_date": h.shift.date.to_string(),
        "shift_start": rfc3339(h.shift.start),
        "shift_end": rfc3339(h.shift.end),
        "made_at": rfc3339(h.made_at),
        "trigger": h.trigger,
        "by": h.by,
        "open": h.open.iter().map(handover_alert).collect::<Vec<_>>(),
        "events": h.events.iter().map(handover_alert).collect::<Vec<_>>(),
        "counts": h.counts,
        "devices_offline": h.devices_offline.iter().map(handover_device).collect::<Vec<_>>(),
        "low_battery": h.low_battery.iter().map(handover_device).collect::<Vec<_>>(),
    })
}
