//! The response report: how fast the team answered alerts, per shift, alert kind and priority.
//!
//! Computed from each alert's audit trail ([`AlertTrail`]), never from counters the gateway keeps
//! while running, so it is the same after any number of restarts. For every alert raised in the
//! report's span (the time of its `raised` entry):
//!
//! - its **shift** is the shift instance that time falls in (local time, `[[shifts]]`);
//! - **acknowledged** when a person acknowledged it, or resolved it without acknowledging first
//!   (the first `acknowledged` entry, else a `resolved` entry with a person); **time to
//!   acknowledge** runs from `raised` to that entry;
//! - **resolved** when, after a person answered it, it was closed (resolved by a person, or
//!   cleared because the condition ended); **time to resolve** runs from `raised` to the close;
//! - **never acknowledged** otherwise, split by how it ended: `cancelled` by the resident,
//!   `cleared` by itself (the condition ended before anyone answered), or still `open` when the
//!   report was made;
//! - **escalations** counts `escalated` entries (`escalated` the alerts with at least one);
//!   **green channel** the alerts referred to a hospital: sent at once (a NEWS2 emergency, the
//!   alert's `green_channel`) or escalated to a level with a green-channel contact.
//!
//! Times are the entries' own times, taken in trail order (revision order, which a clock change
//! cannot reorder). A clock that jumped backwards between two entries of an alert shows as an
//! entry earlier than the one before it: that alert counts in `clock_anomalies`, and a duration
//! it would make negative counts as zero. A forward jump cannot be told from a slow answer and
//! lengthens the times it spans.

use std::collections::BTreeMap;

use pingan_drivers::Timestamp;
use serde::{Deserialize, Serialize};

use super::setup::{ReportSetup, VERSION};
use super::spread::Spread;
use crate::alert::{AlertKind, AlertTrail, AuditAction, AuditEntry, Locale, Priority};
use crate::config::window::{ClockTime, Timezone};

/// Longest span a report covers.
pub const MAX_SPAN_DAYS: i64 = 366;

/// A shift as a report names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftView {
    /// Its id.
    pub id: String,
    /// Its display name, if the config gives one.
    pub name: Option<String>,
    /// Local start.
    pub start: ClockTime,
    /// Local end (the next shift's start).
    pub end: ClockTime,
}

/// Figures about a group of alerts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Alerts raised.
    pub alerts: u32,
    /// Acknowledged (or resolved) by a person.
    pub acknowledged: u32,
    /// Time from raised to a person's acknowledgement.
    pub time_to_acknowledge: Option<Spread>,
    /// Closed after a person answered.
    pub resolved: u32,
    /// Time from raised to closed, for those.
    pub time_to_resolve: Option<Spread>,
    /// Nobody acknowledged: `cancelled + cleared + open`.
    pub never_acknowledged: u32,
    /// Cancelled by the resident within the cancel window.
    pub cancelled: u32,
    /// Cleared by itself before anybody answered.
    pub cleared: u32,
    /// Still open and unanswered when the report was made.
    pub open: u32,
    /// Escalation steps taken.
    pub escalations: u32,
    /// Alerts escalated at least once.
    pub escalated: u32,
    /// Alerts referred to the green channel.
    pub green_channel: u32,
    /// Alerts whose trail shows the clock going backwards.
    pub clock_anomalies: u32,
}

/// The figures of one shift, kind and priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The shift's id.
    pub shift: String,
    /// The alert kind.
    pub kind: AlertKind,
    /// The alert's priority (its highest: priorities only rise).
    pub priority: Priority,
    /// The figures.
    #[serde(flatten)]
    pub stats: Stats,
}

/// The figures of one kind and priority over every shift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindRow {
    /// The alert kind.
    pub kind: AlertKind,
    /// The priority.
    pub priority: Priority,
    /// The figures.
    #[serde(flatten)]
    pub stats: Stats,
}

/// The figures of one shift over every kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShiftRow {
    /// The shift's id.
    pub shift: String,
    /// How many instances of the shift the span covers (wholly or partly).
    pub instances: u32,
    /// The figures.
    #[serde(flatten)]
    pub stats: Stats,
}

