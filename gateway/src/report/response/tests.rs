use std::collections::HashMap;
use std::time::Duration;

use super::*;
use crate::alert::{Level, Policies};
use crate::config::Shifts;
use crate::config::window::Timezone;
use crate::report::testkit::{MIN, Step, local, trail};
use AuditAction::{Acknowledged, Cancelled, Cleared, Delivered, Escalated, Resolved};

fn setup() -> ReportSetup {
    // SOS: nurse, then the hospital at level 2.
    let policies = Policies::new(
        HashMap::from([(
            AlertKind::Sos,
            vec![
                Level {
                    contacts: vec!["nurse".into()],
                    timeout: Some(Duration::from_secs(60)),
                },
                Level {
                    contacts: vec!["head-nurse".into()],
                    timeout: Some(Duration::from_secs(60)),
                },
                Level {
                    contacts: vec!["hospital".into()],
                    timeout: None,
                },
            ],
        )]),
        vec!["hospital".into()],
    );
    ReportSetup::new(Timezone::default(), Shifts::default(), &policies)
}

fn day_report(trails: &[AlertTrail]) -> ResponseReport {
    build(&setup(), trails, local(0, 0), local(24, 0), local(30, 0))
}

fn shift<'a>(r: &'a ResponseReport, id: &str) -> &'a Stats {
    &r.by_shift.iter().find(|s| s.shift == id).unwrap().stats
}

#[test]
fn escalation_to_the_hospital_level_is_a_green_channel_referral() {
    let s = setup();
    assert!(!s.is_green_level(AlertKind::Sos, 1));
    assert!(s.is_green_level(AlertKind::Sos, 2));
    assert!(!s.is_green_level(AlertKind::Fall, 2));
    let steps: &[Step] = &[
        (Escalated, 1, None),
        (Escalated, 2, None),
        (Acknowledged, 3, Some("li")),
    ];
    let r = day_report(&[trail(1, AlertKind::Sos, Priority::High, local(8, 0), steps)]);
    let day = shift(&r, "day");
    assert_eq!(
        (day.escalations, day.escalated, day.green_channel),
        (2, 1, 1)
    );
    let once: &[Step] = &[(Escalated, 1, None), (Acknowledged, 2, Some("li"))];
    let r = day_report(&[trail(2, AlertKind::Sos, Priority::High, local(8, 0), once)]);
    assert_eq!(shift(&r, "day").green_channel, 0);
}

#[test]
fn alerts_fall_into_the_shift_their_raise_is_in_even_after_midnight() {
    let none: &[Step] = &[];
    let trails = [
        trail(1, AlertKind::Sos, Priority::High, local(6, 59), none),
        trail(2, AlertKind::Sos, Priority::High, local(7, 0), none),
        trail(3, AlertKind::Fall, Priority::Medium, local(15, 30), none),
        trail(4, AlertKind::Fall, Priority::High, local(23, 30), none),
        // Outside the span: ignored.
        trail(5, AlertKind::Fall, Priority::High, local(24, 30), none),
    ];
    let r = day_report(&trails);
    let counts: Vec<(&str, u32, u32)> = r
        .by_shift
        .iter()
        .map(|s| (s.shift.as_str(), s.stats.alerts, s.instances))
        .collect();
    // The span 00:00–24:00 touches last night's shift, today's day and evening, and tonight's.
    assert_eq!(counts, [("day", 1, 1), ("evening", 1, 1), ("night", 2, 2)]);
    assert_eq!(r.total.alerts, 4);
    assert_eq!(r.total.open, 4);
    assert_eq!(r.total.never_acknowledged, 4);
}

