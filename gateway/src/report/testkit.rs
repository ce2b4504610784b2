//! Alerts with audit trails written as tables, for the report tests.

use pingan_drivers::{DeviceId, Timestamp};
use ulid::Ulid;

use crate::alert::{
    Alert, AlertKind, AlertState, AlertTrail, AuditAction, AuditEntry, Location, Priority, Subject,
    Via,
};

/// 2026-07-01 00:00 in Shanghai (UTC+8).
pub(crate) const MIDNIGHT_JUL1_CST: i64 = 1_782_835_200_000;
/// A minute, ms.
pub(crate) const MIN: i64 = 60_000;

/// Local time on 1 July 2026 in Shanghai (hours may run past 24).
pub(crate) fn local(h: i64, m: i64) -> Timestamp {
    Timestamp(MIDNIGHT_JUL1_CST + h * 60 * MIN + m * MIN)
}

/// One audit step: action, minutes after the raise (may be negative: a clock jump), the person.
pub(crate) type Step = (AuditAction, i64, Option<&'static str>);

/// An alert of `kind`/`priority` for resident `resident`, raised at `raised`, with `steps` after
/// its `raised` entry; its latest revision follows the steps.
pub(crate) fn trail(
    n: u64,
    kind: AlertKind,
    priority: Priority,
    raised: Timestamp,
    steps: &[Step],
) -> AlertTrail {
    let id = Ulid::from_parts(raised.millis() as u64, u128::from(n));
    let mut alert = Alert {
        id,
        revision: 1,
        kind,
        priority,
        subject: Subject::Resident(format!("R{n}")),
        resident: Some(format!("R{n}")),
        location: Location {
            floor: Some("1F".into()),
            room: Some(format!("10{n}")),
            bed: None,
        },
        device: Some(DeviceId::new(format!("w-{n}"))),
        raised_at: raised,
        last_seen: raised,
        count: 1,
        state: AlertState::Raised,
        escalation_level: 0,
        escalate_at: None,
        condition_cleared: false,
        cancel_until: None,
        green_channel: false,
        delivered_to: Vec::new(),
        acknowledged_by: None,
        acknowledged_at: None,
        resolved_at: None,
        resolution: None,
        detail: String::new(),
        evidence: serde_json::Value::Null,
    };
    let entry = |revision, at, action, by: Option<&str>, via| AuditEntry {
        alert: id,
        revision,
        at,
        action,
        by: by.map(str::to_owned),
        account: by.map(str::to_owned),
        via,
        note: by.map(|_| "at the bedside".to_owned()),
    };
    let mut audit = vec![entry(1, raised, AuditAction::Raised, None, Via::System)];
    for (i, (action, minutes, by)) in steps.iter().enumerate() {
        let at = Timestamp(raised.millis() + minutes * MIN);
        let via = match (action, by) {
            (AuditAction::Cancelled, _) => Via::Resident,
            (_, Some(_)) => Via::Http,
            _ => Via::System,
        };
        audit.push(entry(i as u32 + 2, at, *action, *by, via));
        alert.revision = i as u32 + 2;
        match action {
            AuditAction::Delivered => alert.state = AlertState::Delivered,
            AuditAction::Escalated => {
                alert.state = AlertState::Escalated;
                alert.escalation_level += 1;
            }
            AuditAction::Acknowledged => {
                alert.state = AlertState::Acknowledged;
                alert.acknowledged_by = by.map(str::to_owned);
                alert.acknowledged_at = Some(at);
            }
            AuditAction::Resolved | AuditAction::Cancelled | AuditAction::Cleared => {
                alert.state = AlertState::Resolved;
                alert.resolved_at = Some(at);
            }
            _ => {}
        }
    }
    AlertTrail { alert, audit }
}
