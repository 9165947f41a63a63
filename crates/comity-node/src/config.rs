//! The node's one typed configuration: a TOML file, then environment overrides.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Everything a node needs to run. Every field has a documented default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// This node's id in the federation, e.g. `es-mjusticia`. Required.
    pub node_id: String,
    /// Address to listen on. Default `127.0.0.1:8080`; port 0 picks a free port.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The URL peers and browsers use to reach this node. Default: `http://` + listen.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Database URL: `sqlite://PATH?mode=rwc` (default: `comity.db` in the data
    /// directory) or `postgres://...`.
    #[serde(default)]
    pub database_url: Option<String>,
    /// The data directory (keys, trust list, SQLite file). Set by `--data-dir`.
    #[serde(skip)]
    pub data_dir: Option<PathBuf>,
    /// Largest request body accepted, in bytes. Default 1 MiB.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Outgoing message delivery.
    #[serde(default)]
    pub outbox: OutboxConfig,
    /// Federation transport.
    #[serde(default)]
    pub federation: FederationConfig,
    /// HTTPS for the node's listener.
    #[serde(default)]
    pub tls: TlsConfig,
    /// Limits on the listener: connections and deadlines.
    #[serde(default)]
    pub server: ServerConfig,
    /// Which roles must use a second factor (TOTP).
    #[serde(default)]
    pub second_factor: SecondFactorConfig,
    /// Single sign-on through an OpenID Connect provider. Default: none.
    #[serde(default)]
    pub oidc: Option<OidcConfig>,
    /// Log-in sessions.
    #[serde(default)]
    pub sessions: SessionConfig,
}

/// How long log-in sessions last. Each also ends 24 hours after it was opened.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// A session unused for this many minutes ends. Default 30; at least 1.
    #[serde(default = "default_idle_minutes")]
    pub idle_timeout_minutes: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_timeout_minutes: default_idle_minutes(),
        }
    }
}

/// The second factor: TOTP (RFC 6238) with recovery codes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorConfig {
    /// Role codes whose holders must enrol a second factor before doing anything else.
    /// Default: the roles that may approve, dispatch or refuse a request
    /// (`central_authority_officer`, `supervisor`). An empty list asks no one.
    #[serde(default = "default_second_factor_roles")]
    pub required_roles: Vec<String>,
    /// The name authenticator apps show for this node's codes. Default `Comity <node_id>`.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Whether accounts that log in through the identity provider ([`OidcConfig`]) are
    /// exempt, the provider being responsible for their second factor. Default true.
    #[serde(default = "default_true")]
    pub single_sign_on_exempt: bool,
}

impl Default for SecondFactorConfig {
    fn default() -> Self {
        SecondFactorConfig {
            required_roles: default_second_factor_roles(),
            issuer: None,
            single_sign_on_exempt: true,
        }
    }
}

/// Single sign-on with an OpenID Connect provider (authorization code flow with PKCE).
/// A user logging in the first time gets an account just in time, in `authority`, with
/// the roles of `role_claim` that `allowed_roles` lists; local accounts keep working.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer URL (its discovery document is at
    /// `<issuer>/.well-known/openid-configuration`). HTTPS, or HTTP on loopback only.
    pub issuer: String,
    /// This node's client id at the provider.
    pub client_id: String,
    /// The client secret. Better: leave it out and set the variable `client_secret_env`.
    #[serde(default)]
    pub client_secret: Option<SecretText>,
    /// The environment variable holding the client secret. Default
    /// `COMITY_OIDC_CLIENT_SECRET`.
    #[serde(default = "default_client_secret_env")]
    pub client_secret_env: String,
    /// Where the provider sends the browser back. Default
    /// `<public_url>/login/oidc/callback`.
    #[serde(default)]
    pub redirect_url: Option<String>,
    /// The authority (hosted on this node) every user from this provider belongs to.
    pub authority: String,
    /// The claim holding role codes. Default `comity_roles`.
    #[serde(default = "default_role_claim")]
    pub role_claim: String,
    /// The claim holding the user name. Default `preferred_username`.
    #[serde(default = "default_username_claim")]
    pub username_claim: String,
    /// The claim holding the display name. Default `name`.
    #[serde(default = "default_display_name_claim")]
    pub display_name_claim: String,
    /// The only role codes the provider may grant. Default: none, so nobody gets in
    /// until the administrator lists them.
    #[serde(default)]
    pub allowed_roles: Vec<String>,
    /// Scopes to ask for. Default `openid profile`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The provider's name on the log-in button. Default `your identity provider`.
    #[serde(default = "default_provider_name")]
    pub provider_name: String,
}

