use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::alert::policy::Level;

const S: i64 = 1000;

fn policies() -> Policies {
    let medical = vec![
        Level {
            contacts: vec!["nurse".into()],
            timeout: Some(Duration::from_secs(60)),
        },
        Level {
            contacts: vec!["charge".into()],
            timeout: Some(Duration::from_secs(120)),
        },
        Level {
            contacts: vec!["hospital".into()],
            timeout: None,
        },
    ];
    let fire = vec![Level {
        contacts: vec!["nurse".into(), "charge".into(), "director".into()],
        timeout: None,
    }];
    let mut by_kind = HashMap::new();
    for k in AlertKind::ALL {
        let levels = match k {
            AlertKind::Smoke => fire.clone(),
            AlertKind::Environment => vec![Level {
                contacts: vec!["nurse".into()],
                timeout: None,
            }],
            _ => medical.clone(),
        };
        by_kind.insert(k, levels);
    }
    Policies::new(by_kind, vec!["hospital".into()])
}

fn engine() -> Engine {
    Engine::new(
        EngineSettings {
            cancel_window: Duration::from_secs(15),
            clear_debounce: Duration::from_secs(30),
        },
        std::sync::Arc::new(policies()),
    )
}

fn resident(r: &str) -> Subject {
    Subject::Resident(r.into())
}

fn ev(kind: AlertKind, subject: Subject, priority: Priority, t: i64) -> Event {
    Event::raise(kind, subject, priority, Timestamp(t))
}

fn changes(out: &[Output]) -> Vec<(String, AlertState, u32)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Changed {
                alert,
                audit: Some(a),
                ..
            } => Some((a.action.as_str().to_owned(), alert.state, alert.revision)),
            _ => None,
        })
        .collect()
}

fn notified(out: &[Output]) -> Vec<String> {
    out.iter()
        .flat_map(|o| match o {
            Output::Notify { contacts, .. } => contacts.clone(),
            Output::Changed { .. } => Vec::new(),
        })
        .collect()
}

#[test]
fn sos_raises_high_alert_and_notifies_first_level() {
    let mut e = engine();
    let out = e.on_event(
        ev(AlertKind::Sos, resident("R1"), Priority::High, 0),
        Ulid::from_parts(1, 1),
    );
    assert_eq!(
        changes(&out),
        vec![("raised".into(), AlertState::Raised, 1)]
    );
    assert_eq!(notified(&out), vec!["nurse"]);
    let a = e.get(Ulid::from_parts(1, 1)).unwrap();
    assert_eq!(a.escalate_at, Some(Timestamp(60 * S)));
    assert_eq!(a.cancel_until, Some(Timestamp(15 * S)));
    assert_eq!(a.resident.as_deref(), Some("R1"));
}

#[test]
fn repeats_update_count_without_new_alert() {
    let mut e = engine();
    let id = Ulid::from_parts(1, 1);
    e.on_event(
        ev(
            AlertKind::Environment,
            Subject::Room("101".into()),
            Priority::Low,
            0,
        ),
        id,
    );
    let out = e.on_event(
        ev(
            AlertKind::Environment,
            Subject::Room("101".into()),
            Priority::Low,
            10 * S,
        ),
        Ulid::from_parts(2, 2),
    );
    assert!(matches!(&out[..], [Output::Changed { publish: false, .. }]));
    assert_eq!(e.open_alerts().len(), 1);
    let a = e.get(id).unwrap();
    assert_eq!(
        (a.count, a.last_seen, a.revision),
        (2, Timestamp(10 * S), 1)
    );
}

#[test]
fn unacknowledged_fall_escalates_to_green_channel_after_timeouts() {
    let mut e = engine();
    let id = Ulid::from_parts(1, 1);
    e.on_event(ev(AlertKind::Fall, resident("R1"), Priority::High, 0), id);
    assert!(e.on_tick(Timestamp(59 * S)).is_empty());
    let out = e.on_tick(Timestamp(60 * S));
    assert_eq!(
        changes(&out),
        vec![("escalated".into(), AlertState::Escalated, 2)]
    );
    assert_eq!(notified(&out), vec!["charge"]);
    let out = e.on_tick(Timestamp(180 * S));
    assert_eq!(notified(&out), vec!["hospital"]);
    assert_eq!(e.get(id).unwrap().escalation_level, 2);
    assert!(
        e.on_tick(Timestamp(10_000 * S)).is_empty(),
        "last level does not escalate further"
    );
}

