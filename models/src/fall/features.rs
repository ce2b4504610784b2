//! The fall detector's window features, in plain Rust: the same 42 numbers as the feature graph of
//! models/training/features.py, which training runs through onnxruntime and which is the first half
//! of `models/fall_detector.onnx`. `models/tests/fall.rs` checks the two agree within 1e-4 on
//! recorded and random windows, so the trees see what they were trained on.
//!
//! Arithmetic follows the graph's float32 steps where a rounding could change a decision: the
//! magnitude is `sqrt((x² + y²) + z²)` in f32 (ties of argmax/argmin and the `> 1.4 g` counts
//! depend on its last bit), a variance is `relu(E[x²] − E[x]²)` of f32 means. Sums over a segment
//! are accumulated in f64 and rounded once, which is within an ulp of onnxruntime's f32 sums.
//!
//! Segments (50 Hz, 4 s window): pre = samples 0..75, mid = 75..125 (where the impact is
//! expected), post = 125..200, late = 150..200.

use super::spec::WINDOW;

/// Every axis is clipped to ±this (g) first: a ±2 g wristband and a ±16 g sensor then show the
/// model the same impact (features.py `CLIP_G`).
pub const CLIP_G: f32 = 2.0;
/// Lags (samples) of the magnitude's autocorrelation: strokes of arm work repeat every 0.2–1 s.
const AUTOCORR_LAGS: [usize; 7] = [10, 15, 20, 25, 30, 40, 50];
/// Moving-average length (samples) of the rate-robust features.
const SMOOTH: usize = 5;
const HZ: f32 = 50.0;
const EPS: f32 = 1e-6;

const PRE: (usize, usize) = (0, 75);
const MID: (usize, usize) = (75, 125);
const POST: (usize, usize) = (125, 200);
const LATE: (usize, usize) = (150, 200);

/// Names, in the trees' input order (features.py `FEATURE_NAMES`; the model file repeats them and
/// the loader refuses a file whose list differs).
pub const FEATURE_NAMES: [&str; 42] = [
    "pre_min",
    "pre_max",
    "pre_mean",
    "pre_std",
    "mid_min",
    "mid_max",
    "mid_mean",
    "mid_std",
    "post_min",
    "post_max",
    "post_mean",
    "post_std",
    "min",
    "seconds_below_0.6g",
    "seconds_below_0.8g",
    "seconds_above_1.5g",
    "seconds_above_2g",
    "seconds_from_min_to_max",
    "mid_max_jerk",
    "pre_mean_abs_jerk",
    "post_mean_abs_jerk",
    "smooth_mid_max",
    "smooth_mid_min",
    "smooth_pre_min",
    "cos_orientation_pre_late",
    "cos_orientation_pre_post",
    "late_mean_vector_norm",
    "pre_axis_variance",
    "post_axis_variance",
    "late_axis_variance",
    "vertical_mid_min",
    "vertical_mid_max",
    "vertical_post_mean",
    "vertical_late_mean",
    "mid_mean_abs_deviation",
    "post_mean_abs_deviation",
    "late_std",
    "autocorrelation_max",
    "rises_above_1.4g",
    "pre_rises_above_1.4g",
    "post_rises_above_1.4g",
    "placement",
];

/// Number of features.
pub const N_FEATURES: usize = FEATURE_NAMES.len();

#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
fn mean(v: &[f32]) -> f32 {
    (v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64) as f32
}

fn min(v: &[f32]) -> f32 {
    v.iter().copied().fold(f32::INFINITY, f32::min)
}

fn max(v: &[f32]) -> f32 {
    v.iter().copied().fold(f32::NEG_INFINITY, f32::max)
}

/// `relu(E[x²] − E[x]²)` in f32, as the graph computes a variance.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
fn variance(v: impl Iterator<Item = f32> + Clone) -> f32 {
    let n = v.clone().count() as f64;
    let m = (v.clone().map(f64::from).sum::<f64>() / n) as f32;
    let msq = (v.map(|x| f64::from(x * x)).sum::<f64>() / n) as f32;
    (msq - m * m).max(0.0)
}

/// Seconds (at 50 Hz) of samples that satisfy `hit`.
#[allow(clippy::cast_precision_loss)]
fn seconds(mag: &[f32], hit: impl Fn(f32) -> bool) -> f32 {
    mag.iter().filter(|&&m| hit(m)).count() as f32 * (1.0 / HZ)
}

