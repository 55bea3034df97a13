//! TLS for `wss://`: rustls with the webpki roots, extra root certificates, or a whole
//! `rustls::ClientConfig` of the caller's.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::ConnectError;

/// How a client sets up TLS.
#[derive(Debug, Clone, Default)]
pub(crate) struct TlsOptions {
    /// PEM certificates trusted besides the webpki roots.
    pub(crate) extra_roots: Vec<Vec<u8>>,
    /// A whole configuration, used as it is.
    pub(crate) config: Option<Arc<rustls::ClientConfig>>,
}

impl TlsOptions {
    /// The rustls configuration for a `wss://` connection.
    pub(crate) fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, ConnectError> {
        if let Some(config) = &self.config {
            return Ok(config.clone());
        }
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for pem in &self.extra_roots {
            let mut found = false;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| ConnectError::Tls(format!("root certificate: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| ConnectError::Tls(format!("root certificate: {e}")))?;
                found = true;
            }
            if !found {
                return Err(ConnectError::Tls(
                    "root certificate: no PEM certificate found".to_owned(),
                ));
            }
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnectError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Arc::new(config))
    }
}
