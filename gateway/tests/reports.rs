//! The response report over recorded alert trails (`seeds/reports/*.jsonl`: one alert with its
//! audit trail per line), checked against the report worked out by hand beside each
//! (`*.expected.json`) and the CSV a manager downloads (`*.expected.csv`); and the same trails
//! written into a store on disk, reopened and read back give the same report.

use std::path::{Path, PathBuf};

use pingan_gateway::alert::{AlertTrail, Locale};
use pingan_gateway::config::Config;
use pingan_gateway::report::period::parse_time;
use pingan_gateway::report::{ReportSetup, csv, response};
use pingan_gateway::store::Store;
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../seeds/reports")
}

fn setup() -> ReportSetup {
    let config = Config::load(&dir().join("config.toml")).unwrap_or_else(|e| panic!("{e}"));
    ReportSetup::from_config(&config)
}

fn trails(name: &str) -> Vec<AlertTrail> {
    std::fs::read_to_string(dir().join(format!("{name}.jsonl")))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: {e}: {l}")))
        .collect()
}

fn expected(name: &str) -> Value {
    let path = dir().join(format!("{name}.expected.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Every key of `want` is in `got` with an equal value (objects recursively, arrays element by
/// element and of the same length); the path of the first difference otherwise.
fn subset(want: &Value, got: &Value, at: &str) -> Result<(), String> {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w.iter().try_for_each(|(k, v)| {
            let inner = g.get(k).ok_or_else(|| format!("{at}.{k}: missing"))?;
            subset(v, inner, &format!("{at}.{k}"))
        }),
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => w
            .iter()
            .zip(g)
            .enumerate()
            .try_for_each(|(i, (a, b))| subset(a, b, &format!("{at}[{i}]"))),
        _ if want == got => Ok(()),
        _ => Err(format!("{at}: expected {want}, got {got}")),
    }
}

fn span(e: &Value, setup: &ReportSetup) -> [pingan_drivers::Timestamp; 3] {
    let t = |k: &str, end| parse_time(e[k].as_str().unwrap(), setup.tz(), end).unwrap();
    [t("from", false), t("to", false), t("made_at", false)]
}

#[test]
fn the_night_shift_report_matches_the_one_worked_out_by_hand() {
    let setup = setup();
    let e = expected("night_shift");
    let [from, to, made] = span(&e, &setup);
    let report = response::build(&setup, &trails("night_shift"), from, to, made);
    let got = serde_json::to_value(&report).unwrap();
    subset(&e["expect"], &got, "report").unwrap_or_else(|d| panic!("{d}\n{got:#}"));
    for want in e["rows_containing"].as_array().unwrap() {
        let rows = got["rows"].as_array().unwrap();
        assert!(
            rows.iter().any(|r| subset(want, r, "row").is_ok()),
            "no row like {want}\n{:#}",
            got["rows"]
        );
    }
}

#[test]
fn the_csv_a_manager_downloads_is_the_one_beside_the_trace() {
    let setup = setup();
    let e = expected("night_shift");
    let [from, to, made] = span(&e, &setup);
    let report = response::build(&setup, &trails("night_shift"), from, to, made);
    let want = std::fs::read_to_string(dir().join("night_shift.expected.csv")).unwrap();
    // The file is kept with plain line ends; the CSV itself uses \r\n (RFC 4180).
    assert_eq!(csv::render(&report, Locale::En).replace("\r\n", "\n"), want);
}

#[tokio::test]
async fn trails_stored_on_disk_and_read_back_after_a_restart_give_the_same_report() {
    let setup = setup();
    let e = expected("night_shift");
    let [from, to, made] = span(&e, &setup);
    let mut recorded = trails("night_shift");
    let direct = response::build(&setup, &recorded, from, to, made);
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        // Written newest first: the report must not depend on the order alerts reach the store.
        recorded.reverse();
        for t in &recorded {
            for entry in &t.audit {
                store.put_alert_unflushed(&t.alert, Some(entry)).unwrap();
            }
        }
        store.flush().await.unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let read = store.trails(from, to, false).unwrap();
    assert_eq!(read.len(), 11, "the alert before the span is not read");
    assert_eq!(response::build(&setup, &read, from, to, made), direct);
}
