//! The ONNX session wrapper: batches of raw windows in, fall scores out.

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

use super::spec::{Placement, WINDOW};
use crate::{ModelError, Runtime};

/// The trained model, embedded (under 1 MB): deployments need no model file next to the binary.
pub static MODEL_BYTES: &[u8] = include_bytes!("../../fall_detector.onnx");

/// A loaded fall-detection model.
///
/// Input `window` [N, 200, 3] (g, 50 Hz) and `placement` [N, 1] (0 wrist, 1 waist); output
/// `score` [N], the probability that a fall's impact lies in the window's 1.5–2.5 s segment.
#[derive(Debug)]
pub struct FallDetector {
    session: Session,
}

impl FallDetector {
    /// Loads the embedded model with one intra-op thread (measured faster than two for this size).
    ///
    /// # Errors
    /// [`ModelError::Ort`] when ONNX Runtime rejects the model.
    pub fn new(runtime: &Runtime) -> Result<Self, ModelError> {
        Self::from_bytes(runtime, MODEL_BYTES)
    }

    /// Loads a model from ONNX bytes (for tests and A/B comparisons of retrained models).
    ///
    /// # Errors
    /// [`ModelError::Ort`] when ONNX Runtime rejects the model.
    pub fn from_bytes(runtime: &Runtime, model: &[u8]) -> Result<Self, ModelError> {
        let session = Session::builder(runtime.environment())?
            .with_optimization_level(GraphOptimizationLevel::Level3)?
            .with_intra_threads(1)?
            .with_inter_threads(1)?
            .commit_from_memory(model)?;
        Ok(Self { session })
    }

    /// Scores a batch: `windows` holds N windows flattened (N × 200 × 3 values), `placements` one
    /// value per window (see [`Placement::model_input`]).
    ///
    /// # Errors
    /// [`ModelError::Input`] on a length mismatch, [`ModelError::Ort`] when inference fails.
    pub fn score(&mut self, windows: &[f32], placements: &[f32]) -> Result<Vec<f32>, ModelError> {
        let n = placements.len();
        if windows.len() != n * WINDOW * 3 {
            return Err(ModelError::Input(format!(
                "{} values for {n} windows; expected {} per window",
                windows.len(),
                WINDOW * 3
            )));
        }
        if n == 0 {
            return Ok(Vec::new());
        }
        let w = Tensor::from_array(([n, WINDOW, 3], windows.to_vec()))?;
        let p = Tensor::from_array(([n, 1], placements.to_vec()))?;
        let outputs = self
            .session
            .run(ort::inputs!["window" => w, "placement" => p])?;
        let score = outputs
            .get("score")
            .ok_or_else(|| ModelError::Ort("the model has no `score` output".into()))?;
        let (_, values) = score.try_extract_tensor::<f32>()?;
        if values.len() != n {
            return Err(ModelError::Ort(format!(
                "{} scores for {n} windows",
                values.len()
            )));
        }
        Ok(values.to_vec())
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
