//! Fall detection end to end: the plain-Rust model against the shipped ONNX graph run by Python
//! onnxruntime, and the streaming pipeline on recordings.

use std::path::{Path, PathBuf};
use std::process::Command;

use pingan_models::ModelError;
mod common;

use common::{max_abs_diff, read_f32, to_le_bytes};
use pingan_models::fall::{
    ConfirmerConfig, FallDetector, FallPipeline, HOP, InferenceWorker, Placement, WINDOW,
    analyze_recording, padded_part, resample_irregular, split_at_gaps,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Reads a `t,ax,ay,az` fixture (the CLI's parser lives in the gateway).
fn read_csv(path: &Path) -> (Vec<f64>, Vec<[f32; 3]>) {
    let text = std::fs::read_to_string(path).expect("fixture readable");
    let mut t = Vec::new();
    let mut s = Vec::new();
    for line in text.lines().skip(1) {
        let v: Vec<f64> = line
            .split(',')
            .map(|x| x.parse().expect("number"))
            .collect();
        t.push(v[0]);
        s.push([v[1] as f32, v[2] as f32, v[3] as f32]);
    }
    (t, s)
}

fn detector() -> FallDetector {
    FallDetector::new().expect("the embedded model loads")
}

/// Deterministic pseudo-random values (no RNG dependency needed for fixed inputs).
fn lcg_values(n: usize, seed: u64) -> Vec<f32> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((x >> 40) as f32 / (1u64 << 24) as f32) * 8.0 - 4.0
        })
        .collect()
}

#[test]
fn rust_inference_matches_python_onnxruntime_within_1e_4() {
    // fixed inputs: windows from the recordings (falls and activities), plus random windows
    let mut windows = Vec::new();
    let mut placements = Vec::new();
    for (name, p) in [
        ("fall_forward_waist_50hz.csv", 1.0),
        ("fall_lateral_wrist_25hz.csv", 0.0),
        ("adl_waist_50hz.csv", 1.0),
    ] {
        let (t, s) = read_csv(&fixture(name));
        let r = resample_irregular(&t, &s);
        for start in (0..r.len().saturating_sub(WINDOW)).step_by(50) {
            windows.extend(r[start..start + WINDOW].iter().flatten());
            placements.push(p);
        }
    }
    for k in 0..16u64 {
        windows.extend(lcg_values(WINDOW * 3, k + 1));
        placements.push((k % 2) as f32);
    }
    let rust = detector().score(&windows, &placements).expect("inference");

    let dir = tempfile::tempdir().expect("tempdir");
    let (w, p, out) = (
        dir.path().join("w.f32"),
        dir.path().join("p.f32"),
        dir.path().join("o.f32"),
    );
    std::fs::write(&w, to_le_bytes(&windows)).expect("write");
    std::fs::write(&p, to_le_bytes(&placements)).expect("write");
    let model = root().join("models/fall_detector.onnx");
    let python = root().join(".venv/bin/python");
    let status = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ort_reference.py"))
        .args([&model, &w, &p, &out])
        .status()
        .unwrap_or_else(|e| panic!("cannot run {} (run scripts/setup): {e}", python.display()));
    assert!(status.success(), "python reference failed");
    let py = read_f32(&out);
    let max_diff = max_abs_diff(&rust, &py, "windows");
    assert!(rust.len() > 40, "too few windows compared: {}", rust.len());
    assert!(max_diff <= 1e-4, "max |rust - python| = {max_diff}");
    // the comparison covers both decisions, not only confident negatives
    assert!(rust.iter().any(|&s| s > 0.5) && rust.iter().any(|&s| s < 0.5));
}

