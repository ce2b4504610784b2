//! The models layer's error type.

use std::path::PathBuf;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// No ONNX Runtime shared library was found; fall detection is unavailable.
    #[error(
        "ONNX Runtime library not found (searched: {}); run scripts/setup to install it into .venv, \
         install the pingan package (it ships /usr/lib/pingan/libonnxruntime.so.*), or set ORT_DYLIB_PATH to the path of libonnxruntime.so",
        display_paths(.searched)
    )]
    RuntimeMissing {
        /// Every path that was tried, in order.
        searched: Vec<PathBuf>,
    },
    /// The library found is built for another processor architecture than this binary (an x86-64
    /// wheel's library on a Raspberry Pi, say); loading it would fail with a vague message.
    #[error(
        "ONNX Runtime library {path} is built for {library}, but this pingan is built for {binary}: \
         install the library for {binary} (the pingan package of this architecture ships it in \
         /usr/lib/pingan), or set ORT_DYLIB_PATH to one"
    )]
    RuntimeArchitecture {
        /// The library that was refused.
        path: PathBuf,
        /// Its architecture (`x86_64`, `aarch64`, ...).
        library: String,
        /// The architecture of the running binary.
        binary: &'static str,
    },
    /// A library was found but could not be loaded (not a library, too old, missing dependencies).
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
