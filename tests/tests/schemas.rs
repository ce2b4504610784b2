//! Every payload a running gateway publishes matches its JSON Schema in docs/schema/ (checked by
//! Python `jsonschema`, an independent validator), and command bodies that do not match the
//! command schema are refused the documented way: the log line `malformed command ignored` and
//! `pingan_commands_rejected_total{reason="malformed"}`.

use std::time::Duration;

use pingan_tests::schema::{assert_valid, validate};
use pingan_tests::{
    Subscriber, free_port, http_get, pingan, site_config, sos_scenario, topic_json, wait_for_port,
    wait_until,
};

fn mosquitto_pub(port: u16, topic: &str, body: &str) {
    pingan_tests::mosquitto_pub(port, topic, body);
}

fn metric(port: u16, series: &str) -> Option<f64> {
    let (_, text) = http_get(port, "/metrics", &[]).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn every_payload_matches_its_schema_and_malformed_commands_are_refused_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (mqtt, http, metrics) = (free_port(), free_port(), free_port());
    // Two contacts of the green channel, one per referral format, reached 2 s after the SOS.
    let extra = format!(
        "[metrics]\nbind = \"127.0.0.1:{metrics}\"\n\n\
         [[devices]]\nid = \"env-0\"\nmodel = \"room_sensor\"\ndriver = \"sim\"\nroom = \"0\"\n\n\
         [[contacts]]\nid = \"nurse\"\nname = \"Nurse\"\n\n\
         [[contacts]]\nid = \"er-json\"\nname = \"ER\"\ngreen_channel = true\n\n\
         [[contacts]]\nid = \"er-fhir\"\nname = \"ER (FHIR)\"\ngreen_channel = true\nformat = \"fhir\"\n\n\
         [[escalation.policies]]\nname = \"medical\"\nkinds = [\"sos\"]\n\
         [[escalation.policies.levels]]\ncontacts = [\"nurse\"]\ntimeout = \"2s\"\n\
         [[escalation.policies.levels]]\ncontacts = [\"er-json\", \"er-fhir\"]\n"
    );
    let config = site_config(
        dir.path(),
        mqtt,
        http,
        4,
        &sos_scenario(&[(0, 1500)]),
        &extra,
    );
    let log = dir.path().join("gw.log");
    let mut gw = pingan(&["run", "--config", config.to_str().unwrap()], &log);
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        wait_for_port(mqtt, Duration::from_secs(20)),
        "log:\n{}",
        read_log()
    );
    let all = Subscriber::mosquitto_sub(mqtt, &["pingan/#"]);
    let mut lines: Vec<String> = Vec::new();
    let kinds = [
        "/status ",
        "/readings/",
        "/alerts/",
        "/notify/",
        "/referrals/er-json/",
        "/referrals/er-fhir/",
    ];
    let got = all.until(Duration::from_secs(40), |l| {
        lines.push(l.to_owned());
        kinds.iter().all(|k| lines.iter().any(|l| l.contains(k)))
    });
    assert!(
        got.is_some(),
        "missing some of {kinds:?} in {} lines; log:\n{}",
        lines.len(),
        read_log()
    );
    let id = lines
        .iter()
        .filter_map(|l| topic_json(l))
        .find(|(t, a)| t.contains("/alerts/") && a["kind"] == "sos")
        .map(|(_, a)| a["id"].as_str().unwrap().to_owned())
        .expect("the SOS alert");

    // Bodies that break the command schema, each refused by the validator and by the gateway.
    let ack = format!("pingan/t/cmd/alerts/{id}/ack");
    let malformed = [
        "not json",
        "{\"note\":\"no person\"}",
        "{\"by\":\"   \"}",
        "{\"by\":\"Li\",\"colour\":\"blue\"}",
        "{\"by\":42}",
        "{\"v\":2,\"by\":\"Li\"}",
        "[\"by\",\"Li\"]",
    ];
    let bodies: Vec<String> = malformed.iter().map(|b| format!("@command {b}")).collect();
    let verdicts = validate(&bodies);
    for (v, b) in verdicts.iter().zip(&malformed) {
        assert!(!v.ok, "the schema accepts the malformed body {b}");
    }
    let before = metric(
        metrics,
        "pingan_commands_rejected_total{reason=\"malformed\"}",
    )
    .unwrap_or(0.0);
    for b in malformed {
        mosquitto_pub(mqtt, &ack, b);
    }
    let want = before + malformed.len() as f64;
    assert!(
        wait_until(Duration::from_secs(15), || {
            metric(
                metrics,
                "pingan_commands_rejected_total{reason=\"malformed\"}",
            ) == Some(want)
        }),
        "each malformed command is counted; log:\n{}",
        read_log()
    );
    // Logged at a limited rate (a flood must not fill the disk): at least the first, never more
    // lines than commands.
    let ignored = read_log().matches("malformed command ignored").count();
    assert!(
        (1..=malformed.len()).contains(&ignored),
        "logged {ignored} times for {} commands",
        malformed.len()
    );

    // A valid body (checked by the schema too) acknowledges the alert.
    let good = "{\"v\":1,\"by\":\"Nurse Li\",\"note\":\"on my way\"}";
    assert!(validate(&[format!("@command {good}")])[0].ok);
    mosquitto_pub(mqtt, &ack, good);
    let acked = all.until(Duration::from_secs(15), |l| {
        lines.push(l.to_owned());
        l.contains(&format!("/alerts/{id}")) && l.contains("\"state\":\"acknowledged\"")
    });
    assert!(
        acked.is_some(),
        "the valid command acknowledged; log:\n{}",
        read_log()
    );
    assert!(
        wait_until(Duration::from_secs(10), || {
            metric(
                metrics,
                "pingan_alert_acknowledgement_seconds_count{priority=\"high\"}",
            ) == Some(1.0)
        }),
        "the time to acknowledgement is observed"
    );
    let (code, health) = http_get(http, "/healthz", &[]).unwrap();
    assert!(code == 200 || code == 503, "{code}");
    lines.push(format!("@health-report {health}"));
    gw.signal("TERM");
    assert_eq!(gw.wait_exit(Duration::from_secs(20)), Some(0));
    // The offline status and whatever else came until the end.
    lines.extend(all.drain(Duration::from_secs(2)));
    // The subscription on `pingan/#` also saw the commands sent above: the malformed ones were
    // checked (and refused) already; the valid one is checked with the rest.
    lines.retain(|l| !(l.contains("/cmd/") && malformed.iter().any(|b| l.ends_with(b))));
    let checked = assert_valid(&lines);
    for schema in [
        "status",
        "reading",
        "alert",
        "referral",
        "referral-fhir",
        "health-report",
    ] {
        assert!(
            checked.get(schema).is_some_and(|n| *n > 0),
            "no {schema} payload checked: {checked:?}"
        );
    }
}
