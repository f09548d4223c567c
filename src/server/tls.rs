//! TLS with rustls and the ring provider: the server certificate, client certificates verified
//! against k2d's CA when offered (bearer tokens are the other way in), ALPN h2 and http/1.1.

use std::sync::Arc;

use anyhow::{Context, Result};
use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::security::pki::Credentials;

/// The rustls server configuration for these credentials.
pub fn server_config(creds: &Credentials) -> Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let ca = CertificateDer::from_pem_slice(creds.ca_cert.as_bytes()).context("parsing ca.crt")?;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(ca.clone())
        .context("adding the CA to the client roots")?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .context("building the client certificate verifier")?;
    let server_cert = CertificateDer::from_pem_slice(creds.server_cert.as_bytes())
        .context("parsing server.crt")?;
    let key =
        PrivateKeyDer::from_pem_slice(creds.server_key.as_bytes()).context("parsing server.key")?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("choosing TLS versions")?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![server_cert, ca], key)
        .context("loading the server certificate")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
