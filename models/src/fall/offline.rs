//! Offline analysis of a recording with its own timestamps: what `pingan analyze fall` runs, and
//! what the training's evaluation replays (models/examples/fall_replay.rs), so both measure the
//! same code.
//!
//! Steps: split at gaps longer than [`MAX_GAP_S`] (nothing is interpolated across them) →
//! [`resample_irregular`] to 50 Hz → the first value held for [`PAD`] samples in front (an impact
//! in the first second of a recording can still reach a window's impact segment) → windows every
//! [`HOP`] → the model, in batches → one [`FallConfirmer`] per configuration → confirmed falls at
//! or after the part's first real sample. `models/training/stream.py` is the numpy port.

use super::confirm::{ConfirmedFall, ConfirmerConfig, FallConfirmer};
use super::detector::FallDetector;
use super::resample::resample_irregular;
use super::spec::{HOP, MODEL_HZ, Placement, WINDOW};
use crate::ModelError;

/// Gaps longer than this (s) split a recording.
pub const MAX_GAP_S: f64 = 1.0;

/// Samples of the first value held in front of every part (1.5 s).
pub const PAD: usize = 75;

/// A stretch of the recording too short to fill one window.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedPart {
    /// Time of its first sample (s).
    pub start: f64,
    /// Its length (s).
    pub seconds: f64,
}

/// Result of [`analyze_recording`].
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Confirmed falls in time order, one list per configuration given.
    pub falls: Vec<Vec<ConfirmedFall>>,
    /// Parts left out because they are shorter than a window.
    pub skipped: Vec<SkippedPart>,
}

/// Index ranges of the parts of `t` separated by gaps longer than [`MAX_GAP_S`].
pub fn split_at_gaps(t: &[f64]) -> Vec<std::ops::Range<usize>> {
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 1..t.len() {
        if t[i] - t[i - 1] > MAX_GAP_S {
            parts.push(start..i);
            start = i;
        }
    }
    if start < t.len() {
        parts.push(start..t.len());
    }
    parts
}

/// One part resampled to 50 Hz with [`PAD`] samples in front; `None` when shorter than a window.
pub fn padded_part(t: &[f64], samples: &[[f32; 3]]) -> Option<Vec<[f32; 3]>> {
    let r = resample_irregular(t, samples);
    let first = *r.first()?;
    if r.len() + PAD < WINDOW {
        return None;
    }
    let mut out = vec![first; PAD];
    out.extend(r);
    Some(out)
}

/// Runs a recording (times in s, strictly increasing; acceleration in g) through the model and
/// the confirmation rules of each configuration.
///
/// # Errors
/// An inference error.
pub fn analyze_recording(
    detector: &mut FallDetector,
    t: &[f64],
    samples: &[[f32; 3]],
    placement: Placement,
    cfgs: &[ConfirmerConfig],
) -> Result<Analysis, ModelError> {
    let n = t.len().min(samples.len());
    let mut analysis = Analysis {
        falls: vec![Vec::new(); cfgs.len()],
        skipped: Vec::new(),
    };
    for range in split_at_gaps(&t[..n]) {
        let (pt, ps) = (&t[range.clone()], &samples[range]);
        let Some(x) = padded_part(pt, ps) else {
            analysis.skipped.push(SkippedPart {
                start: pt[0],
                seconds: pt[pt.len() - 1] - pt[0],
            });
            continue;
        };
        #[allow(clippy::cast_precision_loss)]
        let t_grid = |i: usize| pt[0] + (i as f64 - PAD as f64) / f64::from(MODEL_HZ);
        let (flat, scores) = score_part(detector, &x, placement)?;
        for (cfg, out) in cfgs.iter().zip(analysis.falls.iter_mut()) {
            let mut confirmer = FallConfirmer::new(cfg.clone());
            let mut found = Vec::new();
            let mut next = 0usize;
            for (k, score) in scores.iter().enumerate() {
                let start = k * HOP;
                // the window's samples are recorded before it is scored
                while next < start + WINDOW {
                    confirmer.push_sample(t_grid(next), x[next]);
                    next += 1;
                }
                let w = &flat[k * WINDOW * 3..(k + 1) * WINDOW * 3];
                confirmer.on_score(t_grid(start), w, *score);
                found.extend(confirmer.poll());
            }
            for (i, s) in x.iter().enumerate().skip(next) {
                confirmer.push_sample(t_grid(i), *s);
                found.extend(confirmer.poll());
            }
            found.extend(confirmer.finish());
            // an "impact" inside the held padding is no event of the recording
            out.extend(found.into_iter().filter(|f| f.t >= pt[0] - 1e-9));
        }
    }
    Ok(analysis)
}

/// Every window of a padded part, flattened, and its model score (scored in batches).
fn score_part(
    detector: &mut FallDetector,
    x: &[[f32; 3]],
    placement: Placement,
) -> Result<(Vec<f32>, Vec<f32>), ModelError> {
    let count = (x.len() - WINDOW) / HOP + 1;
    let flat: Vec<f32> = (0..count)
        .flat_map(|k| x[k * HOP..k * HOP + WINDOW].iter().flatten().copied())
        .collect();
    let mut scores = Vec::with_capacity(count);
    for chunk in flat.chunks(super::worker::MAX_BATCH * WINDOW * 3) {
        scores.extend(detector.score_placement(chunk, placement)?);
    }
    Ok((flat, scores))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_longer_than_a_second_split_a_recording() {
        let t = [0.0, 0.02, 0.04, 1.5, 1.52, 1.54, 2.0];
        assert_eq!(split_at_gaps(&t), vec![0..3, 3..7]);
        assert!(split_at_gaps(&[]).is_empty());
    }

    #[test]
    fn a_part_is_padded_with_its_first_value() {
        let t: Vec<f64> = (0..150).map(|i| f64::from(i) / 50.0).collect();
        let s: Vec<[f32; 3]> = (0..150).map(|i| [i as f32, 0.0, 1.0]).collect();
        let x = padded_part(&t, &s).expect("long enough");
        assert_eq!(x.len(), 150 + PAD);
        assert!(x[..PAD].iter().all(|v| v[0] == 0.0));
        assert!((x[PAD + 10][0] - 10.0).abs() < 1e-4);
        assert!(padded_part(&t[..100], &s[..100]).is_none());
    }
}