#[test]
fn streaming_pipeline_confirms_the_recorded_fall_near_its_impact() {
    let (worker, _thread) = InferenceWorker::spawn(detector(), 8).expect("worker");
    let mut pipeline = FallPipeline::new(worker);
    let (t, s) = read_csv(&fixture("fall_forward_waist_50hz.csv"));
    let base_ms: i64 = 1_700_000_000_000;
    let mut falls = Vec::new();
    // the wearable sends 0.5 s batches at its nominal 50 Hz
    for (chunk_t, chunk) in t.chunks(25).zip(s.chunks(25)) {
        let t_ms = base_ms + (chunk_t[0] * 1000.0).round() as i64;
        falls.extend(
            pipeline
                .push("w-101a", Placement::Waist, chunk, 50.0, t_ms)
                .expect("push"),
        );
    }
    assert_eq!(
        falls.len(),
        1,
        "{:?}",
        falls.iter().map(|f| (f.t, f.score)).collect::<Vec<_>>()
    );
    let f = &falls[0];
    // the impact in this recording is at 8.61 s (make_cases.py prints it)
    assert!(
        (f.t - (base_ms as f64 / 1000.0 + 8.61)).abs() < 0.5,
        "t = {}",
        f.t
    );
    assert!(f.score >= ConfirmerConfig::for_placement(Placement::Waist).threshold);
    assert!(f.orientation_change_deg > 35.0);
    assert!(f.evidence.len() > 100);
}

#[test]
fn streaming_pipeline_stays_quiet_on_daily_activities() {
    let (worker, _thread) = InferenceWorker::spawn(detector(), 8).expect("worker");
    let mut pipeline = FallPipeline::new(worker);
    let (t, s) = read_csv(&fixture("adl_waist_50hz.csv"));
    let mut falls = Vec::new();
    for (chunk_t, chunk) in t.chunks(50).zip(s.chunks(50)) {
        falls.extend(
            pipeline
                .push(
                    "w-102",
                    Placement::Waist,
                    chunk,
                    50.0,
                    (chunk_t[0] * 1000.0).round() as i64,
                )
                .expect("push"),
        );
    }
    assert!(
        falls.is_empty(),
        "{:?}",
        falls.iter().map(|f| f.t).collect::<Vec<_>>()
    );
}

#[test]
fn offline_analysis_and_streaming_agree_on_a_25hz_wrist_fall() {
    let (t, s) = read_csv(&fixture("fall_lateral_wrist_25hz.csv"));
    let cfg = ConfirmerConfig::for_placement(Placement::Wrist);
    let offline = analyze_recording(&mut detector(), &t, &s, Placement::Wrist, &[cfg])
        .expect("analysis")
        .falls
        .remove(0);
    let (worker, _thread) = InferenceWorker::spawn(detector(), 8).expect("worker");
    let mut pipeline = FallPipeline::new(worker);
    let mut streamed = Vec::new();
    for (chunk_t, chunk) in t.chunks(10).zip(s.chunks(10)) {
        streamed.extend(
            pipeline
                .push(
                    "w-103",
                    Placement::Wrist,
                    chunk,
                    25.0,
                    (chunk_t[0] * 1000.0).round() as i64,
                )
                .expect("push"),
        );
    }
    assert_eq!(
        offline.len(),
        1,
        "offline: {:?}",
        offline.iter().map(|f| f.t).collect::<Vec<_>>()
    );
    assert_eq!(streamed.len(), 1);
    assert!((offline[0].t - 14.2).abs() < 0.5, "t = {}", offline[0].t);
    assert!((offline[0].t - streamed[0].t).abs() < 0.1);
    assert_eq!(offline[0].aftermath, streamed[0].aftermath);
}

