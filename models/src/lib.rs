//! Pingan models: the on-box models, evaluated in plain Rust (no inference runtime in the
//! process). Knows nothing of MQTT or storage.
//!
//! Modules:
//! - [`trees`]: boosted regression trees (the fall detector and its second stage).
//! - [`anomaly`]: the per-resident daily anomaly model (one-class SVM, RBF kernel).
//! - [`fall`]: fall detection — resampling to 50 Hz, sliding windows, window features and trees
//!   on a dedicated inference thread, the confirmation state machine (still down / got up at
//!   once), and the offline analysis of recordings that the CLI and the training's evaluation share.
//!
//! The model files (`models/fall_detector.json`, `models/anomaly.json`) are read out of the
//! training's ONNX graphs by models/training/export_json.py; the tests check the Rust evaluation
//! against those graphs run by Python onnxruntime within 1e-4.
//!
//! Data flow: `Measurement::Motion` batches (from the gateway) → [`fall::FallPipeline::push`] →
//! [`fall::ConfirmedFall`] (to the gateway's alert engine).

pub mod anomaly;
mod error;
pub mod fall;
pub mod trees;

pub use error::ModelError;
