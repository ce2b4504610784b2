//! Alerts that always arrive, tested against real peers: Mosquitto as the institution and
//! hospital brokers, paho-mqtt as the nurse station, the gateway as a real process that is
//! stopped, killed and restarted.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use pingan_tests::{
    Mosquitto, Subscriber, free_port, pingan, pingan_output, read_log, run_gateway, site_config,
    sos_scenario, stored_alerts, stored_technical, topic_json,
};
use serde_json::Value;

fn institution(port: u16) -> String {
    format!(
        "[[uplinks]]\nid = \"institution\"\nurl = \"mqtt://127.0.0.1:{port}\"\nalerts = true\ncommands = true\n\n"
    )
}

#[test]
fn alerts_raised_while_the_broker_is_down_arrive_in_order_after_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let mut broker = Mosquitto::start();
    let station = Subscriber::paho(&[
        "--port",
        &broker.port.to_string(),
        "--topic",
        "pingan/t/alerts/#",
        "--client-id",
        "station-outage",
        "--persistent",
        "--site",
        "t",
    ]);
    assert!(
        station
            .until(Duration::from_secs(10), |l| l == "#connected")
            .is_some()
    );
    let (mqtt, http) = (free_port(), free_port());
    let presses: Vec<(usize, u64)> = (0..5).map(|n| (n, 6000 + 500 * n as u64)).collect();
    let config = site_config(
        dir.path(),
        mqtt,
        http,
        5,
        &sos_scenario(&presses),
        &institution(broker.port),
    );
    let log = dir.path().join("gw.log");
    let mut gw = run_gateway(&config, &log, mqtt);
    std::thread::sleep(Duration::from_secs(2));
    broker.stop();
    // The presses happen 6–8 s after start, while the institution broker is away (2–14 s): the
    // outage itself, not a synchronisation.
    std::thread::sleep(Duration::from_secs(12));
    broker.restart();
    let mut revisions: HashMap<String, Vec<u64>> = HashMap::new();
    let ok = station.until(Duration::from_secs(40), |l| {
        if let Some((_, a)) = topic_json(l) {
            revisions
                .entry(a["id"].as_str().unwrap().to_owned())
                .or_default()
                .push(a["revision"].as_u64().unwrap());
        }
        revisions.len() == 5 && revisions.values().all(|r| r.contains(&2))
    });
    assert!(ok.is_some(), "got {revisions:?}; log:\n{}", read_log(&log));
    for (id, revs) in &revisions {
        let mut first_seen: Vec<u64> = Vec::new();
        for r in revs {
            if !first_seen.contains(r) {
                first_seen.push(*r);
            }
        }
        let mut sorted = first_seen.clone();
        sorted.sort();
        assert_eq!(first_seen, sorted, "revisions of {id} out of order");
        assert_eq!(first_seen[0], 1, "alert {id} lost its first revision");
    }
    gw.signal("TERM");
    assert_eq!(gw.wait_exit(Duration::from_secs(20)), Some(0));
    let stored: HashSet<String> = stored_alerts(&dir.path().join("data"))
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(stored, revisions.keys().cloned().collect());
}

#[test]
fn gateway_sigkilled_20_times_during_a_burst_of_200_alerts_loses_none() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Mosquitto::start();
    let station = Subscriber::paho(&[
        "--port",
        &broker.port.to_string(),
        "--topic",
        "pingan/t/alerts/#",
        "--client-id",
        "station-kill",
        "--site",
        "t",
    ]);
    assert!(
        station
            .until(Duration::from_secs(10), |l| l == "#connected")
            .is_some()
    );
    let (mqtt, http) = (free_port(), free_port());
    // 200 residents press SOS 5 ms apart, starting 1 s after start.
    let presses: Vec<(usize, u64)> = (0..200).map(|n| (n, 1000 + 5 * n as u64)).collect();
    let config = site_config(
        dir.path(),
        mqtt,
        http,
        200,
        &sos_scenario(&presses),
        &institution(broker.port),
    );
    let log = dir.path().join("gw.log");
    let mut seed = 0x5eed_u64;
    for round in 0..20 {
        let gw = run_gateway(&config, &log, mqtt);
        // A deterministic pseudo-random moment in and around the burst.
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let ms = 600 + (seed >> 33) % 1600;
        std::thread::sleep(Duration::from_millis(ms));
        gw.signal("KILL");
        drop(gw);
        let _ = round;
    }
    let mut gw = run_gateway(&config, &log, mqtt);
    // Each resident presses once: wait until every one's alert has arrived (the outboxes drained),
    // however long the replay takes on a loaded machine, instead of a fixed time.
    let mut seen = HashSet::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while seen.len() < 200 && std::time::Instant::now() < deadline {
        if let Some((_, a)) = station
            .next(Duration::from_secs(1))
            .as_deref()
            .and_then(topic_json)
        {
            seen.insert(a["id"].as_str().unwrap_or_default().to_owned());
        }
    }
    gw.signal("TERM");
    assert_eq!(
        gw.wait_exit(Duration::from_secs(20)),
        Some(0),
        "log:\n{}",
        read_log(&log)
    );
    let raised: HashSet<String> = stored_alerts(&dir.path().join("data"))
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        raised.len(),
        200,
        "one alert per resident (dedup across restarts)"
    );
    let lost: Vec<&String> = raised.difference(&seen).collect();
    assert!(
        lost.is_empty(),
        "{} alerts never arrived: {lost:?}",
        lost.len()
    );
}

