//! Why the gateway could not start.

use std::path::PathBuf;

use crate::mqtt::broker;
use crate::store::StoreError;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory or database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The embedded broker.
    #[error(transparent)]
    Broker(#[from] broker::BrokerError),
    /// The dashboard's address.
    #[error("cannot listen on {addr} for the dashboard: {source} (set [http] bind or --http-port)")]
    Http {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The data directory cannot be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
