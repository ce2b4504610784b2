//! Uplink failover across a real broker cluster: three `nats-server` nodes with JetStream and
//! MQTT on loopback. The gateway's uplink lists all three; the node it is connected to is killed
//! during a burst of alerts, and a nurse station connected to another node still receives every
//! alert.

use std::collections::HashSet;
use std::time::Duration;

use pingan_tests::nats::NatsCluster;
use pingan_tests::{
    Subscriber, free_port, pingan, pingan_output, read_log, site_config, sos_scenario, topic_json,
    wait_for_port, wait_until,
};

/// The gateway's log lines saying its uplink connected to `port`.
fn connected_to(log: &str, port: u16) -> bool {
    log.lines().any(|l| {
        l.contains("connected")
            && l.contains("link=institution")
            && l.contains(&format!("broker=127.0.0.1:{port}"))
    })
}

/// Remembers the id of an SOS alert line.
fn note(seen: &mut HashSet<String>, line: &str) {
    if let Some((_, a)) = topic_json(line) {
        if a["kind"] == "sos" {
            seen.insert(a["id"].as_str().unwrap_or_default().to_owned());
        }
    }
}

#[test]
fn killing_the_node_the_uplink_is_on_during_a_burst_loses_no_alert() {
    let mut cluster = NatsCluster::start();
    let (n1, n2, n3) = (
        cluster.nodes[0].mqtt_port,
        cluster.nodes[1].mqtt_port,
        cluster.nodes[2].mqtt_port,
    );
    // The nurse station is on the third node, with a persistent QoS 1 session.
    let station = Subscriber::paho(&[
        "--port",
        &n3.to_string(),
        "--topic",
        "pingan/t/alerts/#",
        "--client-id",
        "station-failover",
        "--persistent",
        "--site",
        "t",
    ]);
    assert!(
        station
            .until(Duration::from_secs(30), |l| l == "#connected")
            .is_some(),
        "the station could not connect to n3; log:\n{}",
        cluster.nodes[2].log()
    );
    let dir = tempfile::tempdir().unwrap();
    let (mqtt, http) = (free_port(), free_port());
    // 60 residents press SOS 100 ms apart, from 3 s after start: a six-second burst.
    let n = 60;
    let presses: Vec<(usize, u64)> = (0..n).map(|i| (i, 3000 + 100 * i as u64)).collect();
    let urls = cluster
        .urls()
        .iter()
        .map(|u| format!("\"{u}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let extra = format!(
        "[[uplinks]]\nid = \"institution\"\nurls = [{urls}]\nalerts = true\ncommands = true\n"
    );
    let config = site_config(dir.path(), mqtt, http, n, &sos_scenario(&presses), &extra);
    let log = dir.path().join("gw.log");
    let mut gw = pingan(&["run", "--config", config.to_str().unwrap()], &log);
    assert!(
        wait_for_port(mqtt, Duration::from_secs(20)),
        "log:\n{}",
        read_log(&log)
    );
    assert!(
        wait_until(Duration::from_secs(30), || connected_to(
            &read_log(&log),
            n1
        )),
        "the uplink starts on the first node; log:\n{}",
        read_log(&log)
    );

    let mut seen: HashSet<String> = HashSet::new();
    // Mid-burst: the node the uplink is on dies.
    let early = station.until(Duration::from_secs(30), |l| {
        note(&mut seen, l);
        seen.len() >= 10
    });
    assert!(
        early.is_some(),
        "alerts before the kill; log:\n{}",
        read_log(&log)
    );
    cluster.nodes[0].kill();
    let all = station.until(Duration::from_secs(90), |l| {
        note(&mut seen, l);
        seen.len() == n
    });
    let text = read_log(&log);
    assert!(
        all.is_some(),
        "{} of {n} alerts reached the station on n3; gateway log:\n{text}\nn2 log:\n{}",
        seen.len(),
        cluster.nodes[1].log()
    );
    assert!(
        connected_to(&text, n2) || connected_to(&text, n3),
        "the uplink moved to another node:\n{text}"
    );
    // After the move, a nurse on n3 acknowledges an alert: the command reaches the gateway on
    // its new node through its session's subscription, and the new revision comes back.
    let id = seen.iter().next().cloned().unwrap();
    let ok = std::process::Command::new("mosquitto_pub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &n3.to_string(),
            "-q",
            "1",
            "-i",
            "nurse-phone",
        ])
        .args(["-t", &format!("pingan/t/cmd/alerts/{id}/ack")])
        .args(["-m", "{\"by\":\"Nurse Li\"}"])
        .status()
        .unwrap();
    assert!(ok.success());
    let acked = station.until(Duration::from_secs(30), |l| {
        l.contains(&format!("/alerts/{id}")) && l.contains("\"state\":\"acknowledged\"")
    });
    assert!(
        acked.is_some(),
        "the acknowledgement went round the cluster; log:\n{}",
        read_log(&log)
    );
    gw.signal("TERM");
    assert_eq!(
        gw.wait_exit(Duration::from_secs(20)),
        Some(0),
        "{}",
        read_log(&log)
    );
    let (code, out, err) = pingan_output(&[
        "alerts",
        "list",
        "--json",
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let stored: HashSet<String> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|a| a["kind"] == "sos")
        .map(|a| a["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(stored.len(), n);
    let lost: Vec<&String> = stored.difference(&seen).collect();
    assert!(lost.is_empty(), "alerts lost in the failover: {lost:?}");
}