fn escalation_extra(hospital_uplink: Option<u16>, timeout_s: u32) -> String {
    let mut t = String::new();
    if let Some(p) = hospital_uplink {
        t.push_str(&format!(
            "[[uplinks]]\nid = \"hospital\"\nurl = \"mqtt://127.0.0.1:{p}\"\n\n"
        ));
    }
    t.push_str("[[contacts]]\nid = \"nurse\"\nname = \"Nurse\"\n\n[[contacts]]\nid = \"charge\"\nname = \"Charge nurse\"\n\n");
    t.push_str("[[contacts]]\nid = \"er\"\nname = \"Hospital ER\"\ngreen_channel = true\n");
    if hospital_uplink.is_some() {
        t.push_str("uplink = \"hospital\"\n");
    }
    t.push_str(
        "\n[[escalation.policies]]\nname = \"medical\"\nkinds = [\"sos\", \"fall\", \"vitals\"]\n",
    );
    t.push_str(&format!(
        "[[escalation.policies.levels]]\ncontacts = [\"nurse\"]\ntimeout = \"{timeout_s}s\"\n"
    ));
    t.push_str(&format!(
        "[[escalation.policies.levels]]\ncontacts = [\"charge\"]\ntimeout = \"{timeout_s}s\"\n"
    ));
    t.push_str("[[escalation.policies.levels]]\ncontacts = [\"er\"]\n");
    t
}

#[test]
fn unacknowledged_sos_escalates_to_the_green_channel_also_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let hospital = Mosquitto::start();
    let er = Subscriber::mosquitto_sub(hospital.port, &["pingan/t/referrals/#"]);
    let (mqtt, http) = (free_port(), free_port());
    let config = site_config(
        dir.path(),
        mqtt,
        http,
        2,
        &sos_scenario(&[(1, 1000)]),
        &escalation_extra(Some(hospital.port), 3),
    );
    let log = dir.path().join("gw.log");
    let gw = run_gateway(&config, &log, mqtt);
    let local = Subscriber::mosquitto_sub(mqtt, &["pingan/t/alerts/#"]);
    // Level 1 (charge nurse) at 1 + 3 s; kill the gateway before level 2 is due at 7 s.
    let escalated = local.until(Duration::from_secs(15), |l| {
        l.contains("\"escalation_level\":1")
    });
    assert!(
        escalated.is_some(),
        "no escalation to level 1; log:\n{}",
        read_log(&log)
    );
    gw.signal("KILL");
    drop(gw);
    // Down for longer than the next level's deadline: when the gateway is back, that level still
    // gets its own 3 s instead of firing at once.
    std::thread::sleep(Duration::from_secs(5));
    let back = std::time::Instant::now();
    let mut gw = run_gateway(&config, &log, mqtt);
    let referral = er
        .until(Duration::from_secs(20), |l| l.contains("/referrals/er/"))
        .unwrap_or_else(|| {
            panic!(
                "no referral reached the hospital broker; log:\n{}",
                read_log(&log)
            )
        });
    assert!(
        back.elapsed() >= Duration::from_secs(3),
        "the referral came {:?} after the restart, before the level's timeout",
        back.elapsed()
    );
    let (topic, packet) = topic_json(&referral).unwrap();
    assert!(topic.starts_with("pingan/t/referrals/er/"));
    assert_eq!(packet["type"], "referral");
    assert_eq!(packet["kind"], "sos");
    assert_eq!(packet["resident"], "R1");
    assert_eq!(packet["age_band"].as_str().unwrap().len(), 5);
    assert_eq!(packet["name"], Value::Null, "pseudonymous by default");
    assert_eq!(packet["callback_phone"], "+86 750 1234567");
    assert_eq!(packet["bed"], "0-B");
    assert_eq!(packet["escalation_level"], 2);
    pingan_tests::schema::assert_valid(&[referral.clone(), escalated.clone().unwrap_or_default()]);
    gw.signal("TERM");
    assert_eq!(gw.wait_exit(Duration::from_secs(20)), Some(0));
    let alerts = stored_alerts(&dir.path().join("data"));
    assert_eq!(alerts.len(), 1, "the restart did not raise a second alert");
    assert_eq!(alerts[0]["escalation_level"], 2);
}

