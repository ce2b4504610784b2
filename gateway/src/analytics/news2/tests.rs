//! The NEWS2 chart at every band edge (RCP 2017, chart 1), and the response rules.

use super::*;

#[test]
fn respiration_rate_bands_match_the_chart() {
    let table = [
        (0.0, 3),
        (8.0, 3),
        (8.4, 3),
        (8.5, 1),
        (9.0, 1),
        (11.0, 1),
        (12.0, 0),
        (20.0, 0),
        (21.0, 2),
        (24.0, 2),
        (25.0, 3),
        (40.0, 3),
    ];
    for (rr, pts) in table {
        assert_eq!(respiration_points(rr), pts, "rr {rr}");
    }
}

#[test]
fn spo2_scale_1_bands_match_the_chart() {
    let table = [
        (80.0, 3),
        (91.0, 3),
        (92.0, 2),
        (93.0, 2),
        (94.0, 1),
        (95.0, 1),
        (96.0, 0),
        (100.0, 0),
    ];
    for (s, pts) in table {
        for o in [None, Some(Oxygen::Air), Some(Oxygen::Oxygen)] {
            assert_eq!(
                spo2_points(s, SpO2Scale::One, o),
                Some(pts),
                "spo2 {s} {o:?}"
            );
        }
    }
}

#[test]
fn spo2_scale_2_scores_high_saturation_only_on_oxygen() {
    use Oxygen::{Air, Oxygen as O2};
    let table = [
        (83.0, Some(Air), 3),
        (84.0, Some(Air), 2),
        (85.0, Some(O2), 2),
        (86.0, Some(Air), 1),
        (87.0, Some(O2), 1),
        (88.0, Some(O2), 0),
        (92.0, Some(O2), 0),
        (88.0, Some(Air), 0),
        (92.0, Some(Air), 0),
        (93.0, Some(Air), 0),
        (97.0, Some(Air), 0),
        (100.0, Some(Air), 0),
        (93.0, Some(O2), 1),
        (94.0, Some(O2), 1),
        (95.0, Some(O2), 2),
        (96.0, Some(O2), 2),
        (97.0, Some(O2), 3),
        (100.0, Some(O2), 3),
    ];
    for (s, o, pts) in table {
        assert_eq!(
            spo2_points(s, SpO2Scale::Two, o),
            Some(pts),
            "spo2 {s} {o:?}"
        );
    }
    // Below 93 the answer does not depend on air or oxygen; above it, it cannot be guessed.
    assert_eq!(spo2_points(90.0, SpO2Scale::Two, None), Some(0));
    assert_eq!(spo2_points(95.0, SpO2Scale::Two, None), None);
}

#[test]
fn systolic_bp_bands_match_the_chart() {
    let table = [
        (60.0, 3),
        (90.0, 3),
        (91.0, 2),
        (100.0, 2),
        (101.0, 1),
        (110.0, 1),
        (111.0, 0),
        (219.0, 0),
        (220.0, 3),
        (260.0, 3),
    ];
    for (v, pts) in table {
        assert_eq!(systolic_points(v), pts, "sbp {v}");
    }
}

#[test]
fn pulse_bands_match_the_chart() {
    let table = [
        (30.0, 3),
        (40.0, 3),
        (41.0, 1),
        (50.0, 1),
        (51.0, 0),
        (90.0, 0),
        (91.0, 1),
        (110.0, 1),
        (111.0, 2),
        (130.0, 2),
        (131.0, 3),
        (180.0, 3),
    ];
    for (v, pts) in table {
        assert_eq!(pulse_points(v), pts, "pulse {v}");
    }
}

#[test]
fn temperature_bands_match_the_chart() {
    let table = [
        (34.0, 3),
        (35.0, 3),
        (35.1, 1),
        (36.0, 1),
        (36.1, 0),
        (38.0, 0),
        (38.1, 1),
        (39.0, 1),
        (39.1, 2),
        (41.0, 2),
        (35.04, 3),
        (35.06, 1),
    ];
    for (v, pts) in table {
        assert_eq!(temperature_points(v), pts, "temp {v}");
    }
}