/// A secret read from the configuration: never shown by `Debug`.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("<secret>")
    }
}

fn default_second_factor_roles() -> Vec<String> {
    comity_app::second_factor::SecondFactorPolicy::deciding_roles()
        .iter()
        .map(|role| role.code().to_string())
        .collect()
}
fn default_true() -> bool {
    true
}
fn default_client_secret_env() -> String {
    "COMITY_OIDC_CLIENT_SECRET".into()
}
fn default_role_claim() -> String {
    "comity_roles".into()
}
fn default_username_claim() -> String {
    "preferred_username".into()
}
fn default_display_name_claim() -> String {
    "name".into()
}
fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into()]
}
fn default_provider_name() -> String {
    "your identity provider".into()
}
fn default_idle_minutes() -> u32 {
    30
}

/// The node's TLS certificate. When both paths are set the node serves HTTPS only.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain; relative paths are inside the data directory.
    #[serde(default)]
    pub cert_path: Option<PathBuf>,
    /// PEM private key; relative paths are inside the data directory.
    #[serde(default)]
    pub key_path: Option<PathBuf>,
}

/// How the outbox sender retries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxConfig {
    /// How often the sender looks for due messages when nothing wakes it. Default 500 ms.
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    /// First retry delay. Default 200 ms; doubles each attempt, with jitter.
    #[serde(default = "default_initial_backoff_ms")]
    pub initial_backoff_ms: u64,
    /// Longest retry delay. Default 60 s.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
    /// After this long undelivered, a message becomes a dead letter and an operator
    /// alert is logged. Default 24 h.
    #[serde(default = "default_dead_letter_secs")]
    pub dead_letter_after_secs: u64,
}

/// How the node talks to peers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    /// Allow plain HTTP to peers on loopback addresses (tests and the demo only).
    /// Default false: peers are reached over HTTPS.
    #[serde(default)]
    pub allow_plain_http_loopback: bool,
    /// Whether a receipt saying a message reused a consumed sequence number starts a
    /// resynchronisation with that peer at once (default true; tests turn it off to
    /// look at the conversation while it is out of step).
    #[serde(default = "default_true")]
    pub resync_on_rejection: bool,
    /// Resynchronise every conversation with every peer when the node starts (set for
    /// one start after a restore from a backup; `comity node restore` arranges it).
    #[serde(default)]
    pub resync_on_start: bool,
}

impl Default for FederationConfig {
    fn default() -> Self {
        FederationConfig {
            allow_plain_http_loopback: false,
            resync_on_rejection: true,
            resync_on_start: false,
        }
    }
}

/// What one client may hold of the listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Deadline for the TLS handshake, in milliseconds.
    pub handshake_timeout_ms: u64,
    /// Deadline for a request's headers, and for the next request on an idle
    /// keep-alive connection, in milliseconds.
    pub header_timeout_ms: u64,
    /// Deadline for a request's body, in milliseconds.
    pub body_timeout_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_connections: 512,
            handshake_timeout_ms: 10_000,
            header_timeout_ms: 15_000,
            body_timeout_ms: 30_000,
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_max_body_bytes() -> usize {
    1024 * 1024
}
fn default_poll_ms() -> u64 {
    500
}
fn default_initial_backoff_ms() -> u64 {
    200
}
fn default_max_backoff_ms() -> u64 {
    60_000
}
fn default_dead_letter_secs() -> u64 {
    24 * 60 * 60
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            poll_interval_ms: default_poll_ms(),
            initial_backoff_ms: default_initial_backoff_ms(),
            max_backoff_ms: default_max_backoff_ms(),
            dead_letter_after_secs: default_dead_letter_secs(),
        }
    }
}

