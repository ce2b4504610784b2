use super::*;
use crate::alert::{AlertKind, AlertState, AuditAction, Location, Priority, Subject, Via};
use crate::config::LinkId;
use pingan_drivers::Reading;

fn alert(id: Ulid) -> Alert {
    Alert {
        id,
        revision: 1,
        kind: AlertKind::Sos,
        priority: Priority::High,
        subject: Subject::Resident("R1".into()),
        resident: Some("R1".into()),
        location: Location::default(),
        device: None,
        raised_at: Timestamp(1),
        last_seen: Timestamp(1),
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
    }
}

#[test]
fn readings_round_trip_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let d = DeviceId::new("w1");
    let rs: Vec<Reading> = (0..10)
        .rev()
        .map(|i| {
            Reading::new(
                "w1",
                Timestamp(i * 1000),
                Measurement::HeartRate {
                    bpm: 60.0 + i as f32,
                },
            )
        })
        .collect();
    store.put_readings(&rs).unwrap();
    store
        .put_readings(&[Reading::new(
            "w2",
            Timestamp(0),
            Measurement::SpO2 { percent: 97.0 },
        )])
        .unwrap();
    let got = store
        .readings(&d, Timestamp(2000), Timestamp(5000))
        .unwrap();
    assert_eq!(
        got.iter().map(|r| r.at.0).collect::<Vec<_>>(),
        vec![2000, 3000, 4000]
    );
    assert_eq!(
        got[0].measurement(),
        Some(Measurement::HeartRate { bpm: 62.0 })
    );
}

#[test]
fn motion_is_stored_as_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let samples = vec![[0.0, 0.0, 1.0], [0.0, 0.0, 3.0]];
    store
        .put_readings(&[Reading::new(
            "w1",
            Timestamp(0),
            Measurement::Motion { samples, hz: 50.0 },
        )])
        .unwrap();
    let got = store
        .readings(&"w1".into(), Timestamp(0), Timestamp(1))
        .unwrap();
    assert_eq!(got[0].value["kind"], "motion_summary");
    assert_eq!(got[0].value["mag_max"], 3.0);
    assert_eq!(got[0].value["n"], 2);
}

#[test]
fn retention_sweep_removes_only_old_readings_of_every_device() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut rs = Vec::new();
    for dev in ["a", "b", "c"] {
        for t in 0..1000 {
            rs.push(Reading::new(
                dev,
                Timestamp(t),
                Measurement::Battery { percent: 50.0 },
            ));
        }
    }
    store.put_readings(&rs).unwrap();
    assert_eq!(store.sweep_readings(Timestamp(600)).unwrap(), 1800);
    assert_eq!(store.count_readings(), 1200);
    for dev in ["a", "b", "c"] {
        let left = store
            .readings(&dev.into(), Timestamp(i64::MIN), Timestamp(i64::MAX))
            .unwrap();
        assert_eq!(left.first().map(|r| r.at), Some(Timestamp(600)));
    }
}

#[tokio::test]
async fn alerts_and_audit_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let id = Ulid::from_parts(5, 5);
    {
        let store = Store::open(dir.path()).unwrap();
        let a = alert(id);
        let audit = AuditEntry {
            alert: id,
            revision: 1,
            at: Timestamp(1),
            action: AuditAction::Raised,
            by: None,
            account: None,
            via: Via::System,
            note: None,
        };
        store.put_alert_unflushed(&a, Some(&audit)).unwrap();
        store.flush().await.unwrap();
        let mut b = a.clone();
        b.revision = 2;
        b.state = AlertState::Acknowledged;
        let audit2 = AuditEntry {
            revision: 2,
            action: AuditAction::Acknowledged,
            by: Some("Li".into()),
            via: Via::Mqtt,
            ..audit
        };
        store.put_alert_unflushed(&b, Some(&audit2)).unwrap();
        store.flush().await.unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let a = store.alert(id).unwrap().unwrap();
    assert_eq!((a.revision, a.state), (2, AlertState::Acknowledged));
    let trail: Vec<&str> = store
        .audit(id)
        .unwrap()
        .into_iter()
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(trail, vec!["raised", "acknowledged"]);
    assert_eq!(store.alerts().unwrap().len(), 1);
}

#[test]
fn schema_mismatch_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path()).unwrap();
        db.open_tree("meta")
            .unwrap()
            .insert("schema_version", "99")
            .unwrap();
        db.flush().unwrap();
    }
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaMismatch { ref found, expected: 2, .. } if found == "99")
    );
    assert!(
        err.to_string()
            .contains("schema version 99, this pingan reads version 2"),
        "{err}"
    );
}

