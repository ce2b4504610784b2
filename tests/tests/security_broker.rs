//! The embedded broker under attack from the box itself: the CONNECTs that made rumqttd 0.20
//! panic (upstream issue #1062), more clients than it admits, a reconnect storm with the
//! gateway's own client id, and a flood of idle sockets. After each, alerts still arrive.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use pingan_tests::{
    Guard, Subscriber, free_port, pingan, site_config, sos_scenario, wait_for_port,
};

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// A site whose residents press SOS every 2 s from 6 s on, with `max_connections` clients.
fn start(dir: &Path, max_connections: usize) -> (Guard, u16, u16, std::path::PathBuf) {
    let (mqtt, http) = (free_port(), free_port());
    let presses: Vec<(usize, u64)> = (0..30).map(|n| (n, 6000 + 2000 * n as u64)).collect();
    let config = site_config(dir, mqtt, http, 30, &sos_scenario(&presses), "");
    let text = read(&config).replacen(
        &format!("[mqtt]\nbind = \"127.0.0.1:{mqtt}\"\n"),
        &format!("[mqtt]\nbind = \"127.0.0.1:{mqtt}\"\nmax_connections = {max_connections}\n"),
        1,
    );
    std::fs::write(&config, text).unwrap();
    let log = dir.join("gw.log");
    let gw = pingan(&["run", "--config", config.to_str().unwrap()], &log);
    for port in [mqtt, http] {
        assert!(
            wait_for_port(port, Duration::from_secs(20)),
            "{}",
            read(&log)
        );
    }
    (gw, mqtt, http, log)
}

/// A 3.1.1 CONNECT with a clean session and a 30 s keep-alive.
fn connect_packet(id: &str) -> Vec<u8> {
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 30];
    body.extend((id.len() as u16).to_be_bytes());
    body.extend(id.as_bytes());
    let mut p = vec![0x10, body.len() as u8];
    p.extend(body);
    p
}

/// Connects with `id`: the open socket and the CONNACK return code (None: closed unanswered).
fn connect(port: u16, id: &str) -> (Option<TcpStream>, Option<u8>) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return (None, None);
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    if s.write_all(&connect_packet(id)).is_err() {
        return (None, None);
    }
    let mut ack = [0u8; 4];
    match s.read_exact(&mut ack) {
        Ok(()) if ack[0] == 0x20 => (Some(s), Some(ack[3])),
        _ => (None, None),
    }
}

fn next_sos(sub: &Subscriber, log: &Path) {
    assert!(
        sub.until(Duration::from_secs(30), |l| l.contains("\"kind\":\"sos\""))
            .is_some(),
        "no SOS reached the subscriber; log:\n{}",
        read(log)
    );
}

#[test]
fn client_ids_that_used_to_panic_rumqttd_and_clients_over_the_cap_are_turned_away() {
    let dir = tempfile::tempdir().unwrap();
    let (_gw, mqtt, _, log) = start(dir.path(), 12);
    // Two connects with an id the router refuses poisoned rumqttd's mutex for good.
    for id in [
        "a/b",
        "a/b",
        "x#",
        "$SYS",
        "pingan-t-gateway",
        "pingan-t-gateway",
    ] {
        let (_, code) = connect(mqtt, id);
        assert_eq!(code, Some(2), "client id {id:?}");
    }
    // Fill every slot, then try more: the extra ones are closed unanswered.
    let mut held = Vec::new();
    for i in 0..12 {
        let (s, code) = connect(mqtt, &format!("hold-{i}"));
        assert_eq!(code, Some(0), "hold-{i}");
        held.push(s);
    }
    for i in 0..5 {
        assert_eq!(
            connect(mqtt, &format!("over-{i}")).1,
            None,
            "over-{i} got in"
        );
    }
    drop(held);
    // The refused ids again — rumqttd's old panic path — and a subscriber: all served.
    let end = Instant::now() + Duration::from_secs(20);
    for i in 0..5 {
        loop {
            if connect(mqtt, &format!("over-{i}")).1 == Some(0) {
                break;
            }
            assert!(
                Instant::now() < end,
                "over-{i} never got in; log:\n{}",
                read(&log)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let sub = Subscriber::mosquitto_sub(mqtt, &["pingan/t/alerts/#"]);
    next_sos(&sub, &log);
    let text = read(&log);
    assert!(!text.contains("panicked"), "{text}");
    assert!(text.contains("refused by the broker guard"), "{text}");
}

#[test]
fn a_reconnect_storm_with_the_gateways_client_id_does_not_touch_its_link() {
    let dir = tempfile::tempdir().unwrap();
    let (_gw, mqtt, _, log) = start(dir.path(), 64);
    let sub = Subscriber::mosquitto_sub(mqtt, &["pingan/t/alerts/#"]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let storm: Vec<_> = ["pingan-t-gateway", "storm", ""]
        .into_iter()
        .map(|id| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut n = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = connect(mqtt, id);
                    n += 1;
                }
                n
            })
        })
        .collect();
    // Alerts keep arriving while thousands of connects come and go.
    next_sos(&sub, &log);
    next_sos(&sub, &log);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let connects: u32 = storm.into_iter().map(|t| t.join().unwrap_or(0)).sum();
    assert!(
        connects > 500,
        "the storm was too weak to mean anything: {connects}"
    );
    next_sos(&sub, &log);
    let text = read(&log);
    let link_lost = text
        .lines()
        .any(|l| l.contains("link=local") && l.contains("connection lost"));
    assert!(!link_lost, "the gateway's own link dropped:\n{text}");
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn a_flood_of_idle_sockets_is_closed_and_starves_neither_broker_nor_dashboard() {
    pingan_gateway::fd_limit::raise();
    let dir = tempfile::tempdir().unwrap();
    let (_gw, mqtt, http, log) = start(dir.path(), 64);
    let sub = Subscriber::mosquitto_sub(mqtt, &["pingan/t/alerts/#"]);
    // Over the default limit of 1024 open files, on both ports, never sending a byte.
    let mut flood = Vec::new();
    for i in 0..1100 {
        let port = if i % 2 == 0 { mqtt } else { http };
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            flood.push(s);
        }
    }
    assert!(flood.len() >= 1000, "only {} sockets opened", flood.len());
    // While the flood is open: alerts reach the subscriber, and the dashboard answers a
    // station on another address.
    next_sos(&sub, &log);
    let page = dashboard_page(http);
    assert!(
        page.starts_with("HTTP/1.1 200"),
        "dashboard during the flood: {page:?}"
    );
    // The gateway closes the idle sockets itself (CONNECT and header timeouts).
    let end = Instant::now() + Duration::from_secs(30);
    for s in &mut flood {
        let left = end.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "idle sockets were not closed within 30 s");
        s.set_read_timeout(Some(left)).unwrap();
        let mut b = [0u8; 64];
        match s.read(&mut b) {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("an idle socket was kept open: {other:?}"),
        }
    }
    drop(flood);
    let (_, code) = connect(mqtt, "after-flood");
    assert_eq!(code, Some(0));
    next_sos(&sub, &log);
}

/// `GET /` from 127.0.0.2, a station other than the flooding address.
fn dashboard_page(port: u16) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        let mut s = tokio::time::timeout(
            Duration::from_secs(10),
            sock.connect(([127, 0, 0, 1], port).into()),
        )
        .await
        .expect("connect in time")
        .expect("connect");
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    })
}
