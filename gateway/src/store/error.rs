//! Why a store operation failed.

use std::path::PathBuf;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled failed (I/O, corruption, disk full).
    #[error("database at {path}: {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
    /// The database was written by an incompatible version.
    #[error(
        "database at {path} has schema version {found}, this pingan reads version {expected}; \
         use the pingan release that wrote it, or move the directory away to start afresh"
    )]
    SchemaMismatch {
        path: PathBuf,
        found: String,
        expected: u32,
    },
    /// Another process (a running gateway) holds the database.
    #[error("database at {path} is in use by another process (is the gateway running?)")]
    Locked { path: PathBuf },
    /// A flush did not finish (its thread panicked or the runtime is shutting down).
    #[error("flush interrupted: {0}")]
    Interrupted(String),
    /// A stored value could not be decoded.
    #[error("corrupt {what} record: {detail}")]
    Corrupt { what: &'static str, detail: String },
}