#[test]
fn outbox_keeps_send_order_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let entry =
        |n: usize| OutboxEntry::message(format!("t/{n}"), "{}".into(), Timestamp(1_000 + n as i64));
    {
        let store = Store::open(dir.path()).unwrap();
        let ob = store.outbox(&LinkId::new("inst")).unwrap();
        for n in 0..3 {
            ob.push(&entry(n)).unwrap();
        }
        store.flush_blocking().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let ob = store.outbox(&LinkId::new("inst")).unwrap();
    ob.push(&entry(3)).unwrap();
    let all = ob.after(None, 100).unwrap();
    let topics: Vec<&str> = all.iter().map(|(_, e)| e.topic.as_str()).collect();
    assert_eq!(topics, vec!["t/0", "t/1", "t/2", "t/3"]);
    ob.remove(OutboxKey::Disk(all[0].0)).unwrap();
    let rest = ob.after(Some(all[1].0), 100).unwrap();
    assert_eq!(rest.len(), 2);
    assert_eq!(ob.len(), 3);
    assert_eq!(
        ob.oldest_queued_at(),
        Some(pingan_drivers::Timestamp(1_001)),
        "the oldest waiting message's time"
    );
}

/// A heart-rate reading of `device` at `at` (shared with the other store tests).
pub(super) fn hr(device: &str, at: i64) -> Reading {
    Reading::new(
        device,
        Timestamp(at),
        Measurement::HeartRate {
            bpm: 60.0 + (at % 50) as f32,
        },
    )
}

fn times(store: &Store, device: &str, from: i64, to: i64) -> Vec<i64> {
    store
        .readings(&device.into(), Timestamp(from), Timestamp(to))
        .unwrap()
        .iter()
        .map(|r| r.at.0)
        .collect()
}

#[test]
fn a_range_starting_inside_a_chunk_returns_only_its_tail() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let batch: Vec<Reading> = (0..20).map(|i| hr("w1", 1_000 + i * 1_000)).collect();
    store.put_readings(&batch).unwrap();
    assert_eq!(times(&store, "w1", 15_500, 18_000), vec![16_000, 17_000]);
    assert_eq!(times(&store, "w1", 20_000, i64::MAX), vec![20_000]);
    assert_eq!(times(&store, "w1", 0, 1_000), Vec::<i64>::new());
    assert_eq!(times(&store, "w1", 5_000, 5_000), Vec::<i64>::new());
}

#[test]
fn two_batches_for_one_device_at_the_same_first_time_are_both_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .put_readings(&[hr("w1", 1_000), hr("w1", 2_000)])
        .unwrap();
    store
        .put_readings(&[
            hr("w1", 1_000),
            Reading::new("w1", Timestamp(1_500), Measurement::SpO2 { percent: 96.0 }),
        ])
        .unwrap();
    assert_eq!(store.count_readings(), 4);
    assert_eq!(
        times(&store, "w1", 0, 10_000),
        vec![1_000, 1_000, 1_500, 2_000]
    );
}

#[test]
fn readings_out_of_time_order_within_a_batch_come_back_sorted_per_device() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut batch = Vec::new();
    for t in [7, 3, 9, 1, 5, 8, 2, 6, 4, 0] {
        batch.push(hr("w1", t * 100));
        batch.push(hr("w10", 10_000 - t * 100));
    }
    store.put_readings(&batch).unwrap();
    assert_eq!(times(&store, "w1", 250, 750), vec![300, 400, 500, 600, 700]);
    let other = times(&store, "w10", i64::MIN, i64::MAX);
    assert_eq!(other.len(), 10);
    assert!(other.windows(2).all(|w| w[0] <= w[1]), "{other:?}");
}

#[test]
fn late_readings_in_a_later_batch_merge_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .put_readings(&[hr("w1", 1_000), hr("w1", 3_000), hr("w1", 5_000)])
        .unwrap();
    store
        .put_readings(&[hr("w1", 2_000), hr("w1", 4_000)])
        .unwrap();
    assert_eq!(
        times(&store, "w1", 1_500, 6_000),
        vec![2_000, 3_000, 4_000, 5_000]
    );
}

#[test]
fn a_batch_spanning_hours_is_found_from_any_point() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // Ten hours of history uploaded at once, one reading a minute.
    let batch: Vec<Reading> = (0..600).map(|m| hr("w1", m * 60_000)).collect();
    store.put_readings(&batch).unwrap();
    let from = 5 * 3_600_000 + 30_000;
    let got = times(&store, "w1", from, from + 180_000);
    assert_eq!(got, vec![from + 30_000, from + 90_000, from + 150_000]);
    assert_eq!(store.count_readings(), 600);
    assert_eq!(times(&store, "w1", i64::MIN, i64::MAX).len(), 600);
}