#[test]
fn time_to_acknowledge_and_resolve_come_from_the_audit_entries() {
    let trails = [
        trail(
            1,
            AlertKind::Sos,
            Priority::High,
            local(8, 0),
            &[
                (Delivered, 0, None),
                (Acknowledged, 1, Some("li")),
                (Resolved, 5, Some("li")),
            ],
        ),
        trail(
            2,
            AlertKind::Sos,
            Priority::High,
            local(9, 0),
            &[
                (Acknowledged, 3, Some("wang")),
                (Resolved, 10, Some("wang")),
            ],
        ),
        // Resolved without acknowledging first: the resolution is the answer.
        trail(
            3,
            AlertKind::Sos,
            Priority::High,
            local(10, 0),
            &[(Resolved, 2, Some("li"))],
        ),
        // Acknowledged, then the condition cleared by itself: resolved.
        trail(
            4,
            AlertKind::Sos,
            Priority::High,
            local(11, 0),
            &[(Acknowledged, 4, Some("li")), (Cleared, 4, None)],
        ),
    ];
    let r = day_report(&trails);
    let s = &r.rows[0].stats;
    assert_eq!(
        (r.rows[0].kind, r.rows[0].priority),
        (AlertKind::Sos, Priority::High)
    );
    assert_eq!(
        (s.alerts, s.acknowledged, s.resolved, s.never_acknowledged),
        (4, 4, 4, 0)
    );
    assert_eq!(
        s.time_to_acknowledge,
        Some(Spread {
            median_ms: 2 * MIN,
            p90_ms: 4 * MIN,
            max_ms: 4 * MIN
        })
    );
    assert_eq!(
        s.time_to_resolve,
        Some(Spread {
            median_ms: 4 * MIN,
            p90_ms: 10 * MIN,
            max_ms: 10 * MIN
        })
    );
}

#[test]
fn unanswered_alerts_are_told_apart_by_how_they_ended() {
    let trails = [
        trail(
            1,
            AlertKind::Sos,
            Priority::High,
            local(8, 0),
            &[(Cancelled, 0, None)],
        ),
        trail(
            2,
            AlertKind::BedExit,
            Priority::Medium,
            local(8, 0),
            &[(Cleared, 3, None)],
        ),
        trail(
            3,
            AlertKind::Fall,
            Priority::High,
            local(8, 0),
            &[(Escalated, 1, None)],
        ),
    ];
    let r = day_report(&trails);
    let t = &r.total;
    assert_eq!(
        (t.cancelled, t.cleared, t.open, t.never_acknowledged),
        (1, 1, 1, 3)
    );
    assert_eq!((t.acknowledged, t.resolved), (0, 0));
    assert_eq!(t.time_to_acknowledge, None);
    // Rows: per kind, then priority high before low.
    let kinds: Vec<AlertKind> = r.rows.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, [AlertKind::Sos, AlertKind::Fall, AlertKind::BedExit]);
}

#[test]
fn a_backwards_clock_jump_counts_as_an_anomaly_and_never_as_a_negative_time() {
    // The clock was set back 10 minutes between the raise and the acknowledgement.
    let jumped: &[Step] = &[(Acknowledged, -8, Some("li")), (Resolved, -5, Some("li"))];
    let r = day_report(&[trail(
        1,
        AlertKind::Sos,
        Priority::High,
        local(8, 0),
        jumped,
    )]);
    let t = &r.total;
    assert_eq!(t.clock_anomalies, 1);
    assert_eq!(t.time_to_acknowledge.map(|s| s.max_ms), Some(0));
    assert_eq!(t.time_to_resolve.map(|s| s.max_ms), Some(0));
    // An acknowledgement written after a jump but still later than the raise is measured as is.
    let later: &[Step] = &[(Delivered, -20, None), (Acknowledged, 2, Some("li"))];
    let r = day_report(&[trail(2, AlertKind::Sos, Priority::High, local(8, 0), later)]);
    assert_eq!(r.total.clock_anomalies, 1);
    assert_eq!(r.total.time_to_acknowledge.map(|s| s.max_ms), Some(2 * MIN));
}

#[test]
fn every_alert_raised_in_the_span_is_counted_exactly_once() {
    let none: &[Step] = &[];
    let trails: Vec<AlertTrail> = (0..50)
        .map(|i| {
            let kind = AlertKind::ALL[i as usize % AlertKind::ALL.len()];
            trail(i, kind, Priority::Medium, local(i as i64, 7), none)
        })
        .collect();
    let r = build(&setup(), &trails, local(0, 0), local(50, 0), local(60, 0));
    assert_eq!(r.total.alerts, 50);
    assert_eq!(r.rows.iter().map(|x| x.stats.alerts).sum::<u32>(), 50);
    assert_eq!(r.by_shift.iter().map(|x| x.stats.alerts).sum::<u32>(), 50);
    assert_eq!(r.by_kind.iter().map(|x| x.stats.alerts).sum::<u32>(), 50);
}