/// First index of the extreme, as ONNX ArgMax/ArgMin (`select_last_index = 0`).
fn arg_extreme(mag: &[f32], better: impl Fn(f32, f32) -> bool) -> usize {
    let mut best = 0;
    for (i, &m) in mag.iter().enumerate() {
        if better(m, mag[best]) {
            best = i;
        }
    }
    best
}

/// Per-axis mean of the clipped window over `seg` (f64 sums, as [`mean`], without a column copy:
/// this runs three times per window on the fall thread).
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
fn axis_mean(w: &[[f32; 3]], seg: (usize, usize)) -> [f32; 3] {
    let rows = &w[seg.0..seg.1];
    [0, 1, 2]
        .map(|a| (rows.iter().map(|s| f64::from(s[a])).sum::<f64>() / rows.len() as f64) as f32)
}

fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    (a[0] * b[0] + a[1] * b[1]) + a[2] * b[2]
}

/// The 42 features of one window: `window` holds 200 samples × 3 axes (g, 50 Hz) flattened,
/// `placement` the model input (0 wrist, 1 waist).
///
/// # Panics
/// When `window` is not `WINDOW * 3` values long (callers check the length first).
#[allow(clippy::cast_precision_loss, clippy::too_many_lines)]
pub fn features(window: &[f32], placement: f32) -> [f32; N_FEATURES] {
    assert_eq!(window.len(), WINDOW * 3, "a window is 200 samples × 3 axes");
    let w: Vec<[f32; 3]> = window
        .chunks_exact(3)
        .map(|s| [0, 1, 2].map(|a| s[a].clamp(-CLIP_G, CLIP_G)))
        .collect();
    let mag: Vec<f32> = w.iter().map(|&s| dot(s, s).sqrt()).collect();
    let mut f = Vec::with_capacity(N_FEATURES);

    for (a, b) in [PRE, MID, POST] {
        let seg = &mag[a..b];
        f.push(min(seg));
        f.push(max(seg));
        f.push(mean(seg));
        f.push(variance(seg.iter().copied()).sqrt());
    }
    f.push(min(&mag));
    f.push(seconds(&mag, |m| m < 0.6));
    f.push(seconds(&mag, |m| m < 0.8));
    f.push(seconds(&mag, |m| m > 1.5));
    f.push(seconds(&mag, |m| m > 2.0));
    let amax = arg_extreme(&mag, |a, b| a > b) as f32;
    let amin = arg_extreme(&mag, |a, b| a < b) as f32;
    f.push((amax - amin) * (1.0 / HZ));

    // jerk[i] = |mag[i+1] − mag[i]|, 199 values
    let jerk: Vec<f32> = mag.windows(2).map(|p| (p[1] - p[0]).abs()).collect();
    f.push(max(&jerk[74..125]));
    f.push(mean(&jerk[0..74]));
    f.push(mean(&jerk[125..WINDOW - 1]));

    // smooth[i] = mean of mag[i..i + SMOOTH], 196 values; centred on sample i + 2
    #[allow(clippy::cast_possible_truncation)]
    let smooth: Vec<f32> = mag
        .windows(SMOOTH)
        .map(|p| {
            let sum = p.iter().fold(0.0f32, |s, &x| s + x);
            sum / SMOOTH as f32
        })
        .collect();
    let h = SMOOTH / 2;
    f.push(max(&smooth[MID.0 - h..MID.1 - h]));
    f.push(min(&smooth[MID.0 - h..MID.1 - h]));
    f.push(min(&smooth[PRE.0..PRE.1 - h]));

    let pre_v = axis_mean(&w, PRE);
    let post_v = axis_mean(&w, POST);
    let late_v = axis_mean(&w, LATE);
    let n_pre = dot(pre_v, pre_v).sqrt();
    let n_post = dot(post_v, post_v).sqrt();
    let n_late = dot(late_v, late_v).sqrt();
    f.push(dot(pre_v, late_v) / (n_pre * n_late + EPS));
    f.push(dot(pre_v, post_v) / (n_pre * n_post + EPS));
    f.push(n_late);
    for (a, b) in [PRE, POST, LATE] {
        let var: [f32; 3] = [0, 1, 2].map(|axis| variance(w[a..b].iter().map(|s| s[axis])));
        f.push((var[0] + var[1]) + var[2]);
    }

    // acceleration along the gravity direction before the event (up = +1 g at rest)
    let up = pre_v.map(|v| v / (n_pre + EPS));
    let vert: Vec<f32> = w.iter().map(|&s| dot(s, up)).collect();
    f.push(min(&vert[MID.0..MID.1]));
    f.push(max(&vert[MID.0..MID.1]));
    f.push(mean(&vert[POST.0..POST.1]));
    f.push(mean(&vert[LATE.0..LATE.1]));

    let dev: Vec<f32> = mag.iter().map(|m| (m - 1.0).abs()).collect();
    f.push(mean(&dev[MID.0..MID.1]));
    f.push(mean(&dev[POST.0..POST.1]));
    f.push(variance(mag[LATE.0..LATE.1].iter().copied()).sqrt());

    // periodic arm work (waving, sweeping, washing) repeats itself; a fall does not
    let centre = mean(&mag);
    let centred: Vec<f32> = mag.iter().map(|m| m - centre).collect();
    #[allow(clippy::cast_possible_truncation)]
    let energy = centred.iter().map(|&c| f64::from(c * c)).sum::<f64>() as f32 + EPS;
    #[allow(clippy::cast_possible_truncation)]
    let autocorr = AUTOCORR_LAGS
        .iter()
        .map(|&lag| {
            let s: f64 = (0..WINDOW - lag)
                .map(|i| f64::from(centred[i + lag] * centred[i]))
                .sum();
            s as f32 / energy
        })
        .fold(f32::NEG_INFINITY, f32::max);
    f.push(autocorr);

    // separate bursts above 1.4 g: one impact, or many strokes
    let above: Vec<bool> = mag.iter().map(|&m| m > 1.4).collect();
    let rises: Vec<f32> = above
        .windows(2)
        .map(|p| f32::from(u8::from(p[1] && !p[0])))
        .collect();
    f.push(rises.iter().sum());
    f.push(rises[0..74].iter().sum());
    f.push(rises[124..WINDOW - 1].iter().sum());
    f.push(placement);

    let mut out = [0.0; N_FEATURES];
    out.copy_from_slice(&f);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn still(g: [f32; 3]) -> Vec<f32> {
        (0..WINDOW).flat_map(|_| g).collect()
    }

    #[test]
    fn a_device_lying_still_has_no_spread_no_jerk_and_points_up() {
        let f = features(&still([0.0, 0.0, 1.0]), 1.0);
        let get = |name: &str| f[FEATURE_NAMES.iter().position(|n| *n == name).unwrap()];
        assert_eq!(get("pre_mean"), 1.0);
        assert_eq!(get("mid_std"), 0.0);
        assert_eq!(get("mid_max_jerk"), 0.0);
        assert_eq!(get("seconds_below_0.8g"), 0.0);
        assert!((get("cos_orientation_pre_late") - 1.0).abs() < 1e-5);
        assert!((get("vertical_late_mean") - 1.0).abs() < 1e-5);
        assert_eq!(get("rises_above_1.4g"), 0.0);
        assert_eq!(get("placement"), 1.0);
    }

    #[test]
    fn values_beyond_the_clip_look_like_a_clipped_sensor() {
        let big = features(&still([0.0, 0.0, 9.0]), 0.0);
        let clipped = features(&still([0.0, 0.0, 2.0]), 0.0);
        assert_eq!(big, clipped);
        let get = |name: &str| big[FEATURE_NAMES.iter().position(|n| *n == name).unwrap()];
        assert_eq!(get("seconds_above_1.5g"), 4.0);
    }

    #[test]
    fn one_impact_is_one_rise_and_its_time_from_the_trough() {
        let mut w = still([0.0, 0.0, 1.0]);
        w[90 * 3 + 2] = 0.3; // free fall at sample 90
        w[100 * 3 + 2] = 1.9; // impact at sample 100
        let f = features(&w, 0.0);
        let get = |name: &str| f[FEATURE_NAMES.iter().position(|n| *n == name).unwrap()];
        assert_eq!(get("rises_above_1.4g"), 1.0);
        assert!((get("seconds_from_min_to_max") - 0.2).abs() < 1e-6);
        assert!((get("mid_max_jerk") - 0.9).abs() < 1e-5);
    }
}
