//! Property test of a link draining a real outbox (sled) through the state machine: whatever the
//! sequence of pushes, sends, acknowledgements, failed removals, lost connections and crashes,
//! every alert revision reaches the broker at least once, and the revisions first arrive in the
//! order they were pushed.

use proptest::prelude::*;
use tokio::time::Instant;

use super::*;
use crate::config::LinkId;
use crate::store::{Outbox, OutboxEntry, Store};

#[derive(Debug, Clone)]
enum Op {
    /// Effects queue the next revision (flushed: it survives a crash).
    Push,
    /// The link hands the next message to the client, if it may.
    Send,
    /// The broker acknowledges what is in flight.
    Ack,
    /// Like `Ack`, but removing the message from the outbox fails.
    AckFailedRemove,
    /// The connection drops and comes back.
    Reconnect,
    /// The process dies: the link's memory is gone, the outbox (on disk) stays.
    Crash,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Push),
        4 => Just(Op::Send),
        3 => Just(Op::Ack),
        1 => Just(Op::AckFailedRemove),
        1 => Just(Op::Reconnect),
        1 => Just(Op::Crash),
    ]
}

struct Link {
    state: LinkState,
    /// What the client is carrying: (key, payload), packet id 1.
    wire: Option<(OutboxKey, String)>,
}

impl Link {
    fn new() -> Self {
        let mut state = LinkState::new(Duration::from_secs(15));
        state.on_connected();
        Self { state, wire: None }
    }

    fn send(&mut self, outbox: &Outbox) {
        if let Some(cursor) = self.state.ready_to_send() {
            if let Some((key, e)) = outbox.next(cursor).unwrap() {
                self.state.on_sent(key, e.alert, Instant::now());
                self.state.on_packet_id(1);
                self.wire = Some((key, e.payload));
            }
        }
    }

    /// The broker got the message in flight (it counts as received) and acknowledges it.
    fn ack(&mut self, outbox: &Outbox, received: &mut Vec<String>, remove_ok: bool) {
        if let Some((_, payload)) = self.wire.take() {
            received.push(payload);
        }
        if let Some(acked) = self.state.on_puback(1) {
            let ok = remove_ok && outbox.remove(acked.key).is_ok();
            self.state.on_removed(acked.key, ok, Instant::now());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_revision_arrives_at_least_once_and_first_in_push_order(ops in proptest::collection::vec(op(), 1..120)) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let outbox = store.outbox(&LinkId::new("inst")).unwrap();
        let mut pushed: Vec<String> = Vec::new();
        let mut received: Vec<String> = Vec::new();
        let mut link = Link::new();
        for op in ops {
            match op {
                Op::Push => {
                    let n = pushed.len() as u32 + 1;
                    let body = format!("r{n}");
                    let e = OutboxEntry::message("t".into(), body.clone(), pingan_drivers::Timestamp(0))
                        .for_alert(ulid::Ulid::from_parts(1, 1), n);
                    outbox.push(&e).unwrap();
                    store.flush_blocking().unwrap();
                    pushed.push(body);
                }
                Op::Send => link.send(&outbox),
                Op::Ack => link.ack(&outbox, &mut received, true),
                Op::AckFailedRemove => link.ack(&outbox, &mut received, false),
                Op::Reconnect => {
                    // What was on the wire may or may not have reached the broker: assume not.
                    link.wire = None;
                    link.state.on_error(Instant::now());
                    link.state.on_connected();
                }
                Op::Crash => link = Link::new(),
            }
        }
        // Afterwards the broker stays up: the link drains everything that is left.
        for _ in 0..(pushed.len() * 2 + 2) {
            link.send(&outbox);
            link.ack(&outbox, &mut received, true);
        }
        let mut first: Vec<&String> = Vec::new();
        for r in &received {
            if !first.contains(&r) {
                first.push(r);
            }
        }
        let expected: Vec<&String> = pushed.iter().collect();
        prop_assert_eq!(first, expected, "received {:?}", received);
    }
}