#[test]
fn air_oxygen_and_consciousness_match_the_chart() {
    assert_eq!(oxygen_points(Oxygen::Air), 0);
    assert_eq!(oxygen_points(Oxygen::Oxygen), 2);
    assert_eq!(consciousness_points(Acvpu::Alert), 0);
    for c in [
        Acvpu::Confusion,
        Acvpu::Voice,
        Acvpu::Pain,
        Acvpu::Unresponsive,
    ] {
        assert_eq!(consciousness_points(c), 3);
    }
}

#[test]
fn response_follows_the_chart_thresholds() {
    let table = [
        (0, 0, Response::Routine),
        (4, 2, Response::Routine),
        (3, 3, Response::Ward),
        (4, 3, Response::Ward),
        (5, 2, Response::Urgent),
        (6, 3, Response::Urgent),
        (7, 2, Response::Emergency),
        (15, 3, Response::Emergency),
    ];
    for (total, max, r) in table {
        assert_eq!(response(total, max), r, "total {total} max {max}");
    }
}

fn full(rr: f32, spo2: f32, sbp: f32, hr: f32, temp: f32) -> Observations {
    Observations {
        respiration_rate: Some(rr),
        spo2: Some(spo2),
        scale: SpO2Scale::One,
        oxygen: Some(Oxygen::Air),
        systolic_bp: Some(sbp),
        pulse: Some(hr),
        consciousness: Some(Acvpu::Alert),
        temperature: Some(temp),
    }
}

#[test]
fn a_complete_normal_set_scores_zero_and_is_not_partial() {
    let s = score(&full(16.0, 97.0, 125.0, 72.0, 36.8));
    assert_eq!(
        (s.total, s.partial(), s.response),
        (0, false, Response::Routine)
    );
    assert_eq!(s.points.len(), 7);
}

#[test]
fn a_deteriorating_resident_scores_emergency() {
    // RR 26 (3) + SpO2 90 (3) + pulse 118 (2) + temp 39.2 (2) = 10.
    let s = score(&full(26.0, 90.0, 125.0, 118.0, 39.2));
    assert_eq!(s.total, 10);
    assert_eq!(s.response, Response::Emergency);
}

#[test]
fn missing_parameters_are_listed_and_never_imputed() {
    let o = Observations {
        spo2: Some(91.0),
        pulse: Some(72.0),
        ..Observations::default()
    };
    let s = score(&o);
    assert!(s.partial());
    assert_eq!(s.total, 3);
    assert_eq!(s.response, Response::Ward);
    assert_eq!(
        s.missing,
        vec![
            Parameter::RespirationRate,
            Parameter::AirOrOxygen,
            Parameter::SystolicBp,
            Parameter::Consciousness,
            Parameter::Temperature
        ]
    );
    assert_eq!(s.points_of(Parameter::RespirationRate), None);
}

#[test]
fn scale_2_without_air_or_oxygen_leaves_high_spo2_unscored() {
    let o = Observations {
        spo2: Some(96.0),
        scale: SpO2Scale::Two,
        ..Observations::default()
    };
    let s = score(&o);
    assert!(s.missing.contains(&Parameter::Spo2));
    assert!(s.missing.contains(&Parameter::AirOrOxygen));
}

#[test]
fn json_has_exactly_the_documented_keys() {
    let s = score(&full(22.0, 95.0, 100.0, 95.0, 38.5));
    let v = serde_json::to_value(&s).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["missing", "partial", "points", "response", "score"]);
    // RR 22 (2) + SpO2 95 (1) + SBP 100 (2) + pulse 95 (1) + temp 38.5 (1) = 7.
    assert_eq!(v["score"], 7);
    assert_eq!(v["response"], "emergency");
    assert_eq!(v["points"]["systolic_bp"], 2);
    assert_eq!(v["partial"], false);
}

#[test]
fn implausible_values_are_rejected() {
    let o = Observations {
        spo2: Some(140.0),
        ..Observations::default()
    };
    let err = validate(&o).unwrap_err();
    assert_eq!(err.parameter, Parameter::Spo2);
    assert!(err.to_string().contains("spo2 = 140"), "{err}");
    assert!(check(Parameter::Temperature, f32::NAN).is_err());
}
