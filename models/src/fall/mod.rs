//! Fall detection on a wearable's accelerometer stream.
//!
//! Data flow: device samples at any rate → [`Resampler`] (linear interpolation to 50 Hz) →
//! [`Windower`] (4 s windows every 0.5 s) → [`InferenceWorker`] (a dedicated thread running
//! [`FallDetector`] on batches) → [`FallConfirmer`] (impact score, then the aftermath 10 s later:
//! still down, or up again at once with a higher score needed) → [`ConfirmedFall`]. [`FallPipeline`] wires these per device for the gateway;
//! [`analyze_recording`] (module `offline`) runs the same stages on a recording with its own
//! timestamps, for the CLI and for the training's evaluation.
//!
//! The model (`models/fall_detector.json`, embedded) takes the raw window: [`window_features`]
//! computes the 42 features of the training's feature graph (models/training/features.py, the
//! first half of `models/fall_detector.onnx`) and the boosted trees score them; the tests hold the
//! two within 1e-4 of the ONNX graph run by Python onnxruntime. It was trained on real recordings
//! (models/MODEL_CARD.md, models/training/).

pub mod aftermath;
mod confirm;
mod detector;
mod features;
mod offline;
mod pipeline;
mod resample;
mod second_stage;
mod spec;
mod window;
mod worker;

pub use crate::trees::Forest;
pub use confirm::{
    Aftermath, ConfirmedFall, ConfirmerConfig, FallConfirmer, MAX_DECISION_S, MIN_EVIDENCE_S,
    SecondStageRule, WAIST_THRESHOLDS, WRIST_THRESHOLDS,
};
pub use detector::{FORMAT as MODEL_FORMAT, FallDetector, MODEL_JSON};
pub use features::{
    CLIP_G, FEATURE_NAMES as WINDOW_FEATURES, N_FEATURES, features as window_features,
};
pub use offline::{
    Analysis, MAX_GAP_S, PAD, SkippedPart, analyze_recording, padded_part, split_at_gaps,
};
pub use pipeline::FallPipeline;
pub use resample::{Resampler, resample_irregular};
pub use second_stage::{FORMAT as SECOND_STAGE_FORMAT, SecondStage, SecondStageError};
pub use spec::{HOP, IMPACT_SEGMENT, MODEL_HZ, Placement, WINDOW};
pub use window::Windower;
pub use worker::{InferenceWorker, MAX_BATCH};
