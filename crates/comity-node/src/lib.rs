//! A Comity node: configuration, the router, the HTTP API and the TLS listener, around
//! one [`comity_app::App`]. The web pages come from `comity_web`, the federation (keys,
//! trust list, transport, outbox sender) from `comity_federation`; this crate wires
//! them together and starts the workers.
//!
//! [`Node::build`] opens the database, binds the listener (port 0 picks a free one, for
//! tests) and starts the workers; [`Node::url`] says where it listens. Handlers are thin:
//! they parse, call one use case and render; every error becomes a problem detail in
//! [`error::ApiError`].

pub mod api;
pub mod config;
pub mod listener;
pub mod openapi;
pub mod second_factor;
pub mod tls;
pub mod views;

pub use comity_federation::{self as federation, identity};
pub use comity_http::{error, extract};

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::get;
use comity_app::{App, Clock, SystemClock};
use comity_federation::FederationState;
use comity_store::Store;
use comity_web::{WebState, browser};
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
    pub federation: FederationState,
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
            None => identity::Keyring::generate(),
        };
        let trust = match &config.data_dir {
            Some(dir) => identity::TrustList::load(dir)?,
            None => identity::TrustList::default(),
        };
        register_peer_authorities(&app, &trust).await?;
        let federation = FederationState::new(
            app.clone(),
            federation::Federation::new(
                keyring,
                trust,
                config.data_dir.clone(),
                config.federation.allow_plain_http_loopback,
                tls_certificate,
            ),
            config.outbox.clone(),
            config.federation.clone(),
        );
        // The effective public URL, so that cookies, origins and HSTS see what browsers see.
        let mut config = config;
        config.public_url = Some(public_url.clone());
        let sso = match &config.oidc {
            Some(oidc) => Some(Arc::new(
                comity_web::OidcClient::new(oidc, &public_url, |name| std::env::var(name).ok())
                    .map_err(NodeError::Config)?,
            )),
            None => None,
        };
        let web = WebState {
            app: app.clone(),
            sso,
            secure_cookies: tls_config.is_some() || public_url.starts_with("https://"),
        };
        let state = AppState {
            app: app.clone(),
            config: Arc::new(config),
            federation,
        };
        let (shutdown, shutdown_signal) = watch::channel(false);
        let router = router(state.clone(), web);
        let server = tokio::spawn(listener::serve(
            listener,
            router,
            tls_config,
            state.config.server.clone(),
            shutdown_signal.clone(),
        ));
        let sender = tokio::spawn(federation::outbox::run_sender(
            state.federation.clone(),
            shutdown_signal,
        ));
        let mut tasks = vec![server, sender];
        let restored = app
            .restore_pending()
            .await
            .map_err(|error| NodeError::Registry(error.to_string()))?;
        if restored || state.federation.config.resync_on_start {
            tracing::info!(
                restored,
                "resynchronising every conversation with the peers"
            );
            tasks.push(tokio::spawn(federation::resync::resync_after_restore(
                state.federation.clone(),
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
        let federation = &self.state.federation.federation;
        federation::own_entry(
            &self.app,
            &federation.keys(),
            federation.keys_since_ms(),
            &self.public_url,
            federation.tls_certificate.clone(),
            federation.recovery_public().as_ref(),
        )
        .await
    }

    /// Adds a peer to the trust list (and saves it in the data directory).
    pub async fn add_peer(&self, entry: identity::PeerEntry) -> Result<(), String> {
        federation::add_peer(&self.state.federation, entry).await
    }

    /// The federation's state: keys, trust list and transport (for the CLI and tests).
    pub fn federation(&self) -> &FederationState {
        &self.state.federation
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

/// The whole HTTP surface of a node: the API, the federation's routes and the pages,
/// under the browser protections.
pub fn router(state: AppState, web: WebState) -> Router {
    let max_body = state.config.max_body_bytes;
    let browser_policy = Arc::new(browser::BrowserPolicy::new(
        state.config.public_url.as_deref().unwrap_or_default(),
        state.config.tls_files().is_some(),
        comity_web::STYLESHEET,
    ));
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/api/openapi.json", get(openapi_json))
        .nest(
            "/api/v1",
            api::routes().merge(federation::api::routes(state.federation.clone())),
        )
        .merge(federation::routes(state.federation.clone()))
        .merge(comity_web::routes(web))
        .fallback(comity_web::not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(
            comity_web::refuse_control_characters_in_path,
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

impl axum::extract::FromRef<AppState> for App {
    fn from_ref(state: &AppState) -> App {
        state.app.clone()
    }
}

/// Registers the authorities of the peers on the trust list, after checking that no
/// entry claims an authority hosted here or by another peer.
async fn register_peer_authorities(
    app: &App,
    trust: &identity::TrustList,
) -> Result<(), NodeError> {
    let invalid = |message: String| {
        NodeError::Identity(identity::IdentityError::Invalid {
            path: identity::TRUST_FILE.into(),
            message,
        })
    };
    let local_authorities = federation::local_authority_ids(app)
        .await
        .map_err(NodeError::Registry)?;
    for peer in trust.peers() {
        if let Some(entry) = trust.entry(&peer.node_id) {
            identity::check_claims(&entry, app.node_id(), &local_authorities).map_err(invalid)?;
        }
    }
    for peer in trust.peers() {
        for authority in &peer.authorities {
            app.bootstrap()
                .register_authority(authority.clone(), &peer.node_id)
                .await
                .map_err(|error| invalid(error.to_string()))?;
        }
    }
    Ok(())
}
