//! Fall detection on a wearable's accelerometer stream.
//!
//! Data flow: device samples at any rate → [`Resampler`] (linear interpolation to 50 Hz) →
//! [`Windower`] (4 s windows every 0.5 s) → [`InferenceWorker`] (a dedicated thread running
//! [`FallDetector`] on batches) → [`FallConfirmer`] (impact score, then the aftermath 10 s later:
//! still down, or up again at once with a higher score needed) → [`ConfirmedFall`]. [`FallPipeline`] wires these per device for the gateway;
//! [`analyze_recording`] (module `offline`) runs the same stages on a recording with its own
//! timestamps, for the CLI and for the training's evaluation.
//!
//! The model (`models/fall_detector.onnx`, embedded) takes the raw window: feature extraction is
//! inside the ONNX graph, so Python training and Rust inference share one implementation. It was
//! trained on real recordings (models/MODEL_CARD.md, models/training/).

mod confirm;
mod detector;
mod offline;
mod pipeline;
mod resample;
mod window;
mod worker;

pub use confirm::{
    Aftermath, ConfirmedFall, ConfirmerConfig, FallConfirmer, MAX_DECISION_S, MIN_EVIDENCE_S,
    WAIST_THRESHOLDS, WRIST_THRESHOLDS,
};
pub use detector::{FallDetector, MODEL_BYTES};
pub use offline::{
    Analysis, MAX_GAP_S, PAD, SkippedPart, analyze_recording, padded_part, split_at_gaps,
};
pub use pipeline::FallPipeline;
pub use resample::{Resampler, resample_irregular};
pub use window::Windower;
pub use worker::{InferenceWorker, MAX_BATCH};

/// The model's sample rate (Hz).
pub const MODEL_HZ: f32 = 50.0;
/// Samples per window (4 s at 50 Hz).
pub const WINDOW: usize = 200;
/// Samples between window starts (0.5 s).
pub const HOP: usize = 25;
/// Where in the window the impact is expected: samples 75..125 (1.5–2.5 s).
pub const IMPACT_SEGMENT: std::ops::Range<usize> = 75..125;

/// Where the device is worn; the model and the confirmation rules depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// A wristband or watch.
    Wrist,
    /// A belt clip or a pendant (trunk-worn).
    Waist,
}

impl Placement {
    /// The model's `placement` input value: 0 = wrist, 1 = waist.
    pub fn model_input(self) -> f32 {
        match self {
            Self::Wrist => 0.0,
            Self::Waist => 1.0,
        }
    }
}

impl std::str::FromStr for Placement {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "wrist" => Ok(Self::Wrist),
            "waist" | "pendant" => Ok(Self::Waist),
            other => Err(format!(
                "unknown placement `{other}`: expected wrist or waist"
            )),
        }
    }
}
