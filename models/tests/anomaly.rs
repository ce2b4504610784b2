//! The plain-Rust anomaly SVM against the training's ONNX graph run by Python onnxruntime.

mod common;

use std::path::Path;
use std::process::Command;

use common::{max_abs_diff, read_f32, to_le_bytes};
use pingan_models::anomaly::{AnomalyModel, Z_CLIP};

#[test]
fn rust_decision_values_match_python_onnxruntime_within_1e_4() {
    // a grid of ordinary and deviating days, every feature in turn, plus mixed ones
    let mut days: Vec<[f32; 5]> = Vec::new();
    for f in 0..5 {
        for z in [
            -8.0, -5.0, -3.0, -1.5, -0.5, 0.0, 0.4, 1.0, 2.0, 3.5, 6.0, 8.0,
        ] {
            let mut d = [0.0; 5];
            d[f] = z;
            days.push(d);
        }
    }
    let mut x = 7u32;
    for _ in 0..100 {
        days.push([0; 5].map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (f32::from(u16::try_from(x >> 16).unwrap()) / 65_535.0 - 0.5) * 2.0 * Z_CLIP
        }));
    }
    let model = AnomalyModel::embedded().expect("embedded model");
    let rust: Vec<f32> = days
        .iter()
        .map(|d| model.score(d).expect("score").score)
        .collect();

    let dir = tempfile::tempdir().expect("tempdir");
    let (z, out) = (dir.path().join("z.f32"), dir.path().join("o.f32"));
    let flat: Vec<f32> = days.iter().flatten().copied().collect();
    std::fs::write(&z, to_le_bytes(&flat)).expect("write");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("../.venv/bin/python");
    let status = Command::new(&python)
        .arg(root.join("tests/anomaly_reference.py"))
        .arg(root.join("anomaly.onnx"))
        .args([&z, &out])
        .status()
        .unwrap_or_else(|e| panic!("cannot run {} (run scripts/setup): {e}", python.display()));
    assert!(status.success(), "python reference failed");
    let py = read_f32(&out);
    let max_diff = max_abs_diff(&rust, &py, "days");
    assert!(max_diff <= 1e-4, "max |rust - python| = {max_diff}");
    assert!(rust.iter().any(|&s| s < 0.0) && rust.iter().any(|&s| s > 0.0));
}