/// The response report (JSON on the REST API and `pingan report --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseReport {
    /// Format version.
    pub v: u32,
    /// Alerts raised from here (inclusive)…
    pub from: Timestamp,
    /// …to here (exclusive).
    pub to: Timestamp,
    /// The site's time zone, in which shifts are given.
    pub timezone: Timezone,
    /// The site's language (the default of labels).
    pub locale: Locale,
    /// When the report was made: "still open" is as of then.
    pub made_at: Timestamp,
    /// The shifts, earliest start first.
    pub shifts: Vec<ShiftView>,
    /// Per shift, kind and priority (groups with alerts only).
    pub rows: Vec<Row>,
    /// Per shift (every shift, also without alerts).
    pub by_shift: Vec<ShiftRow>,
    /// Per kind and priority over every shift.
    pub by_kind: Vec<KindRow>,
    /// Everything.
    pub total: Stats,
}

/// What one alert's trail says.
#[derive(Debug, Clone, PartialEq)]
struct Reading {
    raised: Timestamp,
    ack_ms: Option<i64>,
    resolve_ms: Option<i64>,
    unanswered: Option<Unanswered>,
    escalations: u32,
    green: bool,
    clock_anomaly: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unanswered {
    Cancelled,
    Cleared,
    Open,
}

fn is_close(action: AuditAction) -> bool {
    matches!(
        action,
        AuditAction::Resolved | AuditAction::Cancelled | AuditAction::Cleared
    )
}

fn is_answer(e: &AuditEntry) -> bool {
    e.action == AuditAction::Acknowledged || (e.action == AuditAction::Resolved && e.by.is_some())
}

fn read(t: &AlertTrail, setup: &ReportSetup) -> Reading {
    let a = &t.alert;
    let raised = t
        .audit
        .iter()
        .find(|e| e.action == AuditAction::Raised)
        .map_or(a.raised_at, |e| e.at);
    let mut clock_anomaly = t.audit.windows(2).any(|w| w[1].at < w[0].at);
    let mut since_raised = |e: &AuditEntry| {
        let d = e.at.millis() - raised.millis();
        if d < 0 {
            clock_anomaly = true;
        }
        d.max(0)
    };
    let answer = t.audit.iter().position(is_answer);
    let close = t.audit.iter().position(|e| is_close(e.action));
    let ack_ms = answer.and_then(|i| t.audit.get(i)).map(&mut since_raised);
    let resolve_ms = match (answer, close) {
        (Some(_), Some(c)) => t.audit.get(c).map(&mut since_raised),
        _ => None,
    };
    let unanswered = match answer {
        Some(_) => None,
        None => Some(match close.and_then(|c| t.audit.get(c)).map(|e| e.action) {
            Some(AuditAction::Cancelled) => Unanswered::Cancelled,
            Some(_) => Unanswered::Cleared,
            None => Unanswered::Open,
        }),
    };
    let escalations = t
        .audit
        .iter()
        .filter(|e| e.action == AuditAction::Escalated)
        .count() as u32;
    // The n-th escalation moves the alert to level n.
    let green = a.green_channel || (1..=escalations).any(|l| setup.is_green_level(a.kind, l));
    Reading {
        raised,
        ack_ms,
        resolve_ms,
        unanswered,
        escalations,
        green,
        clock_anomaly,
    }
}

/// A group's figures while they are being added up.
#[derive(Debug, Default)]
struct Tally {
    stats: Stats,
    ack: Vec<i64>,
    resolve: Vec<i64>,
}

impl Tally {
    fn add(&mut self, r: &Reading) {
        let s = &mut self.stats;
        s.alerts += 1;
        if let Some(ms) = r.ack_ms {
            s.acknowledged += 1;
            self.ack.push(ms);
        }
        if let Some(ms) = r.resolve_ms {
            s.resolved += 1;
            self.resolve.push(ms);
        }
        match r.unanswered {
            Some(Unanswered::Cancelled) => s.cancelled += 1,
            Some(Unanswered::Cleared) => s.cleared += 1,
            Some(Unanswered::Open) => s.open += 1,
            None => {}
        }
        if r.unanswered.is_some() {
            s.never_acknowledged += 1;
        }
        s.escalations += r.escalations;
        s.escalated += u32::from(r.escalations > 0);
        s.green_channel += u32::from(r.green);
        s.clock_anomalies += u32::from(r.clock_anomaly);
    }

