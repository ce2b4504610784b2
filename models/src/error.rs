//! The models layer's error type.

use std::path::PathBuf;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// No ONNX Runtime shared library was found; fall detection is unavailable.
    #[error(
        "ONNX Runtime library not found (searched: {}); run scripts/setup to install it into .venv, \
         or set ORT_DYLIB_PATH to the path of libonnxruntime.so",
        display_paths(.searched)
    )]
    RuntimeMissing {
        /// Every path that was tried, in order.
        searched: Vec<PathBuf>,
    },
    /// A library was found but could not be loaded (wrong file, wrong architecture, too old).
    #[error(
        "cannot load ONNX Runtime from {path}: {reason}; set ORT_DYLIB_PATH to a libonnxruntime.so of version 1.22 or newer"
    )]
    RuntimeLoad {
        /// The library that failed to load.
        path: PathBuf,
        /// The loader's message.
        reason: String,
    },
    /// ONNX Runtime rejected the model or an inference call.
    #[error("ONNX Runtime error: {0}")]
    Ort(String),
    /// An input did not have the shape the model expects.
    #[error("invalid model input: {0}")]
    Input(String),
    /// The inference thread is gone (it stopped after an unrecoverable error or at shutdown).
    #[error("the fall-detection inference thread has stopped")]
    WorkerStopped,
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl<R> From<ort::Error<R>> for ModelError {
    fn from(e: ort::Error<R>) -> Self {
        Self::Ort(e.to_string())
    }
}
