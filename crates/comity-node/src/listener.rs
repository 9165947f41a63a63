//! The accept loop, for HTTPS and plain HTTP alike, bounded so that nobody who can reach
//! the port can hold the node: at most `max_connections` at once (the rest wait in the
//! kernel's backlog), a deadline for the TLS handshake, for each request's headers (idle
//! keep-alive connections included) and for its body, and a pause after a failed accept
//! (running out of file descriptors must not become a busy loop writing the same warning
//! as fast as the disk takes it).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

use crate::config::ServerConfig;

/// Serves `router` on `listener`, over TLS when `tls` is given, until `shutdown` turns
/// true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: ServerConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let router = router.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        Duration::from_millis(limits.body_timeout_ms),
    ));
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut failures = AcceptFailures::default();
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let Ok(permit) = permit else { return };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                failures.reset();
                accepted
            }
            Err(error) => {
                let pause = failures.record(&error);
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        let limits = limits.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match acceptor {
                Some(acceptor) => {
                    let handshake = Duration::from_millis(limits.handshake_timeout_ms);
                    match tokio::time::timeout(handshake, acceptor.accept(stream)).await {
                        Ok(Ok(tls_stream)) => {
                            serve_connection(tls_stream, peer, router, &limits).await
                        }
                        Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
                None => serve_connection(stream, peer, router, &limits).await,
            }
        });
    }
}

async fn serve_connection<S>(stream: S, peer: SocketAddr, router: Router, limits: &ServerConfig)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // The client's address for the handlers (log-in throttling), as `axum::serve` gives it.
    let with_address = router.map_request(move |mut request: axum::extract::Request<_>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    let service = TowerToHyperService::new(with_address);
    // HTTP/1.1 only: the node speaks nothing else, and sniffing for HTTP/2 would read
    // the first bytes before any deadline applies.
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(limits.header_timeout_ms))
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(error) = served {
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// Failed accepts in a row: how long to pause, and when to say so again.
#[derive(Debug, Default)]
struct AcceptFailures {
    in_a_row: u32,
    last_logged: Option<Instant>,
    not_logged: u64,
}

impl AcceptFailures {
    const LOG_EVERY: Duration = Duration::from_secs(10);

    fn reset(&mut self) {
        self.in_a_row = 0;
    }

    /// Records one failure; returns the pause before the next accept (10 ms doubling to
    /// one second). The warning is written at most every ten seconds, with a count.
    fn record(&mut self, error: &std::io::Error) -> Duration {
        self.in_a_row = self.in_a_row.saturating_add(1);
        let due = self
            .last_logged
            .is_none_or(|last| last.elapsed() >= Self::LOG_EVERY);
        if due {
            tracing::warn!(%error, failures_not_logged = self.not_logged, "accept failed; pausing");
            self.last_logged = Some(Instant::now());
            self.not_logged = 0;
        } else {
            self.not_logged += 1;
        }
        Self::pause(self.in_a_row)
    }

    fn pause(in_a_row: u32) -> Duration {
        let exponent = in_a_row.saturating_sub(1).min(7);
        Duration::from_millis(10 << exponent).min(Duration::from_secs(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_accepts_pause_longer_up_to_a_second_and_log_rarely() {
        assert_eq!(AcceptFailures::pause(1), Duration::from_millis(10));
        assert_eq!(AcceptFailures::pause(2), Duration::from_millis(20));
        assert_eq!(AcceptFailures::pause(8), Duration::from_secs(1));
        assert_eq!(AcceptFailures::pause(1000), Duration::from_secs(1));
        let mut failures = AcceptFailures::default();
        let error = std::io::Error::other("too many open files");
        for _ in 0..100 {
            failures.record(&error);
        }
        assert_eq!(failures.not_logged, 99, "one warning for a burst");
        failures.reset();
        assert_eq!(failures.record(&error), Duration::from_millis(10));
    }
}
