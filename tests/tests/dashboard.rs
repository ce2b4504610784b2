//! The dashboard end to end: `pingan demo`, headless Chromium driven by playwright-core
//! (tests/browser/e2e.mjs), and a real `mosquitto_sub` checking that the acknowledgement made in
//! the browser went out on MQTT. Screenshots are kept in tests/browser/artifacts/.

use std::process::Command;
use std::time::{Duration, Instant};

use pingan_tests::{Subscriber, free_port, pingan, repo_root, topic_json, wait_for_port};

#[test]
fn nurse_logs_in_sees_the_sos_acknowledges_it_and_mqtt_shows_acknowledged() {
    let browser = repo_root().join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").exists(),
        "run scripts/setup (npm ci in tests/browser)"
    );
    let dir = tempfile::tempdir().unwrap();
    let (mqtt, http) = (free_port(), free_port());
    let log = dir.path().join("demo.log");
    let data = dir.path().join("data");
    let _gw = pingan(
        &[
            "demo",
            "--mqtt-port",
            &mqtt.to_string(),
            "--http-port",
            &http.to_string(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &log,
    );
    assert!(wait_for_port(mqtt, Duration::from_secs(20)));
    let sub = Subscriber::mosquitto_sub(mqtt, &["pingan/demo-home/alerts/#"]);
    // The password is printed once at start.
    let end = Instant::now() + Duration::from_secs(20);
    let password = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(l) = text.lines().find(|l| l.trim_start().starts_with("login:")) {
            break l
                .split('/')
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned();
        }
        assert!(Instant::now() < end, "no demo login printed:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(wait_for_port(http, Duration::from_secs(10)));
    // Wait until the scripted SOS is raised, then the page must show it within 2 s of login.
    let sos = sub
        .until(Duration::from_secs(30), |l| l.contains("\"kind\":\"sos\""))
        .expect("the demo's SOS");
    let raised_id = topic_json(&sos).unwrap().1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let artifacts = browser.join("artifacts");
    let out = Command::new("node")
        .arg(browser.join("e2e.mjs"))
        .env("PINGAN_URL", format!("http://127.0.0.1:{http}/"))
        .env("PINGAN_USER", "demo")
        .env("PINGAN_PASSWORD", &password)
        .env("PINGAN_SOS_TIMEOUT_MS", "2000")
        .env("PINGAN_ARTIFACTS", format!("{}/", artifacts.display()))
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("E2E_RESULT "))
        .map(|j| serde_json::from_str(j).unwrap())
        .expect("E2E_RESULT line");
    // The page weight and render times of this run, for docs/BENCHMARKS.md.
    eprintln!("E2E_RESULT {result}");
    let id = result["sos_alert_id"].as_str().unwrap().to_owned();
    assert_eq!(
        id, raised_id,
        "the browser acknowledged the SOS the gateway raised"
    );
    let acked = sub.until(Duration::from_secs(10), |l| {
        l.contains(&id) && l.contains("\"state\":\"acknowledged\"")
    });
    assert!(acked.is_some(), "no acknowledged revision of {id} on MQTT");
    let a = topic_json(&acked.unwrap()).unwrap().1;
    assert!(a["acknowledged_by"].as_str().is_some_and(|b| !b.is_empty()));
    assert!(
        result["page_weight_bytes"].as_u64().unwrap() <= 300 * 1024,
        "{result}"
    );
    assert!(
        artifacts
            .read_dir()
            .unwrap()
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "png"))
    );
}
