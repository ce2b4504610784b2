//! The second stage computes the same candidate features and tree outputs in Rust as the training
//! does in Python (models/training/aftermath.py, second_stage.py), on generated candidates:
//! fixtures/second_stage_parity.json, written by second_stage_fixture.py.

use pingan_models::fall::aftermath::{FEATURE_NAMES, features};
use pingan_models::fall::{Placement, SecondStage};
use serde_json::Value;

fn samples(v: &Value) -> Vec<[f32; 3]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let s = s.as_array().unwrap();
            #[allow(clippy::cast_possible_truncation)]
            std::array::from_fn(|i| s[i].as_f64().unwrap() as f32)
        })
        .collect()
}

#[test]
fn rust_features_and_trees_match_python_on_generated_candidates() {
    let text = include_str!("fixtures/second_stage_parity.json");
    let fixture: Value = serde_json::from_str(text).unwrap();
    let model = SecondStage::from_json(&fixture["model"].to_string()).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        let kind = c["kind"].as_str().unwrap();
        #[allow(clippy::cast_possible_truncation)]
        let score = c["score"].as_f64().unwrap() as f32;
        let f = features(
            score,
            &samples(&c["pre"]),
            &samples(&c["impact"]),
            &samples(&c["after"]),
        );
        let expected: Vec<f64> = c["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        for (i, (got, want)) in f.iter().zip(&expected).enumerate() {
            assert!(
                (got - want).abs() <= 1e-4,
                "{kind}: feature {} is {got}, Python {want}",
                FEATURE_NAMES[i]
            );
        }
        for (p, key) in [(Placement::Wrist, "wrist"), (Placement::Waist, "waist")] {
            let want = c[key].as_f64().unwrap();
            let got = model.predict(p, &f);
            assert!((got - want).abs() <= 1e-4, "{kind} {key}: {got} vs {want}");
        }
    }
}
