//! The daily-pattern anomaly model: a one-class SVM (RBF kernel) over the robust z-scores of one
//! resident-day's features against that resident's own baseline, evaluated in plain Rust.
//!
//! File format (`models/anomaly.json`, written by models/training/export_json.py from the
//! training's `models/anomaly.onnx`): `{"format": "pingan-anomaly-svm/1", "features": [5 names],
//! "gamma": γ, "rho": ρ, "coefficients": [cᵢ…], "support_vectors": [[5 values]…]}`. The decision
//! function is `Σ cᵢ·exp(−γ‖z − svᵢ‖²) + ρ`, as ONNX's `SVMRegressor` computes it: negative is
//! anomalous. `models/tests/anomaly.rs` checks it against the ONNX graph run by onnxruntime.
//!
//! Training: `models/training/anomaly/train.py`; card: `models/ANOMALY_MODEL_CARD.md`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Feature names, in the model's input order.
pub const FEATURES: [&str; 5] = [
    "resting_hr",
    "resting_rr",
    "bed_exits",
    "restlessness",
    "daytime_activity",
];

/// z-scores are clipped to ±this before scoring, as in training.
pub const Z_CLIP: f32 = 8.0;

/// The format tag the loader accepts.
pub const FORMAT: &str = "pingan-anomaly-svm/1";

/// Why the model cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnomalyError {
    /// The model file could not be read or is not a model of this format.
    #[error("cannot load the anomaly model {path}: {reason}")]
    Load {
        /// The model file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// Not loaded: no configured device feeds it.
    #[error("anomaly model not loaded: no resident's wearable or bed mat is configured")]
    NotNeeded,
}

/// One day's verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnomalyScore {
    /// The model calls the day anomalous.
    pub anomalous: bool,
    /// The decision function: below zero is anomalous, the lower the stranger.
    pub score: f32,
}

#[derive(Deserialize)]
struct File {
    format: String,
    features: Vec<String>,
    gamma: f64,
    rho: f64,
    coefficients: Vec<f64>,
    support_vectors: Vec<[f64; 5]>,
}

/// The loaded anomaly model.
#[derive(Debug, Clone)]
pub struct AnomalyModel {
    gamma: f64,
    rho: f64,
    coefficients: Vec<f64>,
    support_vectors: Vec<[f64; 5]>,
    path: PathBuf,
}

/// The trained model, embedded so a deployment needs no model file (7.6 KB).
pub const EMBEDDED_MODEL: &str = include_str!("../anomaly.json");

impl AnomalyModel {
    /// The model built into the binary.
    ///
    /// # Errors
    /// [`AnomalyError::Load`] when the embedded file does not match this build (a build defect,
    /// caught by the tests).
    pub fn embedded() -> Result<Self, AnomalyError> {
        Self::parse(EMBEDDED_MODEL, PathBuf::from("<embedded anomaly.json>"))
    }

    /// Loads a model file (a site's retrained model).
    ///
    /// # Errors
    /// [`AnomalyError::Load`] when the file cannot be read or is not a model of this format
    /// (an ONNX file is named as such: convert it with models/training/export_json.py).
    pub fn load(path: &Path) -> Result<Self, AnomalyError> {
        let load_err = |reason: String| AnomalyError::Load {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| load_err(e.to_string()))?;
        let text = String::from_utf8(bytes).unwrap_or_default();
        if !text.trim_start().starts_with('{') {
            return Err(load_err(
                "not a JSON model file (an ONNX model? the gateway reads the JSON that \
                 models/training/export_json.py writes from it)"
                    .into(),
            ));
        }
        Self::parse(&text, path.to_path_buf())
    }

