//! The dashboard under a password-guessing attack, from a real `pingan run`: 100 concurrent
//! wrong logins from one address are mostly refused before any password is checked, the
//! failures and the throttling are logged with that address, and the nurse at her own station
//! still logs in.

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pingan_tests::{free_port, pingan, pingan_bin, site_config, wait_for_port};

const PASSWORD: &str = "correct horse battery staple";

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// POSTs a login from `src` (any 127.0.0.0/8 address): (status, the whole response).
async fn login(src: Ipv4Addr, port: u16, user: String, password: String) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = serde_json::json!({"user": user, "password": password}).to_string();
    let req = format!(
        "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let sock = tokio::net::TcpSocket::new_v4().expect("socket");
    sock.bind((src, 0).into()).expect("bind source address");
    let Ok(mut s) = sock.connect((Ipv4Addr::LOCALHOST, port).into()).await else {
        return (0, String::new());
    };
    if s.write_all(req.as_bytes()).await.is_err() {
        return (0, String::new());
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_concurrent_brute_force_is_throttled_before_verification_and_logged() {
    let dir = tempfile::tempdir().unwrap();
    let (mqtt, http) = (free_port(), free_port());
    let config = site_config(dir.path(), mqtt, http, 1, "", "");
    let mut add = Command::new(pingan_bin())
        .args(["user", "add", "li.na", "--data-dir"])
        .arg(dir.path().join("data"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("pingan user add");
    add.stdin
        .take()
        .expect("stdin")
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    assert!(add.wait().unwrap().success());
    let log = dir.path().join("gw.log");
    let _gw = pingan(&["run", "--config", config.to_str().unwrap()], &log);
    assert!(
        wait_for_port(http, Duration::from_secs(20)),
        "{}",
        read(&log)
    );

    let attacker = Ipv4Addr::new(127, 0, 0, 3);
    let attempts: Vec<_> = (0..100)
        .map(|i| tokio::spawn(login(attacker, http, "li.na".into(), format!("guess-{i}"))))
        .collect();
    let mut statuses = Vec::new();
    for a in attempts {
        statuses.push(a.await.unwrap());
    }
    let codes: Vec<u16> = statuses.iter().map(|(s, _)| *s).collect();
    let verified = codes.iter().filter(|s| **s == 401).count();
    let refused: Vec<&String> = statuses
        .iter()
        .filter(|(s, _)| *s == 429)
        .map(|(_, t)| t)
        .collect();
    // The rest were closed at once: one address holds at most 32 connections.
    let closed = codes.iter().filter(|s| **s == 0).count();
    assert_eq!(verified + refused.len() + closed, 100, "{codes:?}");
    assert!(
        verified <= 10,
        "{verified} guesses were checked, the free ones are 10: {codes:?}"
    );
    assert!(!refused.is_empty(), "{codes:?}");
    assert!(
        refused
            .iter()
            .all(|t| t.to_ascii_lowercase().contains("retry-after: ")),
        "every refusal says when to retry"
    );

    // The nurse at her own station is held at most a few seconds, never locked out.
    let station = Ipv4Addr::new(127, 0, 0, 2);
    let started = Instant::now();
    let (status, text) = login(station, http, "li.na".into(), PASSWORD.into()).await;
    assert_eq!(status, 200, "{text}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(text.contains("pingan_session="), "{text}");

    let text = read(&log);
    let failed = text
        .lines()
        .filter(|l| l.contains("dashboard login failed") && l.contains("addr=127.0.0.3"))
        .count();
    assert_eq!(
        failed, verified,
        "each checked failure is logged with its address:\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("dashboard login throttled") && l.contains("addr=127.0.0.3")),
        "throttling is logged with the address:\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("dashboard login") && l.contains("addr=127.0.0.2")),
        "{text}"
    );
}
