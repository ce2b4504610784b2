//! Recorded traces (`seeds/traces/*.jsonl`) replayed through normalize → analytics → the alert
//! engine, each checked against the alerts expected beside it (`*.expected.jsonl`): exactly those
//! alerts, no others.

use std::path::{Path, PathBuf};

use pingan_gateway::alert::{AlertKind, Priority, Subject};
use pingan_gateway::analytics::Analytics;
use pingan_gateway::config::Config;
use pingan_gateway::pipeline::Site;
use pingan_gateway::pipeline::replay::{parse_trace, replay};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
struct Expected {
    kind: AlertKind,
    subject: Subject,
    priority: Priority,
    #[serde(default)]
    green_channel: Option<bool>,
}

fn traces_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../seeds/traces")
}

fn traces() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(traces_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.ends_with(".jsonl") && !name.ends_with(".expected.jsonl")
        })
        .collect();
    v.sort();
    v
}

fn check(trace: &Path, config: &Config) -> Result<(), String> {
    let text = std::fs::read_to_string(trace).unwrap();
    let readings = parse_trace(&text).map_err(|e| e.to_string())?;
    let expected_path = trace.with_extension("expected.jsonl");
    let expected_text = std::fs::read_to_string(&expected_path)
        .map_err(|e| format!("{}: {e}", expected_path.display()))?;
    let mut expected: Vec<Expected> = expected_text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let result = replay(
        &Site::new(config.clone()),
        Analytics::for_site(config),
        readings,
    );
    if result.unknown_devices > 0 {
        return Err(format!(
            "{} readings of unknown devices",
            result.unknown_devices
        ));
    }
    let mut got: Vec<Expected> = result
        .alerts
        .iter()
        .zip(&expected_with_green(&expected, &result.alerts))
        .map(|(a, want_green)| Expected {
            kind: a.kind,
            subject: a.subject.clone(),
            priority: a.priority,
            green_channel: want_green.then_some(a.green_channel),
        })
        .collect();
    got.sort();
    expected.sort();
    if got != expected {
        let detail: Vec<String> = result
            .alerts
            .iter()
            .map(|a| serde_json::to_string(a).unwrap())
            .collect();
        return Err(format!(
            "expected {expected:?}\n got {got:?}\n alerts:\n{}",
            detail.join("\n")
        ));
    }
    Ok(())
}

/// Whether each replayed alert's green-channel flag is compared: where the expectation for its
/// kind and subject names one.
fn expected_with_green(
    expected: &[Expected],
    alerts: &[pingan_gateway::pipeline::replay::ReplayedAlert],
) -> Vec<bool> {
    alerts
        .iter()
        .map(|a| {
            expected
                .iter()
                .any(|e| e.kind == a.kind && e.subject == a.subject && e.green_channel.is_some())
        })
        .collect()
}

#[test]
fn every_recorded_trace_raises_exactly_its_expected_alerts() {
    let config = Config::load(&traces_dir().join("config.toml")).unwrap_or_else(|e| panic!("{e}"));
    let traces = traces();
    assert!(traces.len() >= 6, "traces found: {traces:?}");
    let failures: Vec<String> = traces
        .iter()
        .filter_map(|t| {
            check(t, &config)
                .err()
                .map(|e| format!("{}: {e}", t.display()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_malformed_trace_line_is_reported_with_its_number() {
    let err =
        parse_trace("{\"device\":\"w\",\"at\":1,\"kind\":\"spo2\",\"percent\":97}\n\n{oops}\n")
            .unwrap_err();
    assert_eq!(err.line, 3);
}