#[test]
fn after_a_restart_the_current_level_gets_its_full_timeout_from_then() {
    let mut e = engine();
    let id = Ulid::from_parts(1, 1);
    e.on_event(ev(AlertKind::Fall, resident("R1"), Priority::High, 0), id);
    let stored: Vec<Alert> = e.open_alerts().into_iter().cloned().collect();
    let mut after_restart = engine();
    after_restart.restore(stored);
    // The gateway was down past the first deadline (60 s) and is back at 75 s.
    let out = after_restart.resume(Timestamp(75 * S));
    assert_eq!(
        changes(&out),
        vec![("updated".into(), AlertState::Raised, 2)]
    );
    assert!(
        after_restart.on_tick(Timestamp(75 * S)).is_empty(),
        "nothing fires at once"
    );
    assert!(after_restart.on_tick(Timestamp(134 * S)).is_empty());
    let out = after_restart.on_tick(Timestamp(135 * S));
    assert_eq!(notified(&out), vec!["charge"]);
    assert_eq!(
        after_restart.get(id).unwrap().escalate_at,
        Some(Timestamp(255 * S)),
        "the next level's own timeout follows"
    );
}

#[test]
fn resume_leaves_acknowledged_alerts_and_last_levels_alone() {
    let mut e = engine();
    let acked = Ulid::from_parts(1, 1);
    e.on_event(ev(AlertKind::Sos, resident("R1"), Priority::High, 0), acked);
    e.acknowledge(acked, &Actor::named("Li"), None, Via::Http, Timestamp(S))
        .unwrap();
    let last = Ulid::from_parts(2, 2);
    e.on_event(ev(AlertKind::Fall, resident("R2"), Priority::High, 0), last);
    e.on_tick(Timestamp(60 * S));
    e.on_tick(Timestamp(180 * S));
    assert_eq!(e.get(last).unwrap().escalation_level, 2);
    assert!(e.resume(Timestamp(900 * S)).is_empty());
}

#[test]
fn a_clock_jump_moves_every_deadline_with_it() {
    let mut e = engine();
    let id = Ulid::from_parts(1, 1);
    e.on_event(
        ev(AlertKind::Sos, resident("R1"), Priority::High, 10 * S),
        id,
    );
    // NTP sets the clock back by an hour.
    let out = e.on_clock_jump(-3600 * S);
    assert!(matches!(
        out.as_slice(),
        [Output::Changed { publish: false, .. }]
    ));
    let a = e.get(id).unwrap();
    assert_eq!(a.escalate_at, Some(Timestamp((70 - 3600) * S)));
    assert_eq!(a.cancel_until, Some(Timestamp((25 - 3600) * S)));
    // The nurse still has her 60 s, counted on the corrected clock.
    assert!(e.on_tick(Timestamp((69 - 3600) * S)).is_empty());
    assert_eq!(
        notified(&e.on_tick(Timestamp((70 - 3600) * S))),
        vec!["charge"]
    );
}

#[test]
fn acknowledgement_stops_escalation() {
    let mut e = engine();
    let id = Ulid::from_parts(1, 1);
    e.on_event(ev(AlertKind::Sos, resident("R1"), Priority::High, 0), id);
    let out = e
        .acknowledge(
            id,
            &Actor::named("Nurse Li"),
            Some("on my way"),
            Via::Mqtt,
            Timestamp(20 * S),
        )
        .unwrap();
    assert_eq!(
        changes(&out),
        vec![("acknowledged".into(), AlertState::Acknowledged, 2)]
    );
    assert!(e.on_tick(Timestamp(1000 * S)).is_empty());
    let err = e
        .acknowledge(
            id,
            &Actor::named("Nurse Wang"),
            None,
            Via::Http,
            Timestamp(21 * S),
        )
        .unwrap_err();
    assert_eq!(
        err,
        CommandError::AlreadyAcknowledged {
            id,
            by: "Nurse Li".into()
        }
    );
}

#[test]
fn commands_for_unknown_alerts_or_without_a_person_are_refused() {
    let mut e = engine();
    let id = Ulid::from_parts(9, 9);
    assert_eq!(
        e.acknowledge(id, &Actor::named("A"), None, Via::Mqtt, Timestamp(0)),
        Err(CommandError::UnknownAlert(id))
    );
    e.on_event(ev(AlertKind::Sos, resident("R1"), Priority::High, 0), id);
    assert_eq!(
        e.resolve(id, &Actor::named("  "), None, Via::Mqtt, Timestamp(0)),
        Err(CommandError::MissingPerson)
    );
    assert!(e.get(id).is_some());
}

#[test]
fn cancel_within_window_resolves_with_reason() {
    let mut e = engine();
    let id = Ulid::from_parts(1, 1);
    e.on_event(ev(AlertKind::Sos, resident("R1"), Priority::High, 0), id);
    let out = e.cancel(&resident("R1"), Timestamp(10 * S));
    assert_eq!(
        changes(&out),
        vec![("cancelled".into(), AlertState::Resolved, 2)]
    );
    match &out[0] {
        Output::Changed { alert, .. } => assert_eq!(
            alert.resolution.as_deref(),
            Some("cancelled by the resident")
        ),
        other => panic!("{other:?}"),
    }
    assert!(e.get(id).is_none());
}

