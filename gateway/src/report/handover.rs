//! The shift handover: what the outgoing shift tells the incoming one. Made at a shift's end (and
//! whenever someone asks) from the alerts' trails and the devices' state:
//!
//! - **open**: every alert still open when it is made, unacknowledged first, then by priority;
//! - **events**: the alerts raised during the shift (falls, SOS, vitals and the other care and
//!   safety kinds; device and gateway faults are in the device lists instead), oldest first,
//!   each with how it ended (acknowledged by whom, resolved, cancelled by the resident, cleared);
//! - **counts**: every alert raised during the shift, by kind;
//! - **devices offline** (their driver says so, or an open `device_offline` alert) and **low
//!   battery** (at or under `analytics.battery.low_percent`, or an open `low_battery` alert).

use std::collections::{BTreeMap, BTreeSet};

use pingan_drivers::{DeviceId, HealthState, Timestamp};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use super::setup::VERSION;
use crate::alert::{
    AlertKind, AlertState, AlertTrail, AuditAction, Location, Priority, Subject, Via,
};
use crate::config::{DeviceModel, ShiftInstance};

/// Why a handover was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The shift ended.
    ShiftEnd,
    /// A person asked for it (dashboard, REST).
    OnDemand,
}

/// How an alert of the shift ended (so far).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Nobody has acknowledged it yet.
    Open,
    /// A person acknowledged it; it is still open.
    Acknowledged,
    /// A person resolved it (or it cleared after a person acknowledged it).
    Resolved,
    /// The resident cancelled it.
    Cancelled,
    /// The condition ended before anybody answered.
    Cleared,
}

/// A device as a handover lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceState {
    /// Device id.
    pub id: DeviceId,
    /// What it is.
    pub model: DeviceModel,
    /// The resident it belongs to (pseudonymous id).
    pub resident: Option<String>,
    /// Where it is.
    pub location: Location,
    /// Its link health.
    pub health: HealthState,
    /// Battery, %.
    pub battery: Option<f32>,
    /// Its latest reading.
    pub last_seen: Option<Timestamp>,
}

/// One alert in a handover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertLine {
    /// Alert id.
    pub id: Ulid,
    /// Kind.
    pub kind: AlertKind,
    /// Priority.
    pub priority: Priority,
    /// Lifecycle state now.
    pub state: AlertState,
    /// Whom it is about.
    pub subject: Subject,
    /// The resident's pseudonymous id.
    pub resident: Option<String>,
    /// Where.
    pub location: Location,
    /// The device that observed it.
    pub device: Option<DeviceId>,
    /// When it was raised.
    pub raised_at: Timestamp,
    /// Escalation level reached.
    pub escalation_level: u32,
    /// Sent to the green channel.
    pub green_channel: bool,
    /// Who acknowledged.
    pub acknowledged_by: Option<String>,
    /// When.
    pub acknowledged_at: Option<Timestamp>,
    /// How it ended so far.
    pub outcome: Outcome,
    /// When it was closed.
    pub closed_at: Option<Timestamp>,
    /// Who closed it, when a person did.
    pub closed_by: Option<String>,
    /// The last note a person wrote on it (shown on the dashboard; left out on MQTT, where
    /// free text about residents does not go).
    pub note: Option<String>,
}

/// A shift handover (dashboard, REST, and without notes on MQTT `pingan/{site}/handover`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handover {
    /// Format version.
    pub v: u32,
    /// Site id.
    pub site: String,
    /// The shift handed over.
    pub shift: ShiftInstance,
    /// When it was made.
    pub made_at: Timestamp,
    /// Why.
    pub trigger: Trigger,
    /// Who asked (on demand).
    pub by: Option<String>,
    /// Alerts still open.
    pub open: Vec<AlertLine>,
    /// Care and safety alerts raised during the shift.
    pub events: Vec<AlertLine>,
    /// Every alert raised during the shift, by kind.
    pub counts: BTreeMap<AlertKind, u32>,
    /// Devices offline.
    pub devices_offline: Vec<DeviceState>,
    /// Devices with a low battery.
    pub low_battery: Vec<DeviceState>,
}

/// What a handover is made from.
#[derive(Debug, Clone)]
pub struct HandoverInput<'a> {
    /// Site id.
    pub site: &'a str,
    /// The shift handed over.
    pub shift: ShiftInstance,
    /// Now.
    pub made_at: Timestamp,
    /// Why.
    pub trigger: Trigger,
    /// Who asked.
    pub by: Option<String>,
    /// The open alerts and those raised during the shift (others are ignored).
    pub trails: &'a [AlertTrail],
    /// Every device of the site.
    pub devices: &'a [DeviceState],
    /// A battery at or under this percentage is low.
    pub low_battery_percent: f32,
}

