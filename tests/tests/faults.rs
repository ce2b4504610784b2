//! Faults alerts must survive, with real peers: a data filesystem that fills up while alerts are
//! raised, and a broker that keeps the session alive but never acknowledges.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pingan_tests::silent_broker::SilentBroker;
use pingan_tests::{
    Mosquitto, Subscriber, free_port, pingan_output, read_log, run_gateway, site_config,
    sos_scenario, topic_json,
};

fn edit(config: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(config)
        .unwrap()
        .replacen(from, to, 1);
    std::fs::write(config, text).unwrap();
}

/// A small tmpfs mounted for the test and unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    /// Mounts `size` (e.g. "8m") at `path`; `None` where mounting is not possible.
    fn mount(path: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(path).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Self {
            path: path.to_owned(),
        })
    }

    /// Writes a filler file until the filesystem is full.
    fn fill(&self) -> PathBuf {
        let filler = self.path.join("filler");
        let mut f = std::fs::File::create(&filler).expect("filler");
        let chunk = vec![0x55u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

#[test]
fn a_full_disk_delivers_every_alert_from_memory_and_a_restart_recovers_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(&dir.path().join("data"), "8m") else {
        println!("SKIPPED a_full_disk_…: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)");
        return;
    };
    let broker = Mosquitto::start();
    let station = Subscriber::paho(&[
        "--port",
        &broker.port.to_string(),
        "--topic",
        "pingan/t/alerts/#",
        "--client-id",
        "station-full-disk",
        "--site",
        "t",
    ]);
    assert!(
        station
            .until(Duration::from_secs(10), |l| l == "#connected")
            .is_some()
    );
    let (mqtt, http) = (free_port(), free_port());
    // 30 residents press SOS 400 ms apart from 2 s on: most of them while the disk is full.
    let presses: Vec<(usize, u64)> = (0..30).map(|n| (n, 2000 + 400 * n as u64)).collect();
    let config = site_config(
        dir.path(),
        mqtt,
        http,
        30,
        &sos_scenario(&presses),
        &format!(
            "[[uplinks]]\nid = \"institution\"\nurl = \"mqtt://127.0.0.1:{}\"\nalerts = true\n",
            broker.port
        ),
    );
    edit(
        &config,
        "[storage]\n",
        "[storage]\nreserve_bytes = 262144\n",
    );
    let log = dir.path().join("gw.log");
    let mut gw = run_gateway(&config, &log, mqtt);
    let sos_ids = |lines: &[String]| -> HashSet<String> {
        lines
            .iter()
            .filter_map(|l| topic_json(l))
            .filter(|(_, a)| a["kind"] == "sos")
            .map(|(_, a)| a["resident"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let mut seen: Vec<String> = Vec::new();
    seen.extend(station.until(Duration::from_secs(30), |l| l.contains("\"kind\":\"sos\"")));
    assert!(!seen.is_empty(), "first SOS; log:\n{}", read_log(&log));
    let filler = disk.fill();
    // Every resident's SOS arrives, whether it was stored before the disk filled or not.
    let deadline = Instant::now() + Duration::from_secs(90);
    while sos_ids(&seen).len() < 30 && Instant::now() < deadline {
        if let Some(l) = station.next(Duration::from_secs(1)) {
            seen.push(l);
        }
    }
    let residents = sos_ids(&seen);
    assert_eq!(
        residents.len(),
        30,
        "SOS of every resident delivered; got {residents:?}; log:\n{}",
        read_log(&log)
    );
    let technical = seen
        .iter()
        .chain(
            std::iter::from_fn(|| station.next(Duration::from_secs(10)))
                .take(50)
                .collect::<Vec<_>>()
                .iter(),
        )
        .filter_map(|l| topic_json(l))
        .find(|(_, a)| a["subject"]["id"] == "storage-write")
        .map(|(_, a)| a);
    let technical =
        technical.unwrap_or_else(|| panic!("a storage technical alert; log:\n{}", read_log(&log)));
    assert_eq!(technical["kind"], "technical");
    assert!(
        read_log(&log).contains("go out of memory"),
        "log:\n{}",
        read_log(&log)
    );

    let lines = read_log(&log).lines().count();
    assert!(
        lines < 400,
        "repeated errors are logged at a low rate, not in {lines} lines"
    );
    if std::env::var_os("PINGAN_TEST_SHOW_LOG").is_some() {
        println!("{}", read_log(&log));
    }

    // Space comes back: the gateway restarts itself (exit 75) once the memory queues are empty.
    std::fs::remove_file(filler).unwrap();
    assert_eq!(
        gw.wait_exit(Duration::from_secs(60)),
        Some(75),
        "exit to recover the store; log:\n{}",
        read_log(&log)
    );
    // As systemd would: start it again. The scenario plays again; alerts that lived only in
    // memory are raised anew and stored now.
    let log2 = dir.path().join("gw2.log");
    let mut gw = run_gateway(&config, &log2, mqtt);
    let last_press = Instant::now() + Duration::from_millis(2000 + 400 * 30);
    while Instant::now() < last_press + Duration::from_secs(3) {
        let _ = station.next(Duration::from_secs(1));
    }
    gw.signal("TERM");
    assert_eq!(
        gw.wait_exit(Duration::from_secs(20)),
        Some(0),
        "log:\n{}",
        read_log(&log2)
    );
    let (code, out, err) = pingan_output(&[
        "alerts",
        "list",
        "--json",
        "--data-dir",
        disk.path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let stored: HashSet<String> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|a| a["kind"] == "sos")
        .map(|a| a["resident"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        stored.len(),
        30,
        "every resident's SOS is stored after the restart: {stored:?}"
    );
}

#[test]
fn a_broker_that_never_acknowledges_is_dropped_and_a_technical_alert_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let silent = SilentBroker::start();
    let (mqtt, http) = (free_port(), free_port());
    let config = site_config(
        dir.path(),
        mqtt,
        http,
        2,
        &sos_scenario(&[(1, 1500)]),
        &format!(
            "[[uplinks]]\nid = \"institution\"\nurl = \"mqtt://127.0.0.1:{}\"\nalerts = true\nack_timeout = \"3s\"\n",
            silent.port
        ),
    );
    edit(
        &config,
        "[alerts]\n",
        "[alerts]\nundelivered_after = \"5s\"\n",
    );
    let log = dir.path().join("gw.log");
    let mut gw = run_gateway(&config, &log, mqtt);
    let local = Subscriber::mosquitto_sub(mqtt, &["pingan/t/alerts/#"]);
    let late = local
        .until(Duration::from_secs(40), |l| {
            l.contains("delivery:institution")
        })
        .unwrap_or_else(|| {
            panic!(
                "a technical alert for the silent link; log:\n{}",
                read_log(&log)
            )
        });
    let (_, t) = topic_json(&late).unwrap();
    assert_eq!(t["kind"], "technical");
    assert!(
        t["detail"].as_str().unwrap().contains("has not delivered"),
        "{t}"
    );
    // The link gave up on the silent session and replayed the outbox on a fresh one.
    let deadline = Instant::now() + Duration::from_secs(30);
    while silent.connects() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        silent.connects() >= 2,
        "reconnected after the ack timeout; log:\n{}",
        read_log(&log)
    );
    assert!(
        silent.publishes() >= 2,
        "the SOS was sent again on the new connection"
    );
    assert!(
        read_log(&log).contains("did not acknowledge in time"),
        "log:\n{}",
        read_log(&log)
    );
    // The embedded broker's PUBACK does not make the SOS delivered: nobody for people has it.
    gw.signal("TERM");
    assert_eq!(gw.wait_exit(Duration::from_secs(20)), Some(0));
    let (code, out, err) = pingan_output(&[
        "alerts",
        "list",
        "--json",
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let sos = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|a| a["kind"] == "sos")
        .expect("the SOS");
    assert_ne!(sos["state"], "delivered", "{sos}");
    assert_eq!(sos["delivered_to"], serde_json::json!(["local"]), "{sos}");
}
