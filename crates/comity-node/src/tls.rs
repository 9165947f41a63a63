//! HTTPS for the node: a self-signed certificate made by `comity init`, the rustls
//! server configuration, and the accept loop that serves the router over TLS.
//!
//! Peers pin each other's certificate through the trust list (`tls_certificate` in a
//! peer entry), so no public certificate authority is needed between ministries; a node
//! behind a reverse proxy with a CA-issued certificate works too.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;

use crate::identity::{IdentityError, write_secret_file};

/// The certificate file inside the data directory.
pub const CERT_FILE: &str = "tls/cert.pem";
/// The private key file inside the data directory.
pub const KEY_FILE: &str = "tls/key.pem";

fn invalid(path: &Path, message: impl ToString) -> IdentityError {
    IdentityError::Invalid {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Makes a self-signed certificate for `hosts` (names or IP addresses) in the data
/// directory; the key is written owner-only. Returns the certificate and key paths.
pub fn generate_certificate(
    data_dir: &Path,
    hosts: &[String],
) -> Result<(PathBuf, PathBuf), IdentityError> {
    let cert_path = data_dir.join(CERT_FILE);
    let key_path = data_dir.join(KEY_FILE);
    let certified = rcgen::generate_simple_self_signed(hosts.to_vec())
        .map_err(|error| invalid(&cert_path, error))?;
    write_secret_file(&key_path, certified.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(&cert_path, certified.cert.pem()).map_err(|source| IdentityError::Io {
        path: cert_path.clone(),
        source,
    })?;
    Ok((cert_path, key_path))
}

/// The rustls server configuration for a certificate and key in PEM files.
pub fn server_config(
    cert_path: &Path,
    key_path: &Path,
) -> Result<Arc<rustls::ServerConfig>, IdentityError> {
    let cert_pem = std::fs::read(cert_path).map_err(|source| IdentityError::Io {
        path: cert_path.to_path_buf(),
        source,
    })?;
    let key_pem = std::fs::read(key_path).map_err(|source| IdentityError::Io {
        path: key_path.to_path_buf(),
        source,
    })?;
    let certificates = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| invalid(cert_path, error))?;
    let key = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|error| invalid(key_path, error))?
        .ok_or_else(|| invalid(key_path, "no private key in the file"))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| invalid(cert_path, error))?
    .with_no_client_auth()
    .with_single_cert(certificates, key)
    .map_err(|error| invalid(cert_path, error))?;
    Ok(Arc::new(config))
}

/// Serves `router` over TLS on `listener` until `shutdown` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    config: Arc<rustls::ServerConfig>,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                continue;
            }
        };
        let acceptor = acceptor.clone();
        // The client's address, as `axum::serve` gives it on plain HTTP (log-in throttling).
        let service = TowerToHyperService::new(
            router
                .clone()
                .layer(axum::Extension(axum::extract::ConnectInfo(peer))),
        );
        tokio::spawn(async move {
            let tls_stream = match acceptor.accept(stream).await {
                Ok(tls_stream) => tls_stream,
                Err(error) => {
                    tracing::debug!(%peer, %error, "TLS handshake failed");
                    return;
                }
            };
            let served = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls_stream), service)
                .await;
            if let Err(error) = served {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
}