/// Kinds that are about devices or the gateway, listed as devices rather than as events.
fn is_fault(kind: AlertKind) -> bool {
    matches!(
        kind,
        AlertKind::DeviceOffline | AlertKind::LowBattery | AlertKind::Technical
    )
}

fn line(t: &AlertTrail) -> AlertLine {
    let a = &t.alert;
    let answered = a.acknowledged_by.is_some()
        || t.audit
            .iter()
            .any(|e| e.action == AuditAction::Resolved && e.by.is_some());
    let close = t.audit.iter().find(|e| {
        matches!(
            e.action,
            AuditAction::Resolved | AuditAction::Cancelled | AuditAction::Cleared
        )
    });
    let outcome = match (close.map(|e| e.action), answered) {
        (None, false) => Outcome::Open,
        (None, true) => Outcome::Acknowledged,
        (Some(AuditAction::Cancelled), _) => Outcome::Cancelled,
        (Some(_), true) => Outcome::Resolved,
        (Some(_), false) => Outcome::Cleared,
    };
    let note = t
        .audit
        .iter()
        .rev()
        .filter(|e| e.via != Via::System && e.via != Via::Resident)
        .find_map(|e| e.note.clone());
    AlertLine {
        id: a.id,
        kind: a.kind,
        priority: a.priority,
        state: a.state,
        subject: a.subject.clone(),
        resident: a.resident.clone(),
        location: a.location.clone(),
        device: a.device.clone(),
        raised_at: a.raised_at,
        escalation_level: a.escalation_level,
        green_channel: a.green_channel,
        acknowledged_by: a.acknowledged_by.clone(),
        acknowledged_at: a.acknowledged_at,
        outcome,
        closed_at: close.map(|e| e.at),
        closed_by: close.and_then(|e| e.by.clone()),
        note,
    }
}

/// Makes the handover.
pub fn build(input: &HandoverInput<'_>) -> Handover {
    let shift = &input.shift;
    let in_shift = |t: &AlertTrail| {
        let at = t.alert.raised_at;
        shift.start <= at && at < shift.end && at <= input.made_at
    };
    let mut open: Vec<&AlertTrail> = input
        .trails
        .iter()
        .filter(|t| t.alert.state.is_open())
        .collect();
    open.sort_by_key(|t| {
        let a = &t.alert;
        (
            a.state.is_acknowledged(),
            std::cmp::Reverse(a.priority),
            std::cmp::Reverse(a.raised_at),
            a.id,
        )
    });
    let mut during: Vec<&AlertTrail> = input.trails.iter().filter(|t| in_shift(t)).collect();
    during.sort_by_key(|t| (t.alert.raised_at, t.alert.id));
    // The same alert may be given twice (open and raised in the shift).
    let mut seen = BTreeSet::new();
    during.retain(|t| seen.insert(t.alert.id));
    let mut counts = BTreeMap::new();
    for t in &during {
        *counts.entry(t.alert.kind).or_insert(0) += 1;
    }
    let open_fault = |kind: AlertKind, d: &DeviceId| {
        open.iter()
            .any(|t| t.alert.kind == kind && t.alert.device.as_ref() == Some(d))
    };
    let mut devices: Vec<&DeviceState> = input.devices.iter().collect();
    devices.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let devices_offline = devices
        .iter()
        .filter(|d| d.health == HealthState::Offline || open_fault(AlertKind::DeviceOffline, &d.id))
        .map(|d| (*d).clone())
        .collect();
    let low_battery = devices
        .iter()
        .filter(|d| {
            d.battery.is_some_and(|b| b <= input.low_battery_percent)
                || open_fault(AlertKind::LowBattery, &d.id)
        })
        .map(|d| (*d).clone())
        .collect();
    Handover {
        v: VERSION,
        site: input.site.to_owned(),
        shift: shift.clone(),
        made_at: input.made_at,
        trigger: input.trigger,
        by: input.by.clone(),
        open: open.into_iter().map(line).collect(),
        events: during
            .into_iter()
            .filter(|t| !is_fault(t.alert.kind))
            .map(line)
            .collect(),
        counts,
        devices_offline,
        low_battery,
    }
}

#[cfg(test)]
mod tests;