    fn finish(mut self) -> Stats {
        self.stats.time_to_acknowledge = Spread::of(&self.ack);
        self.stats.time_to_resolve = Spread::of(&self.resolve);
        self.stats
    }
}

/// The report over alerts raised in `from..to`, made at `made_at`. `trails` may hold any alerts;
/// those raised outside the span are ignored.
pub fn build(
    setup: &ReportSetup,
    trails: &[AlertTrail],
    from: Timestamp,
    to: Timestamp,
    made_at: Timestamp,
) -> ResponseReport {
    let tz = setup.tz();
    let order: Vec<String> = setup.shifts.list().iter().map(|s| s.id.clone()).collect();
    let rank = |id: &str| order.iter().position(|o| o == id).unwrap_or(order.len());
    let mut rows: BTreeMap<(usize, AlertKind, std::cmp::Reverse<Priority>), Tally> =
        BTreeMap::new();
    let mut by_shift: BTreeMap<usize, Tally> = BTreeMap::new();
    let mut by_kind: BTreeMap<(AlertKind, std::cmp::Reverse<Priority>), Tally> = BTreeMap::new();
    let mut total = Tally::default();
    // A shift a time falls in that the config no longer has (it cannot happen with tiling shifts,
    // but a report never drops an alert): counted under "other".
    let mut names = order.clone();
    names.push("other".to_owned());
    for t in trails {
        let r = read(t, setup);
        if r.raised < from || r.raised >= to {
            continue;
        }
        let shift = setup
            .shifts
            .at(r.raised, tz)
            .map_or(order.len(), |i| rank(&i.shift));
        let prio = std::cmp::Reverse(t.alert.priority);
        rows.entry((shift, t.alert.kind, prio)).or_default().add(&r);
        by_shift.entry(shift).or_default().add(&r);
        by_kind.entry((t.alert.kind, prio)).or_default().add(&r);
        total.add(&r);
    }
    let mut instances: BTreeMap<usize, u32> = BTreeMap::new();
    for i in setup.shifts.between(from, to, tz) {
        *instances.entry(rank(&i.shift)).or_default() += 1;
    }
    let name = |i: usize| names.get(i).cloned().unwrap_or_default();
    let mut shift_rows: Vec<ShiftRow> = (0..order.len())
        .map(|i| ShiftRow {
            shift: name(i),
            instances: instances.get(&i).copied().unwrap_or(0),
            stats: by_shift.remove(&i).map(Tally::finish).unwrap_or_default(),
        })
        .collect();
    shift_rows.extend(by_shift.into_iter().map(|(i, t)| ShiftRow {
        shift: name(i),
        instances: 0,
        stats: t.finish(),
    }));
    ResponseReport {
        v: VERSION,
        from,
        to,
        timezone: setup.timezone,
        locale: setup.locale,
        made_at,
        shifts: setup
            .shifts
            .list()
            .iter()
            .map(|s| ShiftView {
                id: s.id.clone(),
                name: s.name.clone(),
                start: s.start,
                end: setup.shifts.end_of(&s.id).unwrap_or(s.start),
            })
            .collect(),
        rows: rows
            .into_iter()
            .map(|((s, kind, p), t)| Row {
                shift: name(s),
                kind,
                priority: p.0,
                stats: t.finish(),
            })
            .collect(),
        by_shift: shift_rows,
        by_kind: by_kind
            .into_iter()
            .map(|((kind, p), t)| KindRow {
                kind,
                priority: p.0,
                stats: t.finish(),
            })
            .collect(),
        total: total.finish(),
    }
}

#[cfg(test)]
mod tests;
