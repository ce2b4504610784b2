use super::*;

const fn d(k: u64) -> OutboxKey {
    OutboxKey::Disk(k)
}

fn t0() -> Instant {
    Instant::now()
}

fn ms(t: Instant, ms: u64) -> Instant {
    t + Duration::from_millis(ms)
}

#[test]
fn nothing_is_sent_before_the_broker_accepts_the_connection() {
    let mut s = LinkState::new(Duration::from_secs(15));
    assert_eq!(s.ready_to_send(), None);
    assert_eq!(s.on_connected(), 0);
    assert_eq!(s.ready_to_send(), Some(None));
}

#[test]
fn one_message_is_in_flight_until_its_own_puback() {
    let t = t0();
    let mut s = LinkState::new(Duration::from_secs(15));
    s.on_connected();
    let alert = Ulid::from_parts(1, 1);
    s.on_sent(d(7), Some(alert), t);
    assert_eq!(s.ready_to_send(), None, "stop-and-wait");
    s.on_packet_id(3);
    // A later packet id (telemetry at QoS 0 has none; a stray one) does not replace it.
    s.on_packet_id(4);
    assert_eq!(s.on_puback(4), None, "a PUBACK for another packet");
    assert_eq!(s.ready_to_send(), None);
    assert_eq!(
        s.on_puback(3),
        Some(Acked {
            key: d(7),
            alert: Some(alert)
        })
    );
    assert_eq!(
        s.ready_to_send(),
        Some(Some(7)),
        "read on after the acked key"
    );
}

#[test]
fn a_failed_remove_does_not_resend_the_acknowledged_message() {
    let t = t0();
    let mut s = LinkState::new(Duration::from_secs(15));
    s.on_connected();
    s.on_sent(d(7), None, t);
    s.on_packet_id(1);
    let acked = s.on_puback(1).unwrap();
    assert!(matches!(
        s.on_removed(acked.key, false, t),
        Some(Verdict::Log { repeats: 0, .. })
    ));
    // The cursor moved past 7: the next read starts after it, not at it.
    assert_eq!(s.ready_to_send(), Some(Some(7)));
    assert_eq!(s.unremoved(), vec![d(7)]);
    // A reconnect keeps the cursor: nothing acknowledged goes out twice in one run.
    s.on_error(ms(t, 1));
    s.on_connected();
    assert_eq!(s.ready_to_send(), Some(Some(7)));
    // Further failures within the log period are counted, not logged.
    assert_eq!(s.on_removed(d(7), false, ms(t, 2)), Some(Verdict::Quiet));
    assert_eq!(s.on_removed(d(7), true, ms(t, 3)), None);
    assert!(s.unremoved().is_empty());
}

#[test]
fn messages_in_memory_do_not_move_the_disk_cursor() {
    let t = t0();
    let mut s = LinkState::new(Duration::from_secs(15));
    s.on_connected();
    s.on_sent(d(4), None, t);
    s.on_packet_id(1);
    s.on_puback(1);
    s.on_sent(OutboxKey::Memory(0), None, t);
    s.on_packet_id(2);
    assert_eq!(
        s.on_puback(2),
        Some(Acked {
            key: OutboxKey::Memory(0),
            alert: None
        })
    );
    assert_eq!(s.ready_to_send(), Some(Some(4)));
}

#[test]
fn a_broker_that_never_acknowledges_is_overdue_after_the_deadline() {
    let t = t0();
    let mut s = LinkState::new(Duration::from_secs(15));
    s.on_connected();
    assert!(!s.puback_overdue(ms(t, 60_000)), "nothing in flight");
    s.on_sent(d(1), None, t);
    s.on_packet_id(9);
    let cases = [(0, false), (14_999, false), (15_000, true), (40_000, true)];
    for (at, overdue) in cases {
        assert_eq!(s.puback_overdue(ms(t, at)), overdue, "at {at} ms");
    }
    assert_eq!(s.puback_deadline(), Some(ms(t, 15_000)));
    // Dropping the connection clears the slot; the outbox replays after reconnecting.
    let f = s.on_error(ms(t, 15_000));
    assert!(f.was_connected);
    assert!(!s.puback_overdue(ms(t, 60_000)));
    s.on_connected();
    assert_eq!(
        s.ready_to_send(),
        Some(None),
        "the unacknowledged message is read again"
    );
}

#[test]
fn backoff_doubles_to_its_cap_and_resets_on_connect() {
    let t = t0();
    let mut s = LinkState::new(Duration::from_secs(15));
    let waits: Vec<u64> = (0..7)
        .map(|i| s.on_error(ms(t, i)).backoff.as_millis() as u64)
        .collect();
    assert_eq!(waits, vec![500, 1000, 2000, 4000, 8000, 8000, 8000]);
    assert_eq!(s.on_connected(), 7, "failed attempts before the connection");
    assert_eq!(s.on_error(ms(t, 100)).backoff, MIN_BACKOFF);
}

#[test]
fn connection_failures_are_logged_at_a_steady_low_rate() {
    let t = t0();
    let mut s = LinkState::new(Duration::from_secs(15));
    let mut logged = 0;
    // Ten minutes of a refusing broker, one attempt every 8 s.
    for i in 0..75 {
        if let Verdict::Log { .. } = s.on_error(ms(t, i * 8_000)).log {
            logged += 1;
        }
    }
    assert_eq!(logged, 10, "the first failure, then one line a minute");
}
