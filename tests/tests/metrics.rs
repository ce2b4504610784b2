//! Monitoring like real infrastructure: a real Prometheus server scrapes `pingan demo`'s
//! `/metrics` (behind a bearer token) and answers PromQL; `pingan status` and `GET /healthz`
//! report the same gateway, and say when something needs a person.

use std::time::Duration;

use pingan_tests::prometheus::Prometheus;
use pingan_tests::{
    Mosquitto, Subscriber, free_port, http_get, pingan, pingan_output, topic_json, wait_for_port,
    wait_until,
};
use serde_json::Value;

fn status(data: &std::path::Path) -> (i32, Value, String) {
    let (code, out, err) =
        pingan_output(&["status", "--json", "--data-dir", data.to_str().unwrap()]);
    let report = serde_json::from_str(&out).unwrap_or(Value::Null);
    (code, report, err)
}

fn link<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["links"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["id"] == id))
        .unwrap_or(&Value::Null)
}

#[test]
fn prometheus_scrapes_the_demo_and_status_says_when_an_uplink_needs_a_person() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = dir.path().join("metrics.token");
    std::fs::write(&token, "s3cret-scrape-token\n").unwrap();
    let (mqtt, http, metrics) = (free_port(), free_port(), free_port());
    // The institution's broker is not there yet: the uplink starts down.
    let uplink_port = free_port();
    let log = dir.path().join("demo.log");
    let mut gw = pingan(
        &[
            "demo",
            "--mqtt-port",
            &mqtt.to_string(),
            "--http-port",
            &http.to_string(),
            "--data-dir",
            data.to_str().unwrap(),
            "--metrics-port",
            &metrics.to_string(),
            "--metrics-token-file",
            token.to_str().unwrap(),
            "--uplink",
            &format!("mqtt://127.0.0.1:{uplink_port}"),
        ],
        &log,
    );
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        wait_for_port(metrics, Duration::from_secs(30)),
        "no metrics listener; log:\n{}",
        read_log()
    );
    let alerts = Subscriber::mosquitto_sub(mqtt, &["pingan/demo-home/alerts/#"]);

    // Without the token there is nothing to read.
    let (code, _) = http_get(metrics, "/metrics", &[]).unwrap();
    assert_eq!(code, 401);
    let (code, _) = http_get(metrics, "/metrics", &["Authorization: Bearer wrong"]).unwrap();
    assert_eq!(code, 401);

    // Early on the uplink has been down for less than the grace period: nothing needs a person.
    let (code, report, err) = status(&data);
    assert_eq!(code, 0, "{report:#}\n{err}");
    assert_eq!(report["status"], "ok");
    assert_eq!(report["site"], "demo-home");
    assert_eq!(link(&report, "local")["connected"], true, "{report:#}");
    assert_eq!(link(&report, "institution")["connected"], false);
    assert_eq!(report["models"]["fall_detection"], true, "{report:#}");
    let sim = &report["drivers"][0];
    assert_eq!(
        (sim["id"].as_str(), sim["devices"].as_u64()),
        (Some("sim"), Some(163))
    );
    assert!(report["store"]["disk_free_bytes"].as_u64().unwrap() > 0);

    let prom = Prometheus::scraping(metrics, Some(&token));
    assert_eq!(
        prom.wait_value("up{job=\"pingan\"}", Duration::from_secs(30), |v| v == 1.0),
        Ok(1.0),
        "Prometheus scrapes with the token; log:\n{}",
        read_log()
    );
    // Two SOS presses in the demo's first 20 s (the second is cancelled, but it was raised).
    let mut sos = std::collections::HashSet::new();
    let both = alerts.until(Duration::from_secs(60), |l| {
        if let Some((_, a)) = topic_json(l) {
            if a["kind"] == "sos" {
                sos.insert(a["id"].as_str().unwrap_or_default().to_owned());
            }
        }
        sos.len() == 2
    });
    assert!(both.is_some(), "two SOS alerts; log:\n{}", read_log());
    let count = prom.wait_value(
        "sum(pingan_alerts_raised_total{kind=\"sos\"})",
        Duration::from_secs(30),
        |v| v == 2.0,
    );
    assert_eq!(
        count,
        Ok(2.0),
        "PromQL counts the SOS alerts the gateway raised"
    );

    // Every family is there under its conventional name, and no resident or device id is.
    let (code, text) = http_get(
        metrics,
        "/metrics",
        &["Authorization: Bearer s3cret-scrape-token"],
    )
    .unwrap();
    assert_eq!(code, 200);
    for family in [
        "pingan_readings_received_total{driver=\"sim\"}",
        "pingan_readings_stored_total{driver=\"sim\"}",
        "pingan_readings_shed_total{driver=\"sim\"}",
        "pingan_alerts_raised_total{kind=\"sos\",priority=\"high\"}",
        "pingan_alert_transitions_total{from=\"new\",to=\"raised\"}",
        "pingan_outbox_messages{link=\"institution\"}",
        "pingan_outbox_oldest_age_seconds{link=\"institution\"}",
        "pingan_link_up{link=\"local\"} 1",
        "pingan_link_up{link=\"institution\"} 0",
        "pingan_devices{driver=\"sim\",state=\"online\"}",
        "pingan_store_size_bytes ",
        "pingan_disk_free_bytes ",
        "pingan_model_inference_seconds_bucket{",
        "pingan_model_loaded{model=\"fall\"} 1",
        "pingan_build_info{version=",
    ] {
        assert!(text.contains(family), "{family} missing:\n{text}");
    }
    // Raise-to-delivery is observed once a link for people confirms an alert; the only uplink is
    // still down here (checked below, after it returns).
    for personal in ["R0007", "w-0007", "104-A"] {
        assert!(!text.contains(personal), "{personal} in the metrics");
    }
    // Every query of the sample Grafana dashboard is PromQL this Prometheus accepts.
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(pingan_tests::repo_root().join("docs/grafana-dashboard.json"))
            .unwrap(),
    )
    .unwrap();
    for panel in dashboard["panels"].as_array().unwrap() {
        for t in panel["targets"].as_array().unwrap() {
            let expr = t["expr"].as_str().unwrap();
            assert!(prom.query(expr).is_ok(), "dashboard query refused: {expr}");
        }
    }
    let waiting = prom.wait_value(
        "pingan_outbox_messages{link=\"institution\"}",
        Duration::from_secs(20),
        |v| v >= 2.0,
    );
    assert!(
        waiting.is_ok(),
        "the institution's outbox holds the alerts: {waiting:?}"
    );

    // Down longer than the grace period: the uplink needs a person (exit 1, /healthz 503).
    assert!(
        wait_until(Duration::from_secs(40), || status(&data).0 == 1),
        "status never said the uplink needs a person"
    );
    let (_, report, _) = status(&data);
    assert_eq!(report["status"], "attention");
    let problem = &report["problems"][0];
    assert_eq!(
        (problem["code"].as_str(), problem["subject"].as_str()),
        (Some("link_down"), Some("institution")),
        "{report:#}"
    );
    let (code, body) = http_get(http, "/healthz", &[]).unwrap();
    assert_eq!(code, 503, "{body}");
    let (code, out, _) = pingan_output(&["status", "--data-dir", data.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        out.contains("NEEDS ATTENTION") && out.contains("link_down"),
        "{out}"
    );

    // The broker arrives: the outbox replays, the uplink is fine again.
    let _broker = Mosquitto::start_with(uplink_port, "");
    assert!(
        wait_until(Duration::from_secs(40), || {
            let (code, r, _) = status(&data);
            code == 0 && link(&r, "institution")["outbox_depth"] == 0
        }),
        "the uplink recovered and drained; log:\n{}",
        read_log()
    );
    let (code, _) = http_get(http, "/healthz", &[]).unwrap();
    assert_eq!(code, 200);
    // The institution confirmed the alerts: the time to first delivery is observed now.
    let delivered = wait_until(Duration::from_secs(20), || {
        http_get(
            metrics,
            "/metrics",
            &["Authorization: Bearer s3cret-scrape-token"],
        )
        .is_ok_and(|(_, t)| t.contains("pingan_alert_delivery_seconds_bucket{"))
    });
    assert!(
        delivered,
        "raise-to-delivery histogram after the uplink returned"
    );
    gw.signal("TERM");
    assert_eq!(gw.wait_exit(Duration::from_secs(20)), Some(0));
    let (code, _, err) = status(&data);
    assert_eq!(code, 2, "a stopped gateway cannot be asked: {err}");
    assert!(err.contains("is it running?"), "{err}");
}
