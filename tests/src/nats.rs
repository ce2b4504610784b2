//! A real three-node broker cluster on loopback: `nats-server` (Debian's package) with JetStream
//! and its MQTT listener on every node, routes between the nodes, each node's store in its own
//! temporary directory. Nodes are started by the test and killed by PID.
//!
//! NATS' MQTT needs JetStream (sessions, QoS 1 messages and retained messages live in streams),
//! a `server_name` per node and a cluster `name`; client ids are unique across the cluster.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::{Guard, free_port, http_get, wait_for_port, wait_until};

/// One node of the cluster.
#[derive(Debug)]
pub struct NatsNode {
    /// `n1`, `n2`, `n3`.
    pub name: String,
    /// Its MQTT listener.
    pub mqtt_port: u16,
    /// Its monitoring endpoint (`/healthz`).
    pub monitor_port: u16,
    conf: PathBuf,
    log: PathBuf,
    guard: Option<Guard>,
}

impl NatsNode {
    /// Kills the node at once (SIGKILL), as a crashed machine would go.
    pub fn kill(&mut self) {
        if let Some(mut g) = self.guard.take() {
            g.signal("KILL");
            g.wait_exit(Duration::from_secs(10));
        }
    }

    /// The node's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn start(&mut self) {
        let log = std::fs::File::create(&self.log).expect("nats log");
        let child = Command::new("nats-server")
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start nats-server (Debian package nats-server; run scripts/setup)");
        self.guard = Some(Guard { child });
    }
}

/// Three clustered nodes.
#[derive(Debug)]
pub struct NatsCluster {
    /// The nodes, `n1` first.
    pub nodes: Vec<NatsNode>,
    _dir: tempfile::TempDir,
}

impl NatsCluster {
    /// Starts three nodes and waits until each accepts MQTT and its JetStream is ready.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let route_list = routes
            .iter()
            .map(|p| format!("nats-route://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut nodes = Vec::new();
        for (i, route) in routes.iter().enumerate() {
            let name = format!("n{}", i + 1);
            let (client, mqtt, monitor) = (free_port(), free_port(), free_port());
            let store = dir.path().join(&name);
            let conf = dir.path().join(format!("{name}.conf"));
            let text = format!(
                "server_name: {name}\nlisten: 127.0.0.1:{client}\nhttp: 127.0.0.1:{monitor}\n\
                 jetstream {{\n  store_dir: \"{}\"\n}}\n\
                 cluster {{\n  name: pingan-test\n  listen: 127.0.0.1:{route}\n  routes: [{route_list}]\n}}\n\
                 mqtt {{\n  listen: 127.0.0.1:{mqtt}\n  ack_wait: \"5s\"\n}}\n",
                store.display()
            );
            std::fs::write(&conf, text).expect("write nats conf");
            let mut node = NatsNode {
                log: dir.path().join(format!("{name}.log")),
                name,
                mqtt_port: mqtt,
                monitor_port: monitor,
                conf,
                guard: None,
            };
            node.start();
            nodes.push(node);
        }
        for n in &nodes {
            assert!(
                wait_for_port(n.mqtt_port, Duration::from_secs(30)),
                "{} did not listen for MQTT; log:\n{}",
                n.name,
                n.log()
            );
            // JetStream (and so MQTT sessions) work once the meta leader is elected.
            let ready = wait_until(Duration::from_secs(60), || {
                http_get(n.monitor_port, "/healthz", &[]).is_ok_and(|(code, _)| code == 200)
            });
            assert!(ready, "{} never became healthy; log:\n{}", n.name, n.log());
        }
        Self { nodes, _dir: dir }
    }

    /// `mqtt://127.0.0.1:PORT` of every node, in order.
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("mqtt://127.0.0.1:{}", n.mqtt_port))
            .collect()
    }
}
