//! The node's side of single sign-on: talking to the OpenID Connect provider. Discovery
//! (`/.well-known/openid-configuration`, whose `issuer` must be the configured one), the
//! authorization URL with PKCE (S256), state and nonce, the code exchange at the token
//! endpoint (client secret by HTTP Basic) and the provider's keys (JWKS). What the
//! answers mean is decided in `comity_app::sso`.

use std::time::Duration;

use comity_app::AppError;
use comity_app::sso::{SsoMapping, SsoStart};
use comity_domain::Role;
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use tokio::sync::OnceCell;

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

/// The provider's metadata this node uses.
#[derive(Debug, Clone, Deserialize)]
struct ProviderMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
}

/// A configured provider.
pub struct OidcClient {
    /// How claims map to users.
    pub mapping: SsoMapping,
    /// The name on the log-in button.
    pub provider_name: String,
    client_secret: String,
    redirect_url: String,
    scopes: Vec<String>,
    http: reqwest::Client,
    metadata: OnceCell<ProviderMetadata>,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OidcClient")
            .field("issuer", &self.mapping.issuer)
            .field("client_id", &self.mapping.client_id)
            .field("redirect_url", &self.redirect_url)
            .finish_non_exhaustive()
    }
}

fn unavailable(what: &str, error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "identity provider: {what}");
    AppError::Unauthenticated(
        "the identity provider cannot be reached or answered unexpectedly; try again later or log in with a local account"
            .into(),
    )
}

/// Whether `url` is HTTPS, or HTTP on a loopback host.
fn acceptable_url(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    match parsed.scheme() {
        "https" => true,
        "http" => matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
        _ => false,
    }
}

impl OidcClient {
    /// A client for `config`; `public_url` gives the default redirect URL. The client
    /// secret comes from the configuration or the variable it names.
    pub fn new(
        config: &OidcConfig,
        public_url: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<OidcClient, String> {
        if !acceptable_url(&config.issuer) {
            return Err(format!(
                "oidc.issuer: `{}` must be an https:// URL (http:// only on loopback)",
                config.issuer
            ));
        }
        let client_secret = config
            .client_secret
            .as_ref()
            .map(|secret| secret.0.clone())
            .or_else(|| lookup(&config.client_secret_env))
            .filter(|secret| !secret.is_empty())
            .ok_or_else(|| {
                format!(
                    "oidc.client_secret: not set, and the variable {} is empty",
                    config.client_secret_env
                )
            })?;
        let authority = config
            .authority
            .parse()
            .map_err(|error: comity_domain::DomainError| format!("oidc.authority: {error}"))?;
        let mut allowed_roles = Vec::new();
        for (index, code) in config.allowed_roles.iter().enumerate() {
            let role: Role = code.parse().map_err(|error: comity_domain::UnknownCode| {
                format!("oidc.allowed_roles[{index}]: {error}")
            })?;
            allowed_roles.push(role);
        }
        let redirect_url = config
            .redirect_url
            .clone()
            .unwrap_or_else(|| format!("{}/login/oidc/callback", public_url.trim_end_matches('/')));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| format!("oidc: cannot build an HTTP client: {error}"))?;
        Ok(OidcClient {
            mapping: SsoMapping {
                issuer: config.issuer.clone(),
                client_id: config.client_id.clone(),
                authority,
                role_claim: config.role_claim.clone(),
                username_claim: config.username_claim.clone(),
                display_name_claim: config.display_name_claim.clone(),
                allowed_roles,
            },
            provider_name: config.provider_name.clone(),
            client_secret,
            redirect_url,
            scopes: config.scopes.clone(),
            http,
            metadata: OnceCell::new(),
        })
    }

    async fn metadata(&self) -> Result<&ProviderMetadata, AppError> {
        self.metadata
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.mapping.issuer.trim_end_matches('/')
                );
                let metadata: ProviderMetadata = self
                    .http
                    .get(&url)
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .map_err(|error| unavailable("discovery failed", error))?
                    .json()
                    .await
                    .map_err(|error| unavailable("discovery document unreadable", error))?;
                if metadata.issuer != self.mapping.issuer {
                    return Err(unavailable(
                        "discovery names another issuer",
                        &metadata.issuer,
                    ));
                }
                if let Some(methods) = &metadata.code_challenge_methods_supported
                    && !methods.iter().any(|method| method == "S256")
                {
                    return Err(unavailable("the provider does not support PKCE S256", ""));
                }
                for endpoint in [
                    &metadata.authorization_endpoint,
                    &metadata.token_endpoint,
                    &metadata.jwks_uri,
                ] {
                    if !acceptable_url(endpoint) {
                        return Err(unavailable("an endpoint is not https", endpoint));
                    }
                }
                Ok(metadata)
            })
            .await
    }

    /// Where to send the browser to log in.
    pub async fn authorization_url(&self, start: &SsoStart) -> Result<String, AppError> {
        let metadata = self.metadata().await?;
        let scope = self.scopes.join(" ");
        let url = reqwest::Url::parse_with_params(
            &metadata.authorization_endpoint,
            [
                ("response_type", "code"),
                ("client_id", self.mapping.client_id.as_str()),
                ("redirect_uri", self.redirect_url.as_str()),
                ("scope", scope.as_str()),
                ("state", start.state.as_str()),
                ("nonce", start.nonce.as_str()),
                ("code_challenge", start.code_challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        )
        .map_err(|error| unavailable("bad authorization endpoint", error))?;
        Ok(url.to_string())
    }

    /// Exchanges an authorization code for the ID token (not yet verified).
    pub async fn exchange_code(&self, code: &str, pkce_verifier: &str) -> Result<String, AppError> {
        let metadata = self.metadata().await?;
        let response = self
            .http
            .post(&metadata.token_endpoint)
            .basic_auth(&self.mapping.client_id, Some(&self.client_secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", self.redirect_url.as_str()),
                ("code_verifier", pkce_verifier),
            ])
            .send()
            .await
            .map_err(|error| unavailable("token endpoint unreachable", error))?;
        if !response.status().is_success() {
            tracing::warn!(status = %response.status(), "the identity provider refused the code");
            return Err(AppError::Unauthenticated(
                "the identity provider refused this log-in; start again".into(),
            ));
        }
        let tokens: TokenResponse = response
            .json()
            .await
            .map_err(|error| unavailable("token response unreadable", error))?;
        tokens
            .id_token
            .ok_or_else(|| unavailable("token response without id_token", ""))
    }

    /// The provider's current signing keys.
    pub async fn keys(&self) -> Result<JwkSet, AppError> {
        let metadata = self.metadata().await?;
        self.http
            .get(&metadata.jwks_uri)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|error| unavailable("JWKS unreachable", error))?
            .json()
            .await
            .map_err(|error| unavailable("JWKS unreadable", error))
    }
}
