//! The daily-pattern anomaly model (`models/anomaly.onnx`): a one-class SVM over the robust
//! z-scores of one resident-day's features against that resident's own baseline. Input `z`
//! float32 `[N, 5]` in [`FEATURES`] order; outputs `label` int64 `[N, 1]` (−1 = anomalous) and
//! `scores` float32 `[N, 1]` (the decision function: negative = anomalous).
//!
//! Training: `models/training/anomaly/train.py`; card: `models/ANOMALY_MODEL_CARD.md`.

use std::path::{Path, PathBuf};

use ort::environment::Environment;
use ort::session::Session;
use ort::value::Tensor;

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

/// Why the model cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnomalyError {
    /// The ONNX Runtime library could not be found or loaded.
    #[error("ONNX Runtime unavailable: {0}")]
    Runtime(String),
    /// The model file could not be loaded.
    #[error("cannot load the anomaly model {path}: {reason}")]
    Load {
        /// The model file.
        path: PathBuf,
        /// What ort said.
        reason: String,
    },
    /// Inference failed or the outputs were not the expected shape.
    #[error("anomaly model inference: {0}")]
    Inference(String),
    /// Not loaded: no configured device feeds it (the runtime stays out of memory).
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

/// The process-wide ONNX Runtime environment, from the shared loader ([`crate::runtime::load`]):
/// ort allows one environment per process. Never panics: a missing library is an error the caller
/// degrades on.
pub fn ensure_runtime() -> Result<Environment, AnomalyError> {
    crate::runtime::load()
        .map(|rt| rt.environment().clone())
        .map_err(|e| AnomalyError::Runtime(e.to_string()))
}

/// The loaded anomaly model.
pub struct AnomalyModel {
    session: Session,
    path: PathBuf,
}

impl std::fmt::Debug for AnomalyModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnomalyModel")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The trained model, embedded so a deployment needs no model file (2.7 KB).
pub const EMBEDDED_MODEL: &[u8] = include_bytes!("../anomaly.onnx");

impl AnomalyModel {
    /// Loads the embedded model (and the runtime, once).
    pub fn embedded() -> Result<Self, AnomalyError> {
        let env = ensure_runtime()?;
        let path = PathBuf::from("<embedded anomaly.onnx>");
        let load_err = |e: ort::Error| AnomalyError::Load {
            path: path.clone(),
            reason: e.to_string(),
        };
        let session = Session::builder(&env)
            .map_err(load_err)?
            .with_intra_threads(1)
            .map_err(|e| load_err(e.into()))?
            .commit_from_memory(EMBEDDED_MODEL)
            .map_err(load_err)?;
        Ok(Self { session, path })
    }

    /// Loads the model (and the runtime, once) from `path`.
    pub fn load(path: &Path) -> Result<Self, AnomalyError> {
        let env = ensure_runtime()?;
        let load_err = |e: ort::Error| AnomalyError::Load {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let session = Session::builder(&env)
            .map_err(load_err)?
            // One day per resident per day: a single thread is plenty and leaves the cores free.
            .with_intra_threads(1)
            .map_err(|e| load_err(e.into()))?
            .commit_from_file(path)
            .map_err(load_err)?;
        Ok(Self {
            session,
            path: path.to_path_buf(),
        })
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Scores one day's z-scores (clipped to ±[`Z_CLIP`]; NaN counts as 0, no deviation).
    pub fn score(&mut self, z: &[f32; 5]) -> Result<AnomalyScore, AnomalyError> {
        let input: Vec<f32> = z
            .iter()
            .map(|v| {
                if v.is_nan() {
                    0.0
                } else {
                    v.clamp(-Z_CLIP, Z_CLIP)
                }
            })
            .collect();
        let err = |e: ort::Error| AnomalyError::Inference(e.to_string());
        let tensor = Tensor::from_array(([1_usize, FEATURES.len()], input)).map_err(err)?;
        let outputs = self.session.run(ort::inputs!["z" => tensor]).map_err(err)?;
        let label = outputs
            .get("label")
            .ok_or_else(|| AnomalyError::Inference("no `label` output".to_owned()))?
            .try_extract_tensor::<i64>()
            .map_err(err)?
            .1
            .first()
            .copied()
            .ok_or_else(|| AnomalyError::Inference("empty `label`".to_owned()))?;
        let score = outputs
            .get("scores")
            .ok_or_else(|| AnomalyError::Inference("no `scores` output".to_owned()))?
            .try_extract_tensor::<f32>()
            .map_err(err)?
            .1
            .first()
            .copied()
            .ok_or_else(|| AnomalyError::Inference("empty `scores`".to_owned()))?;
        Ok(AnomalyScore {
            anomalous: label == -1,
            score,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("anomaly.onnx")
    }

    fn runtime_here() -> bool {
        ensure_runtime().is_ok()
    }

    #[test]
    fn an_ordinary_day_passes_and_a_large_deviation_is_anomalous() {
        if !runtime_here() {
            panic!("ONNX Runtime not found: run scripts/setup (needs .venv/lib/libonnxruntime.so)");
        }
        let mut m = AnomalyModel::load(&model_path()).unwrap();
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
    fn a_missing_model_file_is_an_error_not_a_panic() {
        if !runtime_here() {
            panic!("ONNX Runtime not found: run scripts/setup (needs .venv/lib/libonnxruntime.so)");
        }
        let err = AnomalyModel::load(Path::new("/nonexistent/anomaly.onnx")).unwrap_err();
        assert!(matches!(err, AnomalyError::Load { .. }), "{err}");
    }
}
