//! TLS for uplinks: rustls with the ring provider, a CA file, an optional client certificate.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// TLS material that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file is missing or unreadable.
    #[error("{path}: {detail}")]
    File { path: String, detail: String },
    /// rustls refused the material.
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Installs the ring crypto provider once per process (rustls without a default provider).
pub fn install_provider() {
    // Err means it is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client config trusting the CA in `ca_file`, presenting `client` (cert, key) when given.
pub fn client_config(
    ca_file: &Path,
    client: Option<(&Path, &Path)>,
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    install_provider();
    let file_err = |p: &Path, e: &dyn std::fmt::Display| TlsError::File {
        path: p.display().to_string(),
        detail: e.to_string(),
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca_file)
        .map_err(|e| file_err(ca_file, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_err(ca_file, &e))?;
    if certs.is_empty() {
        return Err(file_err(ca_file, &"no certificate found in the PEM file"));
    }
    for c in certs {
        roots.add(c)?;
    }
    let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
    let config = match client {
        Some((cert, key)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                .map_err(|e| file_err(cert, &e))?
                .collect::<Result<_, _>>()
                .map_err(|e| file_err(cert, &e))?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| file_err(key, &e))?;
            builder.with_client_auth_cert(chain, key)?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}
