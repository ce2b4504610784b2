//! The fall detector: raw windows in, fall scores out, in plain Rust — the window features
//! ([`super::features`]) and the boosted trees ([`crate::trees`]) of `models/fall_detector.onnx`,
//! read from `models/fall_detector.json` (models/training/export_json.py writes it from the ONNX
//! graph). No inference runtime is loaded: that kept ~20 MiB out of the gateway's RSS.

use serde::Deserialize;

use super::features::{FEATURE_NAMES, N_FEATURES, features};
use super::spec::{Placement, WINDOW};
use crate::ModelError;
use crate::trees::{Forest, Tree, check_header};

/// The format tag the loader accepts.
pub const FORMAT: &str = "pingan-fall-trees/1";

/// The trained model, embedded (350 KB of JSON): deployments need no model file next to the binary.
pub static MODEL_JSON: &str = include_str!("../../fall_detector.json");

#[derive(Deserialize)]
struct File {
    format: String,
    features: Vec<String>,
    baseline: f64,
    trees: Vec<Tree>,
}

/// A loaded fall-detection model.
///
/// Input: windows of 200 samples × 3 axes (g, 50 Hz) flattened, and one placement value per
/// window (0 wrist, 1 waist); output: the probability that a fall's impact lies in the window's
/// 1.5–2.5 s segment.
#[derive(Debug, Clone)]
pub struct FallDetector {
    forest: Forest,
}

impl FallDetector {
    /// Loads the embedded model.
    ///
    /// # Errors
    /// [`ModelError::Model`] when the embedded file does not match this build (a build defect,
    /// caught by the tests).
    pub fn new() -> Result<Self, ModelError> {
        Self::from_json(MODEL_JSON)
    }

    /// Loads a model from its JSON (for tests and A/B comparisons of retrained models).
    ///
    /// # Errors
    /// [`ModelError::Model`] when the text is not a fall model of this format and feature list.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let f: File = serde_json::from_str(text)
            .map_err(|e| ModelError::Model(format!("fall model: {e}")))?;
        check_header(&f.format, FORMAT, &f.features, &FEATURE_NAMES)
            .map_err(|e| ModelError::Model(format!("fall model: {e}")))?;
        let forest = Forest::new(f.baseline, f.trees);
        forest
            .check(N_FEATURES)
            .map_err(|e| ModelError::Model(format!("fall model: {e}")))?;
        Ok(Self { forest })
    }

    /// Number of trees (for the model card and the benchmarks).
    pub fn trees(&self) -> usize {
        self.forest.len()
    }

    /// Scores a batch: `windows` holds N windows flattened (N × 200 × 3 values), `placements` one
    /// value per window (see [`Placement::model_input`]).
    ///
    /// # Errors
    /// [`ModelError::Input`] on a length mismatch.
    pub fn score(&mut self, windows: &[f32], placements: &[f32]) -> Result<Vec<f32>, ModelError> {
        let n = placements.len();
        if windows.len() != n * WINDOW * 3 {
            return Err(ModelError::Input(format!(
                "{} values for {n} windows; expected {} per window",
                windows.len(),
                WINDOW * 3
            )));
        }
        #[allow(clippy::cast_possible_truncation)]
        let scores = windows
            .chunks_exact(WINDOW * 3)
            .zip(placements)
            .map(|(w, &p)| self.forest.predict(&features(w, p)) as f32)
            .collect();
        Ok(scores)
    }

    /// Scores windows that all come from devices at the same placement.
    ///
    /// # Errors
    /// As [`FallDetector::score`].
    pub fn score_placement(
        &mut self,
        windows: &[f32],
        placement: Placement,
    ) -> Result<Vec<f32>, ModelError> {
        let n = windows.len() / (WINDOW * 3);
        self.score(windows, &vec![placement.model_input(); n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_model_loads_and_scores_a_still_window_low() {
        let mut d = FallDetector::new().unwrap();
        assert!(d.trees() > 0);
        let still: Vec<f32> = (0..WINDOW).flat_map(|_| [0.0, 0.0, 1.0]).collect();
        let s = d.score_placement(&still, Placement::Waist).unwrap();
        assert!(s[0] < 0.1, "{s:?}");
        assert!(d.score(&still[..30], &[1.0]).is_err());
    }

    #[test]
    fn a_file_of_another_format_or_feature_list_is_refused() {
        let other = MODEL_JSON.replacen(FORMAT, "pingan-fall-trees/0", 1);
        assert!(FallDetector::from_json(&other).is_err());
        let renamed = MODEL_JSON.replacen("\"pre_min\"", "\"pre_minimum\"", 1);
        assert!(FallDetector::from_json(&renamed).is_err());
        assert!(FallDetector::from_json("{}").is_err());
    }
}
