//! Errors of [`crate::TunnelServer::bind`].

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    /// A limit or setting is unusable.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Requested address.
        addr: SocketAddr,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A TLS PEM file could not be read.
    #[error("cannot read {path}: {source}")]
    TlsFile {
        /// The file.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The PEM text holds no usable certificate or key.
    #[error("invalid TLS PEM: {0}")]
    TlsPem(String),
    /// rustls rejected the certificate/key pair.
    #[error("TLS configuration rejected: {0}")]
    Tls(#[from] rustls::Error),
}
