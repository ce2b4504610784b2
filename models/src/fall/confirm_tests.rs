//! Table tests of the confirmation rules: scripted motion after an impact, scored windows passed in.

use super::*;
use crate::fall::WINDOW;

const HZ: f64 = 50.0;
const TAU: f64 = std::f64::consts::TAU;

/// What the device measures (g) at `t` seconds after the impact.
type After = fn(f64) -> [f32; 3];

/// Upright until `t_fall`, an impact there, then `after`; windows whose impact segment holds the
/// fall score `score`, all others 0.1. Returns what the confirmer reports while streaming.
fn feed(
    c: &mut FallConfirmer,
    seconds: f64,
    t_fall: f64,
    score: f32,
    after: After,
) -> Vec<ConfirmedFall> {
    let mut out = Vec::new();
    let n = (seconds * HZ) as usize;
    let sample = |i: usize| {
        let t = i as f64 / HZ;
        if (t - t_fall).abs() < 0.011 {
            [0.0, 0.0, 4.0]
        } else if t < t_fall {
            [0.0, 0.0, 1.0]
        } else {
            after(t - t_fall)
        }
    };
    for i in 0..n {
        let t = i as f64 / HZ;
        c.push_sample(t, sample(i));
        if i >= WINDOW && (i - WINDOW) % 25 == 0 {
            let start = i - WINDOW;
            let w: Vec<f32> = (start..i).flat_map(sample).collect();
            let t0 = start as f64 / HZ;
            let s = if t_fall >= t0 + 1.5 && t_fall < t0 + 2.5 {
                score
            } else {
                0.1
            };
            c.on_score(t0, &w, s);
        }
        out.extend(c.poll());
    }
    out
}

fn lying_still(_: f64) -> [f32; 3] {
    [1.0, 0.0, 0.02]
}

/// On the floor (trunk horizontal), an arm waving now and then: the wrist sees bursts of motion.
fn arm_moving_on_the_floor(t: f64) -> [f32; 3] {
    let burst = (t % 3.0) < 1.0;
    let a = if burst {
        0.4 * (TAU * 2.0 * t).sin() as f32
    } else {
        0.0
    };
    [1.0 + a, 0.3 * a, 0.02]
}

/// Back on the feet within two seconds, then walking away upright.
fn getting_up_at_once(t: f64) -> [f32; 3] {
    if t < 1.5 {
        [0.7, 0.0, 0.7]
    } else {
        [0.05, 0.0, 1.0 + 0.35 * (TAU * 1.8 * t).sin() as f32]
    }
}

/// Sitting down hard: the hip device tilts a little, then sits still.
fn sitting_still(_: f64) -> [f32; 3] {
    [0.34, 0.0, 0.94]
}

fn walking_upright(t: f64) -> [f32; 3] {
    [0.0, 0.0, 1.0 + 0.4 * (TAU * 1.6 * t).sin() as f32]
}

fn config(p: Placement) -> ConfirmerConfig {
    ConfirmerConfig {
        threshold: 0.5,
        recovered_threshold: 0.9,
        ..ConfirmerConfig::for_placement(p)
    }
}

#[test]
fn confirmation_rules_table() {
    use Aftermath::{Down, Recovered};
    use Placement::{Waist, Wrist};
    // (case, placement, model score, motion after the impact, expected report)
    let table: [(&str, Placement, f32, After, Option<Aftermath>); 16] = [
        ("lying still, waist", Waist, 0.6, lying_still, Some(Down)),
        ("lying still, wrist", Wrist, 0.6, lying_still, Some(Down)),
        (
            "lying still, score under both thresholds",
            Waist,
            0.4,
            lying_still,
            None,
        ),
        (
            "arm moving on the floor, wrist",
            Wrist,
            0.6,
            arm_moving_on_the_floor,
            Some(Down),
        ),
        (
            "arm moving on the floor, waist",
            Waist,
            0.6,
            arm_moving_on_the_floor,
            Some(Down),
        ),
        (
            "getting up at once, convincing impact, waist",
            Waist,
            0.95,
            getting_up_at_once,
            Some(Recovered),
        ),
        (
            "getting up at once, convincing impact, wrist",
            Wrist,
            0.95,
            getting_up_at_once,
            Some(Recovered),
        ),
        (
            "getting up at once, ordinary score, waist",
            Waist,
            0.6,
            getting_up_at_once,
            None,
        ),
        (
            "getting up at once, ordinary score, wrist",
            Wrist,
            0.6,
            getting_up_at_once,
            None,
        ),
        ("sitting down hard, waist", Waist, 0.6, sitting_still, None),
        // the wrist cannot tell sitting still from lying still: only the model's score rejects it
        (
            "sitting down hard, wrist, ordinary score",
            Wrist,
            0.4,
            sitting_still,
            None,
        ),
        (
            "sitting down hard, wrist, fall-like score",
            Wrist,
            0.6,
            sitting_still,
            Some(Down),
        ),
        (
            "sitting down hard, convincing impact, waist",
            Waist,
            0.95,
            sitting_still,
            Some(Recovered),
        ),
        (
            "walking away upright, waist",
            Waist,
            0.6,
            walking_upright,
            None,
        ),
        (
            "walking away upright, wrist",
            Wrist,
            0.6,
            walking_upright,
            None,
        ),
        (
            "walking away after a convincing impact, wrist",
            Wrist,
            0.95,
            walking_upright,
            Some(Recovered),
        ),
    ];
    for (case, placement, score, after, expected) in table {
        let mut c = FallConfirmer::new(config(placement));
        let falls = feed(&mut c, 30.0, 8.0, score, after);
        let got = falls.first().map(|f| f.aftermath);
        assert_eq!(got, expected, "{case}: {falls:?}");
        assert!(falls.len() <= 1, "{case}: one event, not {}", falls.len());
        if let Some(f) = falls.first() {
            assert!((f.t - 8.0).abs() < 0.05, "{case}: impact at {}", f.t);
            assert!(!f.evidence.is_empty(), "{case}");
        }
    }
}

