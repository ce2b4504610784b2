//! Which broker a link dials: the nodes of one cluster (`urls = [...]`, or the single `url`), as
//! a pure rotation (after rumqttc's `state.rs`: no I/O, the parent module acts on the answers).
//!
//! - The link starts on the first node.
//! - When a connection is lost, or an attempt fails, it moves to the next node at once: a
//!   node that just died should not cost the alerts a backoff.
//! - Only when every node has failed in a row does it wait, for the link's own backoff
//!   (doubling, capped), before the next round.
//! - A successful connection ends the round; the link stays on that node until it fails.
//!
//! The outbox replays from its cursor on every new connection whichever node it is, and the
//! client id is the same on every node, so a cluster that shares persistent sessions (NATS with
//! JetStream, EMQX, HiveMQ) keeps the uplink's session and subscriptions across the move.

use std::time::Duration;

use crate::config::UplinkUrl;

/// The nodes of a link and where it is in its rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoints {
    nodes: Vec<UplinkUrl>,
    current: usize,
    /// Nodes that failed since the last successful connection (or round).
    failed_in_round: usize,
}

impl Endpoints {
    /// The rotation over `nodes`, starting at the first. `None` without any node.
    pub(crate) fn new(nodes: Vec<UplinkUrl>) -> Option<Self> {
        (!nodes.is_empty()).then_some(Self {
            nodes,
            current: 0,
            failed_in_round: 0,
        })
    }

    /// The node to dial now.
    pub(crate) fn current(&self) -> &UplinkUrl {
        // `new` refuses an empty list and `current` stays below its length.
        &self.nodes[self.current % self.nodes.len()]
    }

    /// How many nodes there are.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The current node accepted the connection.
    pub(crate) fn on_connected(&mut self) {
        self.failed_in_round = 0;
    }

    /// The current node failed (a lost connection or a failed attempt); `backoff` is what the
    /// link would wait on a single node. Moves to the next node and says how long to wait
    /// before dialling it: nothing while the round has untried nodes, `backoff` once all failed.
    pub(crate) fn on_failure(&mut self, backoff: Duration) -> Duration {
        self.current = (self.current + 1) % self.nodes.len();
        self.failed_in_round += 1;
        if self.failed_in_round >= self.nodes.len() {
            self.failed_in_round = 0;
            backoff
        } else {
            Duration::ZERO
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(port: u16) -> UplinkUrl {
        UplinkUrl {
            host: "127.0.0.1".into(),
            port,
            tls: false,
        }
    }

    #[test]
    fn an_empty_list_is_no_rotation() {
        assert_eq!(Endpoints::new(Vec::new()), None);
    }

    #[test]
    fn a_single_node_waits_the_backoff_after_every_failure_as_before() {
        let mut e = Endpoints::new(vec![node(1)]).unwrap();
        let b = Duration::from_millis(500);
        for _ in 0..3 {
            assert_eq!(e.on_failure(b), b);
            assert_eq!(e.current().port, 1);
        }
    }

    #[test]
    fn failures_move_through_the_cluster_and_wait_only_after_a_full_round() {
        let b = Duration::from_secs(2);
        // (event, node dialled next, wait before dialling it)
        let cases: [(&str, u16, Duration); 8] = [
            ("node 1 lost", 2, Duration::ZERO),
            ("node 2 refuses", 3, Duration::ZERO),
            ("node 3 refuses: every node failed", 1, b),
            ("node 1 refuses again", 2, Duration::ZERO),
            ("connected to 2", 2, Duration::ZERO),
            ("node 2 lost later", 3, Duration::ZERO),
            ("node 3 refuses", 1, Duration::ZERO),
            ("node 1 refuses: a full round since the connection", 2, b),
        ];
        let mut e = Endpoints::new(vec![node(1), node(2), node(3)]).unwrap();
        assert_eq!(e.current().port, 1, "starts on the first node");
        assert_eq!(e.len(), 3);
        for (what, next, wait) in cases {
            let waited = if what.starts_with("connected") {
                e.on_connected();
                Duration::ZERO
            } else {
                e.on_failure(b)
            };
            assert_eq!((e.current().port, waited), (next, wait), "{what}");
        }
    }
}