#[test]
fn cancel_after_window_does_nothing() {
    let mut e = engine();
    let id = Ulid::from_parts(1, 1);
    e.on_event(ev(AlertKind::Sos, resident("R1"), Priority::High, 0), id);
    assert!(e.cancel(&resident("R1"), Timestamp(16 * S)).is_empty());
    assert!(e.get(id).is_some());
}

#[test]
fn high_alert_latches_until_acknowledged_then_resolves_if_cleared() {
    let mut e = engine();
    let id = Ulid::from_parts(1, 1);
    e.on_event(ev(AlertKind::Smoke, Subject::Site, Priority::High, 0), id);
    let out = e.on_event(
        Event::clear(AlertKind::Smoke, Subject::Site, Timestamp(5 * S)),
        Ulid::from_parts(2, 2),
    );
    assert_eq!(
        changes(&out),
        vec![("condition_cleared".into(), AlertState::Raised, 2)]
    );
    assert!(
        e.on_tick(Timestamp(3600 * S)).is_empty(),
        "latched: no auto-resolve"
    );
    let out = e
        .acknowledge(
            id,
            &Actor::named("Guard"),
            None,
            Via::Http,
            Timestamp(3601 * S),
        )
        .unwrap();
    let actions: Vec<String> = changes(&out).into_iter().map(|c| c.0).collect();
    assert_eq!(actions, vec!["acknowledged", "cleared"]);
    assert!(e.get(id).is_none());
}

#[test]
fn flapping_medium_condition_is_debounced() {
    let mut e = engine();
    let room = Subject::Room("101".into());
    let id = Ulid::from_parts(1, 1);
    e.on_event(
        ev(AlertKind::Environment, room.clone(), Priority::Medium, 0),
        id,
    );
    e.on_event(
        Event::clear(AlertKind::Environment, room.clone(), Timestamp(10 * S)),
        Ulid::nil(),
    );
    e.on_event(
        ev(
            AlertKind::Environment,
            room.clone(),
            Priority::Medium,
            20 * S,
        ),
        Ulid::nil(),
    );
    assert!(
        e.on_tick(Timestamp(45 * S)).is_empty(),
        "came back within the debounce"
    );
    e.on_event(
        Event::clear(AlertKind::Environment, room, Timestamp(50 * S)),
        Ulid::nil(),
    );
    assert!(e.on_tick(Timestamp(79 * S)).is_empty());
    let out = e.on_tick(Timestamp(80 * S));
    assert_eq!(
        changes(&out),
        vec![("cleared".into(), AlertState::Resolved, 2)]
    );
}

#[test]
fn non_medical_kinds_skip_the_green_channel_flag() {
    let mut e = engine();
    let mut smoke = ev(AlertKind::Smoke, Subject::Site, Priority::High, 0);
    smoke.green_channel = true;
    let out = e.on_event(smoke, Ulid::from_parts(1, 1));
    assert_eq!(notified(&out), vec!["nurse", "charge", "director"]);
    let mut vitals = ev(AlertKind::Vitals, resident("R2"), Priority::High, 0);
    vitals.green_channel = true;
    let out = e.on_event(vitals, Ulid::from_parts(2, 2));
    assert_eq!(notified(&out), vec!["nurse", "hospital"]);
}

#[test]
fn first_puback_marks_delivered_once() {
    let mut e = engine();
    let id = Ulid::from_parts(1, 1);
    e.on_event(ev(AlertKind::Sos, resident("R1"), Priority::High, 0), id);
    assert_eq!(
        changes(&e.on_delivered(id, "institution", true, Timestamp(1))),
        vec![("delivered".into(), AlertState::Delivered, 2)]
    );
    assert!(
        e.on_delivered(id, "institution", true, Timestamp(2))
            .is_empty()
    );
}

#[derive(Debug, Clone)]
enum Step {
    Raise(u8, u8, bool),
    Clear(u8, u8),
    Ack(u8),
    Resolve(u8),
    Cancel(u8),
    Tick(u16),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..4, 0u8..4, any::<bool>()).prop_map(|(s, k, h)| Step::Raise(s, k, h)),
        (0u8..4, 0u8..4).prop_map(|(s, k)| Step::Clear(s, k)),
        (0u8..16).prop_map(Step::Ack),
        (0u8..16).prop_map(Step::Resolve),
        (0u8..4).prop_map(Step::Cancel),
        (1u16..400).prop_map(Step::Tick),
    ]
}