#[test]
fn lying_still_is_motionless_and_moving_an_arm_is_not() {
    let mut c = FallConfirmer::new(config(Placement::Wrist));
    let still = feed(&mut c, 30.0, 8.0, 0.6, lying_still);
    assert!(still[0].motionless && still[0].quiet_share > 0.99);
    let mut c = FallConfirmer::new(config(Placement::Wrist));
    let arm = feed(&mut c, 30.0, 8.0, 0.6, arm_moving_on_the_floor);
    assert!(!arm[0].motionless, "{:?}", arm[0].activity_g);
    assert!(arm[0].quiet_share < 0.9, "{}", arm[0].quiet_share);
}

#[test]
fn the_decision_comes_within_fifteen_seconds_of_the_impact() {
    let mut cfg = config(Placement::Waist);
    cfg.confirm_after_s = 40.0;
    let mut c = FallConfirmer::new(cfg);
    assert!(c.config().confirm_after_s <= MAX_DECISION_S);
    let n = (40.0 * HZ) as usize;
    let mut decided_at = None;
    for i in 0..n {
        let t = i as f64 / HZ;
        let s = if (t - 8.0).abs() < 0.011 {
            [0.0, 0.0, 4.0]
        } else if t < 8.0 {
            [0.0, 0.0, 1.0]
        } else {
            [1.0, 0.0, 0.0]
        };
        c.push_sample(t, s);
        if i >= WINDOW && (i - WINDOW) % 25 == 0 {
            let t0 = (i - WINDOW) as f64 / HZ;
            let w: Vec<f32> = (i - WINDOW..i)
                .flat_map(|k| {
                    if k == 400 {
                        [0.0, 0.0, 4.0]
                    } else {
                        [0.0, 0.0, 1.0]
                    }
                })
                .collect();
            c.on_score(
                t0,
                &w,
                if (t0 + 1.5..t0 + 2.5).contains(&8.0) {
                    0.7
                } else {
                    0.1
                },
            );
        }
        if !c.poll().is_empty() {
            decided_at = Some(t);
            break;
        }
    }
    let at = decided_at.expect("decided");
    assert!(
        at - 8.0 <= MAX_DECISION_S,
        "decided {} s after the impact",
        at - 8.0
    );
}

#[test]
fn a_recording_ending_soon_after_the_fall_is_decided_at_finish() {
    let mut c = FallConfirmer::new(config(Placement::Waist));
    assert!(feed(&mut c, 14.0, 8.0, 0.6, lying_still).is_empty());
    let falls = c.finish();
    assert_eq!(falls.len(), 1);
    assert_eq!(falls[0].aftermath, Aftermath::Down);
}

#[test]
fn too_little_aftermath_needs_the_higher_threshold() {
    // the recording stops 2.6 s after the impact: too little to tell whether the person got up
    let mut c = FallConfirmer::new(config(Placement::Waist));
    assert!(feed(&mut c, 10.6, 8.0, 0.6, lying_still).is_empty());
    assert!(c.finish().is_empty());
    let mut c = FallConfirmer::new(config(Placement::Waist));
    assert!(feed(&mut c, 10.6, 8.0, 0.95, lying_still).is_empty());
    let falls = c.finish();
    assert_eq!(falls.len(), 1);
    assert_eq!(falls[0].aftermath, Aftermath::Unknown);
}

/// A second stage that believes a fall when at least half the aftermath's stretches are quiet.
fn quiet_stump() -> SecondStageRule {
    let names = serde_json::to_string(&FEATURE_NAMES).unwrap();
    let forest = r#"{"baseline":0.0,"trees":[{"feature":[3,-1,-1],"threshold":[0.5,0,0],
        "left":[1,0,0],"right":[2,0,0],"missing_left":[false,false,false],"value":[0,-3.0,3.0]}]}"#;
    let json = format!(
        r#"{{"format":"{}","features":{names},"wrist":{forest},"waist":{forest}}}"#,
        crate::fall::SECOND_STAGE_FORMAT
    );
    let s = crate::fall::SecondStage::from_json(&json).unwrap();
    SecondStageRule {
        forest: s.forest(Placement::Waist).clone(),
        threshold: 0.8,
    }
}

#[test]
fn with_a_second_stage_the_trees_decide_and_the_aftermath_sets_the_priority() {
    use Aftermath::{Down, Recovered};
    // (case, motion after the impact, expected report); every candidate scores 0.6 ≥ 0.5
    let table: [(&str, After, Option<Aftermath>); 4] = [
        ("lying still", lying_still, Some(Down)),
        (
            "sitting down hard, then still",
            sitting_still,
            Some(Recovered),
        ),
        ("getting up at once", getting_up_at_once, None),
        ("walking upright", walking_upright, None),
    ];
    for (case, after, want) in table {
        let mut c = FallConfirmer::with_second_stage(config(Placement::Waist), quiet_stump());
        let mut out = feed(&mut c, 30.0, 8.0, 0.6, after);
        out.extend(c.finish());
        assert_eq!(out.iter().map(|f| f.aftermath).next(), want, "{case}");
        if let Some(f) = out.first() {
            assert!(f.confirm_probability.unwrap() >= 0.8, "{case}");
        }
    }
}
