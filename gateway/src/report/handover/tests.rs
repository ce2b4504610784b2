use super::*;
use crate::config::Shifts;
use crate::report::testkit::{Step, local, trail};
use AuditAction::{Acknowledged, Cancelled, Cleared, Resolved};

fn device(id: &str, health: HealthState, battery: Option<f32>) -> DeviceState {
    DeviceState {
        id: DeviceId::new(id),
        model: DeviceModel::Wristband,
        resident: None,
        location: Location::default(),
        health,
        battery,
        last_seen: None,
    }
}

fn night() -> ShiftInstance {
    Shifts::default()
        .at(local(24 + 3, 0), chrono_tz::Asia::Shanghai)
        .unwrap()
}

fn make(trails: &[AlertTrail], devices: &[DeviceState]) -> Handover {
    build(&HandoverInput {
        site: "home",
        shift: night(),
        made_at: local(24 + 7, 0),
        trigger: Trigger::ShiftEnd,
        by: None,
        trails,
        devices,
        low_battery_percent: 20.0,
    })
}

#[test]
fn the_night_handover_lists_what_happened_with_its_outcome() {
    let none: &[Step] = &[];
    let trails = [
        trail(
            1,
            AlertKind::Sos,
            Priority::High,
            local(23, 30),
            &[(Acknowledged, 1, Some("li")), (Resolved, 6, Some("li"))],
        ),
        trail(
            2,
            AlertKind::Fall,
            Priority::High,
            local(24 + 2, 0),
            &[(Cancelled, 0, None)],
        ),
        trail(
            3,
            AlertKind::Vitals,
            Priority::Medium,
            local(24 + 4, 0),
            &[(Acknowledged, 2, Some("wang"))],
        ),
        trail(
            4,
            AlertKind::BedExit,
            Priority::Medium,
            local(24 + 5, 0),
            &[(Cleared, 1, None)],
        ),
        trail(
            5,
            AlertKind::DeviceOffline,
            Priority::Medium,
            local(24 + 5, 30),
            none,
        ),
        // Raised the evening before and still open: listed as open, not as an event.
        trail(6, AlertKind::Inactivity, Priority::Low, local(20, 0), none),
    ];
    let h = make(&trails, &[]);
    let events: Vec<(AlertKind, Outcome)> = h.events.iter().map(|l| (l.kind, l.outcome)).collect();
    assert_eq!(
        events,
        [
            (AlertKind::Sos, Outcome::Resolved),
            (AlertKind::Fall, Outcome::Cancelled),
            (AlertKind::Vitals, Outcome::Acknowledged),
            (AlertKind::BedExit, Outcome::Cleared),
        ]
    );
    assert_eq!(h.events[0].closed_by.as_deref(), Some("li"));
    assert_eq!(h.events[0].note.as_deref(), Some("at the bedside"));
    assert_eq!(h.counts.get(&AlertKind::DeviceOffline), Some(&1));
    assert_eq!(h.counts.values().sum::<u32>(), 5);
    // Open: unacknowledged first, higher priority first, then the acknowledged ones.
    let open: Vec<AlertKind> = h.open.iter().map(|l| l.kind).collect();
    assert_eq!(
        open,
        [
            AlertKind::DeviceOffline,
            AlertKind::Inactivity,
            AlertKind::Vitals
        ]
    );
}

#[test]
fn devices_offline_or_low_come_from_their_state_and_open_alerts() {
    let none: &[Step] = &[];
    // Device w-7 is reported online by its driver but its offline alert is open.
    let mut offline_alert = trail(
        7,
        AlertKind::DeviceOffline,
        Priority::Medium,
        local(24 + 1, 0),
        none,
    );
    offline_alert.alert.device = Some(DeviceId::new("w-7"));
    let mut battery_alert = trail(
        8,
        AlertKind::LowBattery,
        Priority::Low,
        local(24 + 1, 0),
        none,
    );
    battery_alert.alert.device = Some(DeviceId::new("w-8"));
    let devices = [
        device("w-9", HealthState::Online, Some(80.0)),
        device("w-8", HealthState::Online, Some(35.0)),
        device("w-7", HealthState::Online, None),
        device("w-6", HealthState::Offline, None),
        device("w-5", HealthState::Degraded, Some(12.0)),
    ];
    let h = make(&[offline_alert, battery_alert], &devices);
    let ids = |v: &[DeviceState]| v.iter().map(|d| d.id.to_string()).collect::<Vec<_>>();
    assert_eq!(ids(&h.devices_offline), ["w-6", "w-7"]);
    assert_eq!(ids(&h.low_battery), ["w-5", "w-8"]);
}

#[test]
fn a_handover_made_mid_shift_shows_only_what_happened_so_far() {
    let none: &[Step] = &[];
    let trails = [
        trail(1, AlertKind::Sos, Priority::High, local(24 + 1, 0), none),
        trail(2, AlertKind::Sos, Priority::High, local(24 + 6, 0), none),
    ];
    let h = build(&HandoverInput {
        site: "home",
        shift: night(),
        made_at: local(24 + 2, 0),
        trigger: Trigger::OnDemand,
        by: Some("li".into()),
        trails: &trails,
        devices: &[],
        low_battery_percent: 20.0,
    });
    assert_eq!(h.events.len(), 1);
    assert_eq!(
        (h.trigger, h.by.as_deref()),
        (Trigger::OnDemand, Some("li"))
    );
}
