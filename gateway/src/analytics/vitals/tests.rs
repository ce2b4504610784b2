use pingan_drivers::Measurement;

use super::*;
use crate::analytics::testkit::{Kit, events, local, resident, secs, summary};

fn bed(hr: f32, rr: f32) -> Measurement {
    Measurement::BedOccupancy {
        in_bed: true,
        heart_rate: Some(hr),
        respiration_rate: Some(rr),
    }
}

#[test]
fn normal_vitals_raise_nothing() {
    let kit = Kit::new();
    let mut rule = VitalsRule::default();
    let t = local(2, 0);
    let mut out = Vec::new();
    out.extend(rule.on_reading(&kit.reading("bed1", t, bed(62.0, 15.0)), &kit.ctx()));
    out.extend(rule.on_reading(
        &kit.reading("w1", secs(t, 1), Measurement::SpO2 { percent: 97.0 }),
        &kit.ctx(),
    ));
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn a_single_three_asks_the_nurse_with_medium_priority() {
    let kit = Kit::new();
    let mut rule = VitalsRule::default();
    let t = local(2, 0);
    // SpO2 91 on scale 1 scores 3; nothing else abnormal.
    let out = rule.on_reading(
        &kit.reading("w1", t, Measurement::SpO2 { percent: 91.0 }),
        &kit.ctx(),
    );
    let ev = events(out).pop().unwrap();
    assert_eq!(
        (ev.kind, ev.priority, ev.green_channel),
        (AlertKind::Vitals, Priority::Medium, false)
    );
    assert_eq!(ev.evidence["news2"]["response"], "ward");
    assert_eq!(ev.evidence["news2"]["partial"], true);
    assert_eq!(ev.evidence["consciousness"], "not measured");
    let missing = ev.evidence["news2"]["missing"].as_array().unwrap();
    assert!(missing.iter().any(|m| m == "consciousness"));
}

#[test]
fn deterioration_escalates_to_urgent_then_emergency_with_green_channel() {
    let kit = Kit::new();
    let mut rule = VitalsRule::default();
    let t = local(3, 0);
    let ctx = kit.ctx();
    // Pulse 118 (2) + RR 23 (2) + temperature 38.5 (1) = 5: urgent.
    rule.on_reading(
        &kit.reading("w1", t, Measurement::BodyTemperature { celsius: 38.5 }),
        &ctx,
    );
    rule.on_reading(
        &kit.reading("w1", secs(t, 1), Measurement::HeartRate { bpm: 118.0 }),
        &ctx,
    );
    let out = rule.on_reading(&kit.reading("bed1", secs(t, 2), bed(118.0, 23.0)), &ctx);
    let ev = events(out).pop().unwrap();
    assert_eq!((ev.priority, ev.green_channel), (Priority::High, false));
    assert_eq!(ev.evidence["news2"]["score"], 5);
    // SpO2 90 adds 3: 8, emergency.
    let out = rule.on_reading(
        &kit.reading("w1", secs(t, 3), Measurement::SpO2 { percent: 90.0 }),
        &ctx,
    );
    let ev = events(out).pop().unwrap();
    assert_eq!((ev.priority, ev.green_channel), (Priority::High, true));
    assert_eq!(ev.evidence["news2"]["response"], "emergency");
}

#[test]
fn stale_values_drop_out_of_the_score_and_recovery_clears() {
    let kit = Kit::new();
    let mut rule = VitalsRule::default();
    let ctx = kit.ctx();
    let t = local(3, 0);
    let out = rule.on_reading(
        &kit.reading("w1", t, Measurement::HeartRate { bpm: 135.0 }),
        &ctx,
    );
    assert_eq!(
        summary(out),
        vec![(AlertKind::Vitals, resident("R1"), Priority::Medium, true)]
    );
    // 16 minutes later the pulse is stale (15 min window): only the new normal SpO2 counts.
    let later = secs(t, 16 * 60);
    let out = rule.on_reading(
        &kit.reading("w1", later, Measurement::SpO2 { percent: 97.0 }),
        &ctx,
    );
    assert_eq!(
        summary(out),
        vec![(AlertKind::Vitals, resident("R1"), Priority::Low, false)]
    );
}

#[test]
fn one_artefact_does_not_score_while_the_median_is_normal() {
    let kit = Kit::new();
    let mut rule = VitalsRule::default();
    let ctx = kit.ctx();
    let t = local(3, 0);
    for (i, p) in [97.0, 96.0, 97.0, 85.0].into_iter().enumerate() {
        let out = rule.on_reading(
            &kit.reading(
                "w1",
                secs(t, i as i64 * 5),
                Measurement::SpO2 { percent: p },
            ),
            &ctx,
        );
        assert!(out.is_empty(), "reading {i}: {out:?}");
    }
}

#[test]
fn hypercapnic_resident_on_oxygen_uses_scale_2_from_the_care_plan() {
    let kit = Kit::new();
    let mut rule = VitalsRule::default();
    let t = local(10, 0);
    // Scale 2 on oxygen: SpO2 97 scores 3, oxygen scores 2 → 5: urgent.
    let out = rule.on_reading(
        &kit.reading("w4", t, Measurement::SpO2 { percent: 97.0 }),
        &kit.ctx(),
    );
    let ev = events(out).pop().unwrap();
    assert_eq!(ev.evidence["scale"], 2);
    assert_eq!(ev.evidence["news2"]["points"]["air_or_oxygen"], 2);
    assert_eq!(ev.evidence["news2"]["points"]["spo2"], 3);
    assert_eq!(ev.priority, Priority::High);
}

#[test]
fn a_holding_condition_repeats_at_most_once_a_minute() {
    let kit = Kit::new();
    let mut rule = VitalsRule::default();
    let ctx = kit.ctx();
    let t = local(3, 0);
    let n = (0..120)
        .map(|s| {
            rule.on_reading(
                &kit.reading("w1", secs(t, s), Measurement::HeartRate { bpm: 135.0 }),
                &ctx,
            )
            .len()
        })
        .sum::<usize>();
    assert_eq!(n, 2);
}

#[test]
fn implausible_values_are_ignored() {
    let kit = Kit::new();
    let mut rule = VitalsRule::default();
    let out = rule.on_reading(
        &kit.reading("w1", local(3, 0), Measurement::SpO2 { percent: 140.0 }),
        &kit.ctx(),
    );
    assert!(out.is_empty());
}

proptest::proptest! {
    /// The kept-sorted window gives the median of the samples inside the smoothing window, the
    /// same as sorting them, whatever the order and spacing of arrivals.
    #[test]
    fn the_running_median_is_the_median_of_the_window(
        pushes in proptest::collection::vec((0i64..600_000, 20.0f32..200.0), 1..200),
        smoothing_s in 1u64..300,
    ) {
        let smoothing = Duration::from_secs(smoothing_s);
        let mut series = Series::default();
        let mut t = 1_700_000_000_000i64;
        for (step, v) in pushes {
            // Mostly forward in time, sometimes a little back (another device's clock).
            t += step - 60_000;
            series.push(Timestamp(t), v, smoothing);
            let latest = series.samples.back().map(|(t, _)| t.millis()).unwrap();
            let mut window: Vec<f32> = series.samples.iter().map(|(_, v)| *v).collect();
            let want = crate::analytics::baseline::median(&mut window);
            proptest::prop_assert_eq!(series.median(), want);
            proptest::prop_assert_eq!(series.sorted.len(), series.samples.len());
            proptest::prop_assert!(series
                .samples
                .iter()
                .all(|(at, _)| latest - at.millis() <= smoothing_s as i64 * 1000));
        }
    }
}
