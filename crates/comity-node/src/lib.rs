//! A Comity node: the HTTP API, the web interface, the federation transport and the
//! background workers, around one [`comity_app::App`].
//!
//! [`Node::build`] opens the database, binds the listener (port 0 picks a free one, for
//! tests) and starts the workers; [`Node::url`] says where it listens. Handlers are thin:
//! they parse, call one use case and render; every error becomes a problem detail in
//! [`error::ApiError`].

pub mod api;
pub mod browser;
pub mod config;
pub mod error;
pub mod extract;
pub mod federation;
pub mod identity;
pub mod listener;
pub mod openapi;
pub mod outbox;
pub mod second_factor;
pub mod sso;
pub mod tls;
pub mod views;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::get;
use comity_app::{App, Clock, SystemClock};
use comity_store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::NodeConfig;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The use cases.
    pub app: App,
    /// The configuration in effect.
    pub config: Arc<NodeConfig>,
    /// Keys, trust list and the transport to peers.
    pub federation: Arc<federation::Federation>,
    /// The OpenID Connect provider, when single sign-on is configured.
    pub sso: Option<Arc<sso::OidcClient>>,
    /// Whether browsers reach the node over HTTPS (it serves TLS, or its effective
    /// public URL is https): the session cookie is then `Secure`.
    pub secure_cookies: bool,
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The configuration names no database.
    #[error("no database configured: set database_url or a data directory")]
    NoDatabase,
    /// The database could not be opened.
    #[error("cannot open the database: {0}")]
    Store(#[from] comity_store::StoreError),
    /// The keys or the trust list could not be read.
    #[error(transparent)]
    Identity(#[from] identity::IdentityError),
    /// The authorities this node hosts could not be read.
    #[error("cannot read this node's authorities: {0}")]
    Registry(String),
    /// A configuration value is invalid (named in the message).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The law catalog embedded in the binary is invalid.
    #[error("{0}")]
    Catalog(String),
    /// The address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A running node.
#[derive(Debug)]
pub struct Node {
    app: App,
    state: AppState,
    address: SocketAddr,
    public_url: String,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Node {
    /// Opens the database, binds the listener and starts serving and the workers.
    pub async fn build(config: NodeConfig) -> Result<Node, NodeError> {
        Node::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`Node::build`] with a chosen clock (tests move time forward).
    pub async fn build_with_clock(
        config: NodeConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Node, NodeError> {
        let database_url = config.database_url().ok_or(NodeError::NoDatabase)?;
        let store = Store::open(&database_url).await?;
        let app = App::new(store, config.node_id.clone(), clock)
            .map_err(|error| NodeError::Catalog(error.to_string()))?
            .with_second_factor_policy(second_factor::policy(&config)?)
            .with_idle_timeout_minutes(i64::from(config.sessions.idle_timeout_minutes));
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| NodeError::Bind {
                address: config.listen,
                source,
            })?;
        let address = listener.local_addr().map_err(|source| NodeError::Bind {
            address: config.listen,
            source,
        })?;
        let tls_files = config.tls_files();
        let scheme = if tls_files.is_some() { "https" } else { "http" };
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{address}"));
        let (tls_config, tls_certificate) = match &tls_files {
            Some((cert, key)) => {
                let server_config = tls::server_config(cert, key)?;
                let pem = std::fs::read_to_string(cert).map_err(|source| {
                    identity::IdentityError::Io {
                        path: cert.clone(),
                        source,
                    }
                })?;
                (Some(server_config), Some(pem))
            }
            None => (None, None),
        };
        let keyring = match &config.data_dir {
            Some(dir) => identity::load_keyring(dir)?,
            None => federation::Keyring {
                current: Arc::new(comity_crypto::NodeKeys::generate(&mut rand::rngs::OsRng)),
                since_ms: 0,
                previous: Vec::new(),
                announcement: None,
            },
        };
        let trust = match &config.data_dir {
            Some(dir) => identity::TrustList::load(dir)?,
            None => identity::TrustList::default(),
        };
        let local_authorities = federation::local_authority_ids(&app)
            .await
            .map_err(NodeError::Registry)?;
        for node_id in trust
            .peers()
            .map(|peer| peer.node_id.clone())
            .collect::<Vec<_>>()
        {
            if let Some(entry) = trust.entry(&node_id) {
                identity::check_claims(&entry, app.node_id(), &local_authorities).map_err(
                    |message| {
                        NodeError::Identity(identity::IdentityError::Invalid {
                            path: identity::TRUST_FILE.into(),
                            message,
                        })
                    },
                )?;
            }
        }
        let peer_authorities: Vec<(comity_domain::Authority, String)> = trust
            .peers()
            .flat_map(|peer| {
                peer.authorities
                    .iter()
                    .map(|authority| (authority.clone(), peer.node_id.clone()))
            })
            .collect();
        for (authority, node_id) in peer_authorities {
            app.register_authority(authority, &node_id)
                .await
                .map_err(|error| {
                    NodeError::Identity(identity::IdentityError::Invalid {
                        path: identity::TRUST_FILE.into(),
                        message: error.to_string(),
                    })
                })?;
        }
        let federation = federation::Federation::new(
            keyring,
            trust,
            config.data_dir.clone(),
            config.federation.allow_plain_http_loopback,
            tls_certificate,
        );
        // The effective public URL, so that cookies, origins and HSTS see what browsers see.
        let mut config = config;
        config.public_url = Some(public_url.clone());
        let sso = match &config.oidc {
            Some(oidc) => Some(Arc::new(
                sso::OidcClient::new(oidc, &public_url, |name| std::env::var(name).ok())
                    .map_err(NodeError::Config)?,
            )),
            None => None,
        };
        let secure_cookies = tls_config.is_some() || public_url.starts_with("https://");
        let state = AppState {
            app: app.clone(),
            config: Arc::new(config),
            federation,
            sso,
            secure_cookies,
        };
        let (shutdown, shutdown_signal) = watch::channel(false);
        let router = router(state.clone());
        let server = tokio::spawn(listener::serve(
            listener,
            router,
            tls_config,
            state.config.server.clone(),
            shutdown_signal.clone(),
        ));
        let sender = tokio::spawn(outbox::run_sender(state.clone(), shutdown_signal));
        let mut tasks = vec![server, sender];
        let restored = app
            .restore_pending()
            .await
            .map_err(|error| NodeError::Registry(error.to_string()))?;
        if restored || state.config.federation.resync_on_start {
            tracing::info!(
                restored,
                "resynchronising every conversation with the peers"
            );
            tasks.push(tokio::spawn(federation::resync_after_restore(
                state.clone(),
            )));
        }
        tracing::info!(node_id = %app.node_id(), %address, "node listening");
        Ok(Node {
            app,
            state,
            address,
            public_url,
            shutdown,
            tasks,
        })
    }

    /// The application behind the node (for the CLI and tests).
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The URL to reach the node.
    pub fn url(&self) -> &str {
        &self.public_url
    }

    /// This node as a peer entry, for other nodes' trust lists (`comity node show`).
    pub async fn peer_entry(&self) -> Result<identity::PeerEntry, comity_app::AppError> {
        federation::own_entry(
            &self.app,
            &self.state.federation.keys(),
            self.state.federation.keys_since_ms(),
            &self.public_url,
            self.state.federation.tls_certificate.clone(),
        )
        .await
    }

    /// Adds a peer to the trust list (and saves it in the data directory).
    pub async fn add_peer(&self, entry: identity::PeerEntry) -> Result<(), String> {
        federation::add_peer(&self.state, entry).await
    }

    /// The state handlers see.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops serving and the workers, waiting for them to finish.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
        }
        self.app.store().close().await;
    }

    /// Stops at once, as a crash would: tasks are aborted mid-flight.
    pub fn kill(self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The whole HTTP surface of a node.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let browser_policy = Arc::new(browser::BrowserPolicy::new(
        state.config.public_url.as_deref().unwrap_or_default(),
        state.config.tls_files().is_some(),
        web::STYLESHEET,
    ));
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/api/openapi.json", get(openapi_json))
        .nest("/api/v1", api::routes())
        .merge(federation::routes())
        .merge(web::routes())
        .fallback(web::not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(
            extract::refuse_control_characters_in_path,
        ))
        .layer(axum::middleware::from_fn_with_state(
            browser_policy.clone(),
            browser::origin_guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            browser_policy,
            browser::security_headers,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// A known path asked with a method it does not serve: a problem, with axum's `Allow`.
async fn method_not_allowed() -> error::ApiError {
    error::ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this path does not serve that method; the Allow header lists those it does",
    )
}

async fn openapi_json(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> impl IntoResponse {
    axum::Json(openapi::document(state.app.catalog()))
}