proptest! {
    /// Every alert that was raised is, at the end, either still open (latched, escalating or
    /// acknowledged) or resolved with an audit entry: none silently disappears. Dedup holds: at
    /// most one open alert per subject and kind.
    #[test]
    fn no_alert_silently_disappears(steps in proptest::collection::vec(step(), 1..80)) {
        let kinds = [AlertKind::Sos, AlertKind::Fall, AlertKind::Environment, AlertKind::Smoke];
        let mut e = engine();
        let mut t = 0i64;
        let mut raised: Vec<Ulid> = Vec::new();
        let mut resolved: HashMap<Ulid, String> = HashMap::new();
        let mut last_rev: HashMap<Ulid, u32> = HashMap::new();
        let mut next = 1u64;
        for s in steps {
            t += S;
            let out = match s {
                Step::Raise(sub, k, high) => {
                    let p = if high { Priority::High } else { Priority::Medium };
                    let id = Ulid::from_parts(next, 0);
                    next += 1;
                    e.on_event(ev(kinds[k as usize], resident(&sub.to_string()), p, t), id)
                }
                Step::Clear(sub, k) => e.on_event(Event::clear(kinds[k as usize], resident(&sub.to_string()), Timestamp(t)), Ulid::nil()),
                Step::Ack(i) => raised.get(i as usize).map(|id| e.acknowledge(*id, &Actor::named("n"), None, Via::Mqtt, Timestamp(t)).unwrap_or_default()).unwrap_or_default(),
                Step::Resolve(i) => raised.get(i as usize).map(|id| e.resolve(*id, &Actor::named("n"), None, Via::Http, Timestamp(t)).unwrap_or_default()).unwrap_or_default(),
                Step::Cancel(sub) => e.cancel(&resident(&sub.to_string()), Timestamp(t)),
                Step::Tick(secs) => { t += i64::from(secs) * S; e.on_tick(Timestamp(t)) }
            };
            for o in out {
                if let Output::Changed { alert, audit, publish } = o {
                    if audit.is_some() {
                        prop_assert!(publish);
                        let prev = last_rev.insert(alert.id, alert.revision);
                        prop_assert!(prev.is_none_or(|p| alert.revision > p), "revisions increase");
                    }
                    if alert.revision == 1 && alert.count == 1 && !raised.contains(&alert.id) { raised.push(alert.id); }
                    if alert.state == AlertState::Resolved {
                        prop_assert!(audit.is_some(), "a resolution is always audited");
                        resolved.insert(alert.id, alert.resolution.clone().unwrap_or_default());
                    }
                }
            }
            let mut keys = std::collections::HashSet::new();
            for a in e.open_alerts() {
                prop_assert!(keys.insert((a.subject.clone(), a.kind)), "one open alert per subject and kind");
            }
        }
        for id in raised {
            let open = e.get(id).is_some();
            prop_assert!(open ^ resolved.contains_key(&id), "alert {id} open={open} resolved={:?}", resolved.get(&id));
            if let Some(a) = e.get(id) {
                if a.priority == Priority::High && !a.state.is_acknowledged() {
                    prop_assert!(a.state != AlertState::Resolved);
                }
            }
        }
    }
}

#[test]
fn a_hospital_in_the_first_level_and_the_green_channel_is_notified_once() {
    let level = Level {
        contacts: vec!["hospital".into(), "nurse".into()],
        timeout: None,
    };
    let by_kind = HashMap::from([(AlertKind::Vitals, vec![level])]);
    let mut e = Engine::new(
        EngineSettings {
            cancel_window: Duration::from_secs(15),
            clear_debounce: Duration::from_secs(30),
        },
        std::sync::Arc::new(Policies::new(by_kind, vec!["hospital".into()])),
    );
    let mut vitals = ev(AlertKind::Vitals, resident("R1"), Priority::High, 0);
    vitals.green_channel = true;
    let out = e.on_event(vitals, Ulid::from_parts(1, 1));
    assert_eq!(notified(&out), vec!["hospital", "nurse"]);
}

#[test]
fn only_a_link_for_people_makes_an_alert_delivered_and_every_link_is_recorded() {
    let mut e = engine();
    let id = Ulid::from_parts(1, 1);
    e.on_event(ev(AlertKind::Sos, resident("R1"), Priority::High, 0), id);
    // The embedded broker's PUBACK: recorded, not published, still raised.
    let out = e.on_delivered(id, "local", false, Timestamp(1));
    assert!(matches!(
        out.as_slice(),
        [Output::Changed {
            publish: false,
            audit: None,
            ..
        }]
    ));
    assert_eq!(e.get(id).unwrap().state, AlertState::Raised);
    assert_eq!(
        changes(&e.on_delivered(id, "institution", true, Timestamp(2))),
        vec![("delivered".into(), AlertState::Delivered, 2)]
    );
    e.on_delivered(id, "dashboard", true, Timestamp(3));
    assert_eq!(
        e.get(id).unwrap().delivered_to,
        vec!["dashboard", "institution", "local"]
    );
}
