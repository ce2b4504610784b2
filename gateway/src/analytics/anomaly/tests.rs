use std::path::Path;

use pingan_drivers::Measurement;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::analytics::testkit::{Kit, events, local};

fn still(rng: &mut SmallRng) -> Measurement {
    let samples = (0..25)
        .map(|_| [0.97, 0.15, 0.1 + rng.gen_range(-0.01..0.01)])
        .collect();
    Measurement::Motion { samples, hz: 50.0 }
}

fn walking(rng: &mut SmallRng) -> Measurement {
    let ph: f32 = rng.gen_range(0.0..6.0);
    let samples = (0..25)
        .map(|i| [0.05, 0.1, 0.99 + 0.25 * (ph + i as f32 * 0.2).sin()])
        .collect();
    Measurement::Motion { samples, hz: 50.0 }
}

/// Simulates `days` days of R1 from 2026-07-01 13:00; `hr_of(day)` is that night's resting HR.
/// Returns the anomaly events with the day they came on.
fn simulate(
    rule: &mut AnomalyRule,
    kit: &Kit,
    days: i64,
    hr_of: impl Fn(i64) -> f32,
) -> Vec<(i64, crate::alert::Event)> {
    let mut rng = SmallRng::seed_from_u64(7);
    let ctx = kit.ctx();
    let mut out = Vec::new();
    let bed = |in_bed: bool, hr: Option<f32>, rr: Option<f32>| Measurement::BedOccupancy {
        in_bed,
        heart_rate: hr,
        respiration_rate: rr,
    };
    for d in 0..days {
        let base = 24 * d;
        let mut push = |f: Vec<Finding>| out.extend(events(f).into_iter().map(|e| (d, e)));
        // Afternoon and evening: 13:00–21:00, a wrist batch a minute, a quarter of them moving.
        for m in 0..(8 * 60) {
            let at = local(base + 13, m);
            let mv = if rng.gen_bool(0.25) {
                walking(&mut rng)
            } else {
                still(&mut rng)
            };
            push(rule.on_reading(&kit.reading("w1", at, mv), &ctx));
            if m % 5 == 0 {
                push(rule.on_tick(at, &ctx));
            }
        }
        // Night 22:30–05:30 in bed; one trip to the bathroom at 02:00 for 5 minutes.
        for m in 0..(7 * 60) {
            let at = local(base + 22, 30 + m);
            let out_of_bed = (210..215).contains(&m);
            let hr = hr_of(d) + rng.gen_range(-1.5..1.5);
            let rr = 14.0 + rng.gen_range(-0.8..0.8);
            let reading = if out_of_bed {
                bed(false, None, None)
            } else {
                bed(true, Some(hr), Some(rr))
            };
            push(rule.on_reading(&kit.reading("bed1", at, reading), &ctx));
            push(rule.on_reading(&kit.reading("w1", at, still(&mut rng)), &ctx));
            if m % 5 == 0 {
                push(rule.on_tick(at, &ctx));
            }
        }
        // Morning 07:00–12:59.
        for m in 0..(6 * 60) {
            let at = local(base + 24 + 7, m);
            let mv = if rng.gen_bool(0.25) {
                walking(&mut rng)
            } else {
                still(&mut rng)
            };
            push(rule.on_reading(&kit.reading("w1", at, mv), &ctx));
            if m % 5 == 0 {
                push(rule.on_tick(at, &ctx));
            }
        }
    }
    out
}

fn no_model() -> Result<AnomalyModel, AnomalyError> {
    Err(AnomalyError::Load {
        path: "/nonexistent/anomaly.json".into(),
        reason: "not loaded in this test".into(),
    })
}

#[test]
fn no_anomaly_alert_while_learning_even_on_a_strange_day() {
    let kit = Kit::new();
    let mut rule = AnomalyRule::new(no_model());
    // Day 3's night has a resting HR of 90: the baseline has too few days to judge.
    let out = simulate(&mut rule, &kit, 8, |d| if d == 3 { 90.0 } else { 58.0 });
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn after_learning_a_raised_resting_heart_rate_is_explained_by_baselines_alone() {
    let kit = Kit::new();
    let mut rule = AnomalyRule::new(no_model());
    // First (partial) day discarded, then 8 ordinary days, then HR 72 instead of 58.
    let out = simulate(&mut rule, &kit, 11, |d| if d == 10 { 72.0 } else { 58.0 });
    assert_eq!(out.len(), 1, "{out:?}");
    let (_, ev) = &out[0];
    assert_eq!((ev.kind, ev.priority), (AlertKind::Vitals, Priority::Low));
    assert_eq!(ev.subject, Subject::Resident("R1".into()));
    assert_eq!(ev.evidence["anomaly"]["deviated"][0], "resting_hr");
    let z = ev.evidence["anomaly"]["features"]["resting_hr"]["z"]
        .as_f64()
        .unwrap();
    assert!(z > 5.0, "{z}");
    assert!(
        ev.evidence["anomaly"]["model"]
            .as_str()
            .unwrap()
            .contains("baselines only")
    );
    assert!(
        ev.detail.contains("resting_hr 72.0 (usual 58.0"),
        "{}",
        ev.detail
    );
}

#[test]
fn the_svm_model_flags_the_changed_day_and_not_the_ordinary_ones() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/anomaly.json");
    let model = AnomalyModel::load(&path).unwrap_or_else(|e| panic!("{e} (run scripts/setup)"));
    let kit = Kit::new();
    let mut rule = AnomalyRule::new(Ok(model));
    let out = simulate(&mut rule, &kit, 11, |d| if d == 10 { 70.0 } else { 58.0 });
    assert_eq!(out.len(), 1, "{out:?}");
    let ev = &out[0].1;
    assert_eq!(ev.evidence["anomaly"]["model"], "anomaly.json");
    assert!(ev.evidence["anomaly"]["score"].as_f64().unwrap() < 0.0);
    assert_eq!(ev.evidence["anomaly"]["deviated"][0], "resting_hr");
}