#[test]
fn sweep_keeps_the_recent_tail_of_a_straddling_chunk_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .put_readings(&(0..10).map(|i| hr("w1", i * 1_000)).collect::<Vec<_>>())
        .unwrap();
    store
        .put_readings(&(10..20).map(|i| hr("w1", i * 1_000)).collect::<Vec<_>>())
        .unwrap();
    let before = store
        .readings(&"w1".into(), Timestamp(4_000), Timestamp(i64::MAX))
        .unwrap();
    assert_eq!(store.sweep_readings(Timestamp(4_000)).unwrap(), 4);
    assert_eq!(store.sweep_readings(Timestamp(4_000)).unwrap(), 0);
    let after = store
        .readings(&"w1".into(), Timestamp(i64::MIN), Timestamp(i64::MAX))
        .unwrap();
    assert_eq!(after, before);
    assert_eq!(store.count_readings(), 16);
    assert_eq!(store.sweep_readings(Timestamp(i64::MAX)).unwrap(), 16);
    assert_eq!(store.count_readings(), 0);
}

#[test]
fn a_corrupt_chunk_is_a_corrupt_error_and_the_sweep_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.put_readings(&[hr("w1", 5_000)]).unwrap();
    store
        .readings
        .insert(
            keys::chunk(b"w1", Timestamp(1_000), 0),
            &[3, 0xff, 0xff][..],
        )
        .unwrap();
    let err = store
        .readings(&"w1".into(), Timestamp(0), Timestamp(10_000))
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert_eq!(store.count_readings(), 1);
    assert_eq!(store.sweep_readings(Timestamp(2_000)).unwrap(), 0);
    assert_eq!(times(&store, "w1", 0, 10_000), vec![5_000]);
}

#[test]
fn trails_keep_alerts_raised_in_the_span_and_optionally_every_open_one() {
    let store = Store::temporary().unwrap();
    let at = |ms: i64, state: AlertState| {
        let mut a = alert(Ulid::from_parts(ms as u64, 7));
        a.raised_at = Timestamp(ms);
        a.state = state;
        let entry = AuditEntry {
            alert: a.id,
            revision: 1,
            at: Timestamp(ms),
            action: AuditAction::Raised,
            by: None,
            account: None,
            via: Via::System,
            note: None,
        };
        store.put_alert_unflushed(&a, Some(&entry)).unwrap();
        a.id
    };
    let old_open = at(100, AlertState::Delivered);
    let _old_done = at(200, AlertState::Resolved);
    let inside = at(1_000, AlertState::Resolved);
    let _later = at(5_000, AlertState::Raised);
    let ids = |open_too| {
        store
            .trails(Timestamp(500), Timestamp(2_000), open_too)
            .unwrap()
            .iter()
            .map(|t| (t.alert.id, t.audit.len()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(false), [(inside, 1)]);
    assert_eq!(
        ids(true),
        [(old_open, 1), (inside, 1), (Ulid::from_parts(5_000, 7), 1)]
    );
}

#[test]
fn one_commit_writes_the_alerts_their_audit_and_their_outbox_messages_together() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (a, b) = (alert(Ulid::from_parts(1, 1)), alert(Ulid::from_parts(2, 2)));
    let audit = AuditEntry {
        alert: a.id,
        revision: a.revision,
        at: Timestamp(1),
        action: AuditAction::Raised,
        by: None,
        account: None,
        via: Via::System,
        note: None,
    };
    let (local, inst) = (
        store.outbox(&LinkId::local()).unwrap(),
        store.outbox(&LinkId::new("inst")).unwrap(),
    );
    let m = |n: u8| OutboxEntry::message(format!("t/{n}"), "{}".into(), Timestamp(0));
    let (m1, m2, m3) = (m(1), m(2), m(3));
    let keys = store
        .commit(
            &[(&a, Some(&audit)), (&b, None)],
            &[(&local, &m1), (&inst, &m2), (&local, &m3)],
        )
        .unwrap();
    assert_eq!(keys.len(), 3);
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "send order: {keys:?}");
    assert_eq!(store.alerts().unwrap().len(), 2);
    assert_eq!(store.audit(a.id).unwrap(), vec![audit]);
    let topics = |o: &Outbox| -> Vec<String> {
        o.after(None, 10)
            .unwrap()
            .into_iter()
            .map(|(_, e)| e.topic)
            .collect()
    };
    assert_eq!(topics(&local), vec!["t/1", "t/3"]);
    assert_eq!(topics(&inst), vec!["t/2"]);
}

#[test]
fn the_data_directory_is_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stray = dir.join("pingan-site");
    std::fs::write(&stray, "t").unwrap();
    std::fs::set_permissions(&stray, std::fs::Permissions::from_mode(0o644)).unwrap();
    {
        let store = Store::open(&dir).unwrap();
        store.set_meta("site_id", "t").unwrap();
        store.flush_blocking().unwrap();
        std::fs::write(dir.join("written-later"), "x").unwrap();
    }
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let mut stack = vec![dir.clone()];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                assert_eq!(mode(&p), 0o700, "{}", p.display());
                stack.push(p);
            } else {
                files += 1;
                assert_eq!(mode(&p) & 0o077, 0, "{} is readable by others", p.display());
            }
        }
    }
    assert!(files >= 3, "sled's files and ours were checked");
    assert_eq!(mode(&stray), 0o600);
}