    fn parse(text: &str, path: PathBuf) -> Result<Self, AnomalyError> {
        let load_err = |reason: String| AnomalyError::Load {
            path: path.clone(),
            reason,
        };
        let f: File = serde_json::from_str(text).map_err(|e| load_err(e.to_string()))?;
        if f.format != FORMAT {
            return Err(load_err(format!(
                "format {:?}, expected {FORMAT:?}",
                f.format
            )));
        }
        if f.features != FEATURES {
            return Err(load_err(format!(
                "features {:?}, expected {FEATURES:?}",
                f.features
            )));
        }
        let finite = [f.gamma, f.rho]
            .iter()
            .chain(&f.coefficients)
            .chain(f.support_vectors.iter().flatten())
            .all(|v| v.is_finite());
        if !finite || f.gamma <= 0.0 {
            return Err(load_err("a parameter is not a finite number".into()));
        }
        if f.coefficients.len() != f.support_vectors.len() || f.coefficients.is_empty() {
            return Err(load_err(
                "as many coefficients as support vectors needed".into(),
            ));
        }
        Ok(Self {
            gamma: f.gamma,
            rho: f.rho,
            coefficients: f.coefficients,
            support_vectors: f.support_vectors,
            path,
        })
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Scores one day's z-scores (clipped to ±[`Z_CLIP`]; NaN counts as 0, no deviation).
    ///
    /// # Errors
    /// None today; the `Result` keeps the callers' degradation path for future model kinds.
    #[allow(clippy::unnecessary_wraps, clippy::cast_possible_truncation)]
    pub fn score(&self, z: &[f32; 5]) -> Result<AnomalyScore, AnomalyError> {
        let x = z.map(|v| {
            if v.is_nan() {
                0.0
            } else {
                f64::from(v.clamp(-Z_CLIP, Z_CLIP))
            }
        });
        let sum: f64 = self
            .support_vectors
            .iter()
            .zip(&self.coefficients)
            .map(|(sv, c)| {
                let d2: f64 = sv.iter().zip(&x).map(|(s, v)| (s - v) * (s - v)).sum();
                c * (-self.gamma * d2).exp()
            })
            .sum();
        let score = (sum + self.rho) as f32;
        Ok(AnomalyScore {
            anomalous: score < 0.0,
            score,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ordinary_day_passes_and_a_large_deviation_is_anomalous() {
        let m = AnomalyModel::embedded().unwrap();
        let normal = m.score(&[0.3, -0.5, 0.0, 0.4, -0.2]).unwrap();
        assert!(!normal.anomalous && normal.score > 0.0, "{normal:?}");
        let high_hr = m.score(&[6.0, 0.5, 0.0, 0.2, 0.1]).unwrap();
        assert!(high_hr.anomalous && high_hr.score < 0.0, "{high_hr:?}");
        let inactive = m.score(&[0.0, 0.0, 0.0, 0.0, -6.0]).unwrap();
        assert!(inactive.anomalous, "{inactive:?}");
        // NaN (a missing feature) is no deviation, and wild values are clipped.
        let odd = m.score(&[f32::NAN, 0.0, 0.0, 0.0, 0.0]).unwrap();
        assert!(!odd.anomalous, "{odd:?}");
        assert!(m.score(&[1e9, 0.0, 0.0, 0.0, 0.0]).unwrap().anomalous);
    }

    #[test]
    fn a_missing_or_foreign_model_file_is_an_error_not_a_panic() {
        let err = AnomalyModel::load(Path::new("/nonexistent/anomaly.json")).unwrap_err();
        assert!(matches!(err, AnomalyError::Load { .. }), "{err}");
        let onnx = Path::new(env!("CARGO_MANIFEST_DIR")).join("anomaly.onnx");
        let err = AnomalyModel::load(&onnx).unwrap_err().to_string();
        assert!(err.contains("export_json.py"), "{err}");
        for bad in [
            EMBEDDED_MODEL.replacen(FORMAT, "pingan-anomaly-svm/0", 1),
            EMBEDDED_MODEL.replacen("resting_hr", "hr", 1),
            EMBEDDED_MODEL.replacen("\"gamma\":", "\"gamma\":-", 1),
            "{}".to_owned(),
        ] {
            assert!(
                AnomalyModel::parse(&bad, PathBuf::from("x")).is_err(),
                "{bad:.60}"
            );
        }
    }
}