/// The Rust path (gaps, resampling, padding, windows, features, trees) against the training's numpy port and
/// Python onnxruntime, on recordings of awkward devices: 20-200 Hz, bursty stamps, a dropout.
#[test]
fn rust_path_matches_the_python_evaluation_path_within_1e_4() {
    let files = [
        ("waist", "fall_forward_waist_50hz.csv"),
        ("wrist", "fall_lateral_wrist_25hz.csv"),
        ("waist", "fall_backward_waist_200hz.csv"),
        ("wrist", "fall_forward_wrist_bursty.csv"),
        ("waist", "adl_waist_50hz.csv"),
    ];
    let mut det = detector();
    let mut rust = Vec::new();
    let mut parts = 0;
    for (placement, name) in files {
        let (t, s) = read_csv(&fixture(name));
        let p: Placement = placement.parse().expect("placement");
        for range in split_at_gaps(&t) {
            let Some(x) = padded_part(&t[range.clone()], &s[range]) else {
                continue;
            };
            parts += 1;
            let count = (x.len() - WINDOW) / HOP + 1;
            let flat: Vec<f32> = (0..count)
                .flat_map(|k| x[k * HOP..k * HOP + WINDOW].iter().flatten().copied())
                .collect();
            rust.extend(det.score_placement(&flat, p).expect("inference"));
        }
    }
    assert!(parts > files.len(), "the bursty file's dropout splits it");
    let dir = tempfile::tempdir().expect("tempdir");
    let (model, out) = (
        root().join("models/fall_detector.onnx"),
        dir.path().join("o.f32"),
    );
    let python = root().join(".venv/bin/python");
    let status = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python_path.py"))
        .arg(&model)
        .arg(&out)
        .args(
            files
                .iter()
                .map(|(p, n)| format!("{p}={}", fixture(n).display())),
        )
        .status()
        .unwrap_or_else(|e| panic!("cannot run {} (run scripts/setup): {e}", python.display()));
    assert!(status.success(), "python path failed");
    let py = read_f32(&out);
    let max_diff = max_abs_diff(&rust, &py, "windows");
    assert!(max_diff <= 1e-4, "max |rust - python| = {max_diff}");
    assert!(rust.iter().any(|&s| s > 0.5) && rust.iter().any(|&s| s < 0.5));
}

#[test]
fn malformed_batches_are_rejected_without_killing_the_worker() {
    let (worker, _thread) = InferenceWorker::spawn(detector(), 2).expect("worker");
    let err = worker
        .score(vec![0.0; 10], vec![1.0])
        .expect_err("bad shape");
    assert!(matches!(err, ModelError::Input(_)), "{err}");
    let ok = worker
        .score(vec![0.0; WINDOW * 3], vec![1.0])
        .expect("worker still alive");
    assert_eq!(ok.len(), 1);
}

#[test]
fn default_thresholds_are_the_ones_chosen_in_training() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fall_detector.metrics.json"),
    )
    .expect("metrics committed next to the model");
    let metrics: serde_json::Value = serde_json::from_str(&text).expect("metrics JSON");
    for (p, (down, recovered)) in [
        ("wrist", pingan_models::fall::WRIST_THRESHOLDS),
        ("waist", pingan_models::fall::WAIST_THRESHOLDS),
    ] {
        let chosen = &metrics["thresholds"][p];
        let want = chosen["threshold"].as_f64().expect("threshold recorded");
        let want_rec = chosen["recovered_threshold"].as_f64().expect("recorded");
        assert!((f64::from(down) - want).abs() < 1e-6, "{p}");
        assert!((f64::from(recovered) - want_rec).abs() < 1e-6, "{p}");
    }
}

#[test]
fn a_gap_in_the_stream_restarts_the_windows_instead_of_bridging_it() {
    let (worker, _thread) = InferenceWorker::spawn(detector(), 8).expect("worker");
    let mut pipeline = FallPipeline::new(worker);
    let (t, s) = read_csv(&fixture("fall_forward_waist_50hz.csv"));
    // the first 8 s (before the fall), then nothing for a minute, then the fall and its aftermath:
    // the fall is still found, at its shifted time
    let split = t.iter().position(|&x| x >= 6.0).expect("long enough");
    let mut falls = Vec::new();
    for (chunk_t, chunk) in t[..split].chunks(25).zip(s[..split].chunks(25)) {
        falls.extend(
            pipeline
                .push(
                    "w-9",
                    Placement::Waist,
                    chunk,
                    50.0,
                    (chunk_t[0] * 1000.0) as i64,
                )
                .expect("push"),
        );
    }
    for (chunk_t, chunk) in t[split..].chunks(25).zip(s[split..].chunks(25)) {
        let t_ms = ((chunk_t[0] + 60.0) * 1000.0).round() as i64;
        falls.extend(
            pipeline
                .push("w-9", Placement::Waist, chunk, 50.0, t_ms)
                .expect("push"),
        );
    }
    assert_eq!(
        falls.len(),
        1,
        "{:?}",
        falls.iter().map(|f| f.t).collect::<Vec<_>>()
    );
    assert!((falls[0].t - 68.61).abs() < 0.5, "t = {}", falls[0].t);
}