/// A configuration that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("invalid configuration in {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An environment variable holds a bad value.
    #[error("invalid environment variable {name}: {message}")]
    Environment {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// The configuration file's name in a data directory.
pub const CONFIG_FILE: &str = "comity.toml";

impl NodeConfig {
    /// A configuration with every default, for `node_id`.
    pub fn new(node_id: impl Into<String>) -> NodeConfig {
        NodeConfig {
            node_id: node_id.into(),
            listen: default_listen(),
            public_url: None,
            database_url: None,
            data_dir: None,
            max_body_bytes: default_max_body_bytes(),
            outbox: OutboxConfig::default(),
            federation: FederationConfig::default(),
            tls: TlsConfig::default(),
            server: ServerConfig::default(),
            second_factor: SecondFactorConfig::default(),
            oidc: None,
            sessions: SessionConfig::default(),
        }
    }

    /// Reads `comity.toml` from a data directory, then applies `COMITY_*` overrides.
    pub fn load(data_dir: &Path) -> Result<NodeConfig, ConfigError> {
        let path = data_dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let mut config: NodeConfig =
            toml::from_str(&text).map_err(|error| ConfigError::Invalid {
                path: path.clone(),
                message: error.to_string(),
            })?;
        config.data_dir = Some(data_dir.to_path_buf());
        config.apply_environment(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    /// Applies `COMITY_LISTEN`, `COMITY_PUBLIC_URL` and `COMITY_DATABASE_URL`.
    pub fn apply_environment(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        if let Some(listen) = lookup("COMITY_LISTEN") {
            self.listen = listen.parse().map_err(|_| ConfigError::Environment {
                name: "COMITY_LISTEN",
                message: format!("`{listen}` is not an address such as 127.0.0.1:8080"),
            })?;
        }
        if let Some(url) = lookup("COMITY_PUBLIC_URL") {
            self.public_url = Some(url);
        }
        if let Some(url) = lookup("COMITY_DATABASE_URL") {
            self.database_url = Some(url);
        }
        Ok(())
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> Option<String> {
        self.database_url.clone().or_else(|| {
            self.data_dir
                .as_ref()
                .map(|dir| comity_store::Store::sqlite_url(&dir.join("comity.db")))
        })
    }

    /// The certificate and key files in effect, if the node serves HTTPS.
    pub fn tls_files(&self) -> Option<(PathBuf, PathBuf)> {
        let resolve = |path: &PathBuf| match &self.data_dir {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.clone(),
        };
        match (&self.tls.cert_path, &self.tls.key_path) {
            (Some(cert), Some(key)) => Some((resolve(cert), resolve(key))),
            _ => None,
        }
    }

    /// Poll interval as a duration.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.outbox.poll_interval_ms.max(10))
    }
}

#[cfg(test)]
mod tests {
    use super::NodeConfig;

    #[test]
    fn the_idle_timeout_defaults_to_30_minutes_and_can_be_set() {
        let default: NodeConfig = toml::from_str("node_id = \"n\"").expect("parses");
        assert_eq!(default.sessions.idle_timeout_minutes, 30);
        let set: NodeConfig =
            toml::from_str("node_id = \"n\"\n[sessions]\nidle_timeout_minutes = 10\n")
                .expect("parses");
        assert_eq!(set.sessions.idle_timeout_minutes, 10);
        let unknown = toml::from_str::<NodeConfig>("node_id = \"n\"\n[sessions]\nidle = 10\n");
        assert!(unknown.is_err(), "unknown settings are refused");
    }
}
