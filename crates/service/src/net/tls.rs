//! TLS for the bank protocol (`serve --tls-cert --tls-key`, `load
//! --tls-ca`): rustls through tokio-rustls, with the ring provider, TLS
//! 1.2 and 1.3. The service presents its certificate chain; a bank's
//! client trusts the CA given and checks the certificate names the
//! address it connects to (an IP address or a DNS name in the
//! certificate's subject alternative names). The bank still says who it is
//! with its token in HELLO, now encrypted.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {what}")]
    File { path: PathBuf, what: String },
    #[error("{0}")]
    Config(String),
}

impl clearsim_core::Blamed for TlsError {
    /// A certificate, key or CA file the user gave.
    fn blame(&self) -> clearsim_core::Blame {
        clearsim_core::Blame::User
    }
}

/// The ring provider: small, no C toolchain beyond `cc` and no cmake on a
/// fresh machine. rustls marks it deprecated only because it lacks the
/// post-quantum key exchange, which a settlement link inside a data
/// centre does not need yet (docs/decisions.md).
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates of a PEM file (a chain: the service's first).
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bad = |what: String| TlsError::File {
        path: path.to_path_buf(),
        what,
    };
    let bytes = clearsim_model::input::read_regular(path).map_err(|e| bad(e.to_string()))?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not PEM certificates: {e}")))?;
    if chain.is_empty() {
        return Err(bad("no CERTIFICATE in it (PEM expected)".into()));
    }
    Ok(chain)
}

/// The service's TLS configuration: its certificate chain and key.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = certificates(cert)?;
    let bytes = clearsim_model::input::read_regular(key).map_err(|e| TlsError::File {
        path: key.to_path_buf(),
        what: e.to_string(),
    })?;
    let key_der = PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| TlsError::File {
        path: key.to_path_buf(),
        what: format!("no private key in it (PEM expected): {e}"),
    })?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| TlsError::Config(format!("{} and {}: {e}", cert.display(), key.display())))?;
    Ok(Arc::new(config))
}

/// A bank client's TLS configuration: it trusts the certificates in `ca`.
pub fn client_config(ca: &Path) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates(ca)? {
        roots.add(certificate).map_err(|e| TlsError::File {
            path: ca.to_path_buf(),
            what: format!("not a usable CA certificate: {e}"),
        })?;
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
