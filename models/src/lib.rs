//! Pingan models: ONNX artefacts and the Rust side that runs them through `ort` (load-dynamic).
//! Knows nothing of MQTT or storage.
//!
//! Modules:
//! - [`runtime`]: finds and loads the ONNX Runtime shared library (`ORT_DYLIB_PATH`, `.venv`,
//!   `/usr/lib/pingan`), with a clear [`ModelError::RuntimeMissing`] when there is none.
//! - [`anomaly`]: the per-resident daily anomaly model (one-class SVM in ONNX).
//! - [`fall`]: fall detection — resampling to 50 Hz, sliding windows, the embedded ONNX model on a
//!   dedicated inference thread, the confirmation state machine (still down / got up at once),
//!   and the offline analysis of recordings that the CLI and the training's evaluation share.
//!
//! Data flow: `Measurement::Motion` batches (from the gateway) → [`fall::FallPipeline::push`] →
//! [`fall::ConfirmedFall`] (to the gateway's alert engine).

pub mod anomaly;
mod error;
pub mod fall;
pub mod runtime;

pub use error::ModelError;
pub use runtime::Runtime;
