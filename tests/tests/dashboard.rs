//! The dashboard end to end: `pingan demo`, headless Chromium driven by playwright-core
//! (tests/browser/e2e.mjs), and a real `mosquitto_sub` checking that the acknowledgement made in
//! the browser went out on MQTT; every page and action in both languages against `pingan run`
//! with a pymodbus smoke detector (tests/browser/pages.mjs); and the texts of the page checked
//! against the I18N table (tests/browser/i18n-check.mjs). Screenshots are kept in
//! tests/browser/artifacts/.

use std::process::Command;
use std::time::{Duration, Instant};

use pingan_tests::pymodbus::{ModbusPeer, example_unit};
use pingan_tests::{
    Subscriber, add_user, free_port, pingan, repo_root, site_config, sos_scenario, topic_json,
    wait_for_port,
};

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

/// Runs a node script of tests/browser and returns (success, stdout, stderr).
fn node(script: &str, env: &[(&str, String)]) -> (bool, String, String) {
    let browser = repo_root().join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").exists(),
        "run scripts/setup (npm ci in tests/browser)"
    );
    let out = Command::new("node")
        .arg(browser.join(script))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("node");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_text_the_scripts_look_up_exists_in_both_languages() {
    let (ok, out, err) = node("i18n-check.mjs", &[]);
    assert!(ok, "{out}{err}");
    assert!(out.starts_with("I18N_OK "), "{out}");
}

