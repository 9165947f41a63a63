//! The node's one typed configuration: a TOML file, then environment overrides.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use comity_federation::{FederationConfig, OutboxConfig};
pub use comity_web::{OidcConfig, SecretText};

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

fn default_second_factor_roles() -> Vec<String> {
    comity_app::second_factor::SecondFactorPolicy::deciding_roles()
        .iter()
        .map(|role| role.code().to_string())
        .collect()
}
fn default_true() -> bool {
    true
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
