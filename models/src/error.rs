//! The models layer's error type.

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A model file does not match this build (format, feature list, malformed trees).
    #[error("invalid model file: {0}")]
    Model(String),
    /// An input did not have the shape the model expects.
    #[error("invalid model input: {0}")]
    Input(String),
    /// The inference thread could not be started or failed a batch.
    #[error("fall-detection inference thread: {0}")]
    Worker(String),
    /// The inference thread is gone (it stopped after an unrecoverable error or at shutdown).
    #[error("the fall-detection inference thread has stopped")]
    WorkerStopped,
}