/// Every page and action in Chinese on a station PC and in English on a tablet: the text on
/// screen follows the language (toasts included, also when the language is switched while one
/// shows), device commands reach the pymodbus detector, and the handovers made in the browser
/// arrive on MQTT.
#[test]
fn every_page_and_action_follows_the_chosen_language_in_headless_chromium() {
    let profile = pingan_drivers::modbus::library::builtin("smoke_detector")
        .unwrap()
        .unwrap();
    let mut peer = ModbusPeer::tcp(serde_json::json!({ "2": example_unit(&profile) })).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mqtt, http) = (free_port(), free_port());
    let extra = format!(
        "[[drivers]]\nid = \"bus-1\"\ndriver = \"modbus\"\ntransport = \"tcp\"\nhost = \"{}\"\ntimeout = \"1s\"\n\
         [[drivers.devices]]\ndevice = \"smoke-2f\"\nunit = 2\nprofile = \"smoke_detector\"\npoll_interval = \"500ms\"\n\n\
         [[devices]]\nid = \"smoke-2f\"\nmodel = \"smoke_detector\"\ndriver = \"bus-1\"\nroom = \"0\"\n",
        peer.address()
    );
    let scenario = sos_scenario(&[(0, 300), (1, 600), (2, 900), (3, 1200)]);
    let config = site_config(dir.path(), mqtt, http, 4, &scenario, &extra);
    let password = "browser test passphrase";
    add_user(&dir.path().join("data"), "li.na", password);
    let log = dir.path().join("gw.log");
    let _gw = pingan(&["run", "--config", config.to_str().unwrap()], &log);
    assert!(wait_for_port(mqtt, Duration::from_secs(20)));
    assert!(wait_for_port(http, Duration::from_secs(20)));
    let handovers = Subscriber::mosquitto_sub(mqtt, &["pingan/t/handover"]);
    let artifacts = repo_root().join("tests/browser/artifacts");
    let (ok, out, err) = node(
        "pages.mjs",
        &[
            ("PINGAN_URL", format!("http://127.0.0.1:{http}/")),
            ("PINGAN_USER", "li.na".to_owned()),
            ("PINGAN_PASSWORD", password.to_owned()),
            ("PINGAN_DEVICE", "smoke-2f".to_owned()),
            ("PINGAN_ARTIFACTS", format!("{}/", artifacts.display())),
        ],
    );
    assert!(
        ok,
        "browser test failed:\n{out}\n{err}\ngateway log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let result: serde_json::Value = out
        .lines()
        .find_map(|l| l.strip_prefix("PAGES_RESULT "))
        .map(|j| serde_json::from_str(j).unwrap())
        .expect("PAGES_RESULT line");
    eprintln!("PAGES_RESULT {result}");
    let pages = result["pages"].as_array().unwrap();
    assert!(pages.len() >= 26, "{result}");
    for lang in ["zh-CN", "en"] {
        for p in [
            "login", "alerts", "detail", "floor", "devices", "report", "handover", "status",
        ] {
            assert!(
                pages.iter().any(|x| x == &format!("{lang}:{p}")),
                "{lang}:{p} not checked"
            );
        }
    }
    // The Chinese pass silenced the sounder, the English one reset the alarm.
    assert_eq!(
        peer.command("get 2 coil 0").unwrap()["value"],
        serde_json::json!(true)
    );
    assert_eq!(
        peer.command("get 2 coil 1").unwrap()["value"],
        serde_json::json!(true)
    );
    let mut made = 0;
    handovers.until(Duration::from_secs(10), |l| {
        made += usize::from(l.contains("\"trigger\":\"on_demand\""));
        made == 2
    });
    assert_eq!(
        made, 2,
        "the two handovers made in the browser arrive on MQTT"
    );
    assert!(
        result["toasts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "Acknowledged"),
        "{result}"
    );
}

/// The admin's pages (care records, staff accounts) in Chinese and English (tests/browser/
/// admin.mjs): every action with its toast in the chosen language; the changes reach the
/// gateway (the password the page showed logs in, the audit names the admin) and a nurse sees
/// neither page.
#[test]
fn the_admin_pages_and_their_actions_follow_the_chosen_language_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let (mqtt, http) = (free_port(), free_port());
    let extra = "[[contacts]]\nid = \"nurse\"\nname = \"Duty nurse\"\n\n\
        [[contacts]]\nid = \"head\"\nname = \"Head nurse\"\n\n\
        [[escalation.policies]]\nname = \"default\"\n\n\
        [[escalation.policies.levels]]\ncontacts = [\"nurse\"]\n";
    let config = site_config(dir.path(), mqtt, http, 2, "", extra);
    let data = dir.path().join("data");
    add_user(&data, "boss", "admin passphrase");
    add_user(&data, "li", "nurse passphrase");
    let log = dir.path().join("gw.log");
    let _gw = pingan(&["run", "--config", config.to_str().unwrap()], &log);
    assert!(wait_for_port(http, Duration::from_secs(20)));
    let artifacts = repo_root().join("tests/browser/artifacts");
    let (ok, out, err) = node(
        "admin.mjs",
        &[
            ("PINGAN_URL", format!("http://127.0.0.1:{http}/")),
            ("PINGAN_ADMIN", "boss".to_owned()),
            ("PINGAN_ADMIN_PASSWORD", "admin passphrase".to_owned()),
            ("PINGAN_NURSE", "li".to_owned()),
            ("PINGAN_NURSE_PASSWORD", "nurse passphrase".to_owned()),
            ("PINGAN_ARTIFACTS", format!("{}/", artifacts.display())),
        ],
    );
    assert!(
        ok,
        "browser test failed:\n{out}\n{err}\ngateway log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let result: serde_json::Value = out
        .lines()
        .find_map(|l| l.strip_prefix("ADMIN_RESULT "))
        .map(|j| serde_json::from_str(j).unwrap())
        .expect("ADMIN_RESULT line");
    eprintln!("ADMIN_RESULT {result}");
    let pages = result["pages"].as_array().unwrap();
    for lang in ["zh-CN", "en"] {
        for p in [
            "care",
            "care after save",
            "escalation saved",
            "staff",
            "disable confirmation",
            "staff after changes",
            "staff after switching",
        ] {
            assert!(
                pages.iter().any(|x| x == &format!("{lang}:{p}")),
                "{lang}:{p} not checked"
            );
        }
    }
    assert!(pages.iter().any(|x| x == "en:nurse without admin pages"));
    let toasts = result["toasts"].as_array().unwrap();
    for t in [
        "Care flags of Resident 0 saved",
        "已保存 Resident 0 的护理标记",
        "Escalation saved",
        "报警升级已保存",
        "night-zh is now nurse",
    ] {
        assert!(toasts.iter().any(|x| x == t), "no toast {t:?}: {result}");
    }
    // The passwords the page showed log in; the audit has the admin's changes.
    let boss = pingan_tests::http::Session::login(http, "boss", "admin passphrase");
    for a in result["accounts"].as_array().unwrap() {
        pingan_tests::http::Session::login(
            http,
            a["user"].as_str().unwrap(),
            a["password"].as_str().unwrap(),
        );
    }
    let actions = boss.get("/api/v1/actions?limit=100").json();
    let acts: Vec<(String, String)> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_owned(),
                a["by"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for want in [
        "care_flags",
        "escalation",
        "account_added",
        "account_disabled",
        "account_enabled",
        "password_reset",
        "role_changed",
    ] {
        assert!(
            acts.iter().any(|(a, by)| a == want && by == "boss"),
            "no {want} by boss in {acts:?}"
        );
    }
}
