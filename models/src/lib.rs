//! Pingan models: ONNX artefacts and the Rust side that runs them through `ort` (load-dynamic).
//! Knows nothing of MQTT or storage.
pub mod anomaly;