#[test]
fn ack_from_a_paho_client_stops_escalation_and_bad_commands_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mqtt, http) = (free_port(), free_port());
    let config = site_config(
        dir.path(),
        mqtt,
        http,
        2,
        &sos_scenario(&[(0, 1500)]),
        &escalation_extra(None, 6),
    );
    let log = dir.path().join("gw.log");
    let mut gw = run_gateway(&config, &log, mqtt);
    let watch = Subscriber::mosquitto_sub(mqtt, &["pingan/t/alerts/#", "pingan/t/referrals/#"]);
    let first = watch
        .until(Duration::from_secs(15), |l| l.contains("\"kind\":\"sos\""))
        .expect("sos alert");
    let id = topic_json(&first).unwrap().1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Malformed and misdirected commands: logged, counted, the alert untouched.
    let pubs = [
        (
            format!("pingan/t/cmd/alerts/{id}/ack"),
            "not json".to_owned(),
        ),
        (
            format!("pingan/t/cmd/alerts/{id}/ack"),
            "{\"note\":\"no person\"}".to_owned(),
        ),
        (
            format!("pingan/t/cmd/alerts/{id}/explode"),
            "{\"by\":\"x\"}".to_owned(),
        ),
        (
            "pingan/t/cmd/alerts/01ARZ3NDEKTSV4RRFFQ69G5FAV/ack".to_owned(),
            "{\"by\":\"x\"}".to_owned(),
        ),
    ];
    for (t, m) in &pubs {
        pingan_tests::mosquitto_pub(mqtt, t, m);
    }
    let station = Subscriber::paho(&[
        "--port",
        &mqtt.to_string(),
        "--topic",
        &format!("pingan/t/alerts/{id}"),
        "--ack-kind",
        "sos",
        "--ack-by",
        "Nurse Li",
        "--site",
        "t",
    ]);
    // paho sees the alert only on its next revision: the first escalation, 6 s after the press
    // (timeouts are long enough that a loaded CI machine still acks before level 2).
    let acked = watch.until(Duration::from_secs(15), |l| {
        l.contains("\"state\":\"acknowledged\"")
    });
    let acked = acked.unwrap_or_else(|| panic!("no acknowledgement; log:\n{}", read_log(&log)));
    let a = topic_json(&acked).unwrap().1;
    assert_eq!(a["acknowledged_by"], "Nurse Li");
    let level_at_ack = a["escalation_level"].as_u64().unwrap();
    assert!(level_at_ack <= 1);
    drop(station);
    // Two more timeouts pass: no further escalation, no referral.
    let later = watch.drain(Duration::from_secs(13));
    assert!(
        later.iter().all(|l| !l.contains("/referrals/")),
        "{later:?}"
    );
    assert!(
        later
            .iter()
            .all(|l| !l.contains(&format!("\"escalation_level\":{}", level_at_ack + 1))),
        "{later:?}"
    );
    gw.signal("TERM");
    assert_eq!(gw.wait_exit(Duration::from_secs(20)), Some(0));
    let (code, out, err) = pingan_output(&[
        "alerts",
        "audit",
        &id,
        "--json",
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let trail: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ack = trail
        .iter()
        .find(|e| e["action"] == "acknowledged")
        .expect("ack in the audit trail");
    assert_eq!(ack["by"], "Nurse Li");
    assert_eq!(ack["via"], "mqtt");
    assert_eq!(
        trail
            .iter()
            .filter(|e| e["action"] == "acknowledged")
            .count(),
        1,
        "bad commands left no trace: {trail:?}"
    );
    assert!(read_log(&log).contains("malformed command ignored"));
}

#[test]
fn storage_over_budget_sheds_telemetry_raises_a_technical_alert_and_alerts_keep_flowing() {
    let dir = tempfile::tempdir().unwrap();
    let (mqtt, http) = (free_port(), free_port());
    let extra =
        "[[devices]]\nid = \"env-0\"\nmodel = \"room_sensor\"\ndriver = \"sim\"\nroom = \"0\"\n";
    let config = site_config(
        dir.path(),
        mqtt,
        http,
        2,
        &sos_scenario(&[(1, 4000)]),
        extra,
    );
    // A one-byte budget: the store is over it from the first check.
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("[storage]\n", "[storage]\nmax_bytes = 1\n");
    std::fs::write(&config, text).unwrap();
    let log = dir.path().join("gw.log");
    let mut gw = run_gateway(&config, &log, mqtt);
    let watch = Subscriber::mosquitto_sub(mqtt, &["pingan/t/alerts/#"]);
    let sos = watch.until(Duration::from_secs(60), |l| l.contains("\"kind\":\"sos\""));
    assert!(
        sos.is_some(),
        "the SOS still flows; log:\n{}",
        read_log(&log)
    );
    std::thread::sleep(Duration::from_secs(11));
    gw.signal("TERM");
    assert_eq!(gw.wait_exit(Duration::from_secs(20)), Some(0));
    let text = read_log(&log);
    let summary = text
        .lines()
        .find(|l| l.contains("stopped after"))
        .expect("summary");
    let shed: u64 = summary
        .split("shed ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(shed > 0, "telemetry was shed: {summary}");
    let data = dir.path().join("data");
    assert!(
        stored_alerts(&data).iter().any(|a| a["kind"] == "sos"),
        "the SOS is stored"
    );
    let t = stored_technical(&data, "storage");
    assert!(t["detail"].as_str().unwrap().contains("over budget"), "{t}");
}

#[path = "alerts/uplinks.rs"]
mod uplinks;
