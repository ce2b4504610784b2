//! Features of a fall candidate for the learned second stage ([`super::second_stage`]): the
//! impact and the seconds after it. models/training/aftermath.py computes the same numbers (the
//! parity test in models/tests/second_stage.rs holds the two within 1e-4).
//!
//! All statistics use f64 internally and the samples in g at [`MODEL_HZ`]; 1 s stretches are
//! whole stretches of `MODEL_HZ` samples from the first aftermath sample (a partial tail is
//! dropped, as in the rules of `confirm.rs`).

use super::spec::MODEL_HZ;

/// Names of the features, in the order of [`features`] (the model JSON lists them too, and the
/// loader refuses a model whose list differs).
pub const FEATURE_NAMES: [&str; 14] = [
    "score",
    "peak_g",
    "orientation_change_deg",
    "quiet_share",
    "mean_g",
    "std_g",
    "max_after_g",
    "stretch_mean_min_g",
    "stretch_mean_max_g",
    "stretch_std_median_g",
    "stretch_std_max_g",
    "movements",
    "longest_quiet_s",
    "evidence_s",
];

/// A 1 s stretch whose std of |a| (g) exceeds this counts as a movement; quiet otherwise.
pub const QUIET_G: f64 = 0.04;

fn magnitude(s: &[f32; 3]) -> f64 {
    s.iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        .sqrt()
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    #[allow(clippy::cast_precision_loss)]
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

fn mean_vector(s: &[[f32; 3]]) -> Option<[f64; 3]> {
    if s.is_empty() {
        return None;
    }
    let mut sum = [0.0f64; 3];
    for v in s {
        for (acc, x) in sum.iter_mut().zip(v) {
            *acc += f64::from(*x);
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let n = s.len() as f64;
    Some(sum.map(|x| x / n))
}

/// The angle between two mean gravity vectors; also the confirmation rules' orientation change.
pub(super) fn angle_deg(a: [f64; 3], b: [f64; 3]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if na < 1e-9 || nb < 1e-9 {
        return 0.0;
    }
    (dot / (na * nb)).clamp(-1.0, 1.0).acos().to_degrees()
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The features of one candidate: `score` of the first stage, `pre` the samples before the
/// impact (orientation reference), `impact` the samples around it (peak), `after` the aftermath.
pub fn features(
    score: f32,
    pre: &[[f32; 3]],
    impact: &[[f32; 3]],
    after: &[[f32; 3]],
) -> [f64; FEATURE_NAMES.len()] {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let per = MODEL_HZ as usize;
    let mags: Vec<f64> = after.iter().map(magnitude).collect();
    let (mean_g, std_g) = mean_std(&mags);
    let peak_g = impact.iter().map(magnitude).fold(0.0, f64::max);
    let max_after_g = mags.iter().copied().fold(0.0, f64::max);
    let orientation = match (mean_vector(pre), mean_vector(after)) {
        (Some(a), Some(b)) => angle_deg(a, b),
        _ => 0.0,
    };
    let stretches: Vec<(f64, f64)> = mags.chunks_exact(per).map(mean_std).collect();
    let quiet: Vec<bool> = stretches.iter().map(|(_, s)| *s <= QUIET_G).collect();
    #[allow(clippy::cast_precision_loss)]
    let quiet_share = if quiet.is_empty() {
        0.0
    } else {
        quiet.iter().filter(|q| **q).count() as f64 / quiet.len() as f64
    };
    // a movement: a moving stretch after a quiet one (or the first stretch moving)
    let movements = quiet
        .iter()
        .enumerate()
        .filter(|(i, q)| !**q && (*i == 0 || quiet[i - 1]))
        .count();
    let (mut longest, mut run) = (0usize, 0usize);
    for q in &quiet {
        run = if *q { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let means = stretches.iter().map(|(m, _)| *m);
    let mean_min = if stretches.is_empty() {
        0.0
    } else {
        means.clone().fold(f64::INFINITY, f64::min)
    };
    let stds: Vec<f64> = stretches.iter().map(|(_, s)| *s).collect();
    #[allow(clippy::cast_precision_loss)]
    [
        f64::from(score),
        peak_g,
        orientation,
        quiet_share,
        mean_g,
        std_g,
        max_after_g,
        mean_min,
        means.fold(0.0, f64::max),
        median(stds.clone()),
        stds.iter().copied().fold(0.0, f64::max),
        movements as f64,
        longest as f64,
        after.len() as f64 / f64::from(MODEL_HZ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lying_still_is_all_quiet_and_turned() {
        let pre = vec![[0.0, 0.0, 1.0]; 100];
        let impact = vec![[0.0, 0.0, 3.0]; 10];
        let after = vec![[1.0, 0.0, 0.0]; 400];
        let f = features(0.9, &pre, &impact, &after);
        assert!((f[2] - 90.0).abs() < 1e-9, "orientation {}", f[2]);
        assert!((f[3] - 1.0).abs() < 1e-12);
        assert!((f[1] - 3.0).abs() < 1e-9);
        assert_eq!(f[11], 0.0);
        assert_eq!(f[12], 8.0);
        assert!((f[13] - 8.0).abs() < 1e-12);
    }

    #[test]
    fn empty_aftermath_gives_finite_features() {
        let f = features(0.5, &[], &[], &[]);
        assert!(f.iter().all(|x| x.is_finite()), "{f:?}");
    }
}
