//! Single sign-on with OpenID Connect (authorization code flow with PKCE S256): the
//! parts that need no network. The node fetches the provider's metadata, keys and tokens
//! (`comity-node/src/sso.rs`); this module
//!
//! - starts a log-in ([`App::sso_begin`]): a random `state`, `nonce` and PKCE verifier,
//!   kept in the database (the state as a digest) for ten minutes;
//! - takes it back once at the callback ([`App::sso_take_login`]);
//! - checks the ID token ([`verify_id_token`]): signature against the provider's JWKS
//!   (asymmetric algorithms only), issuer, audience, expiry and nonce;
//! - maps the claims to a local user ([`App::sso_complete`]): the username claim names
//!   the account, the role claim grants roles, but only those on the configured
//!   allow-list, in the configured authority. A subject seen the first time gets an
//!   account just in time; later log-ins bring its roles in step with the provider. An
//!   existing local account is never taken over by a provider's subject.

use comity_domain::{AuthorityId, Role, Timestamp};
use comity_store::{ExternalIdentity, SsoLoginRecord, UserRecord};
pub use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::RngCore;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::auth::NewSession;
use crate::{App, AppError};

/// How long a started log-in may take, in milliseconds.
pub const SSO_LOGIN_TTL_MS: i64 = 10 * 60 * 1000;
/// Clock skew allowed when checking `exp` and `iat`, in seconds.
const LEEWAY_SECONDS: i64 = 60;
/// What a password hash column holds for an account that logs in only through the
/// provider: not a PHC string, so no password ever verifies.
const NO_PASSWORD: &str = "!single-sign-on";

/// How the provider's claims map to local users.
#[derive(Debug, Clone)]
pub struct SsoMapping {
    /// The provider's issuer, exactly as in its ID tokens.
    pub issuer: String,
    /// This node's client id at the provider (the ID token's audience).
    pub client_id: String,
    /// The authority every user from this provider belongs to (hosted on this node).
    pub authority: AuthorityId,
    /// The claim that holds the roles (an array of role codes, or one code).
    pub role_claim: String,
    /// The claim that holds the user name.
    pub username_claim: String,
    /// The claim that holds the display name (falls back to the user name).
    pub display_name_claim: String,
    /// The only roles the provider may grant.
    pub allowed_roles: Vec<Role>,
}

/// A started log-in: what goes into the authorization request.
#[derive(Clone)]
pub struct SsoStart {
    /// The `state` parameter (also kept in a cookie by the browser).
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE `code_challenge` (S256).
    pub code_challenge: String,
}

impl std::fmt::Debug for SsoStart {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SsoStart(<state, nonce, challenge>)")
    }
}

/// A log-in taken back at the callback.
#[derive(Clone)]
pub struct SsoPending {
    /// The nonce to expect in the ID token.
    pub nonce: String,
    /// The PKCE verifier to send with the code.
    pub pkce_verifier: String,
}

impl std::fmt::Debug for SsoPending {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SsoPending(<nonce, verifier>)")
    }
}

fn random_text() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn digest_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The PKCE S256 challenge of a verifier (RFC 7636 section 4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn refused(reason: impl Into<String>) -> AppError {
    AppError::Unauthenticated(reason.into())
}

/// Checks an ID token: signature by a key of `keys` with an asymmetric algorithm,
/// `iss`, `aud` (and `azp` when there are several audiences), `exp` and `iat` against
/// `now`, and `nonce`. Returns the claims.
pub fn verify_id_token(
    id_token: &str,
    keys: &JwkSet,
    mapping: &SsoMapping,
    nonce: &str,
    now: Timestamp,
) -> Result<Map<String, Value>, AppError> {
    let header = jsonwebtoken::decode_header(id_token)
        .map_err(|_| refused("the identity provider's token is malformed"))?;
    let algorithm = header.alg;
    if !matches!(
        algorithm,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
            | Algorithm::ES256
            | Algorithm::ES384
            | Algorithm::EdDSA
    ) {
        return Err(refused(
            "the identity provider's token is not signed with an accepted algorithm",
        ));
    }
    let jwk = match header.kid.as_deref() {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
    .ok_or_else(|| refused("the identity provider's token is signed by an unknown key"))?;
    let key = DecodingKey::from_jwk(jwk)
        .map_err(|_| refused("the identity provider publishes a key this node cannot use"))?;
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[mapping.issuer.as_str()]);
    validation.set_audience(&[mapping.client_id.as_str()]);
    // Expiry is checked below against the application's clock.
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["iss", "aud", "sub", "exp"]);
    let data = jsonwebtoken::decode::<Map<String, Value>>(id_token, &key, &validation).map_err(
        |error| {
            tracing::warn!(%error, "an ID token was refused");
            refused("the identity provider's token does not verify")
        },
    )?;
    let claims = data.claims;
    let now_seconds = now.millis().div_euclid(1000);
    let expires = claims
        .get("exp")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MIN);
    if expires + LEEWAY_SECONDS <= now_seconds {
        return Err(refused("the identity provider's token has expired"));
    }
    if let Some(issued) = claims.get("iat").and_then(Value::as_i64)
        && issued - LEEWAY_SECONDS > now_seconds
    {
        return Err(refused(
            "the identity provider's token is issued in the future",
        ));
    }
    if let Some(Value::Array(audiences)) = claims.get("aud")
        && audiences.len() > 1
        && claims.get("azp").and_then(Value::as_str) != Some(mapping.client_id.as_str())
    {
        return Err(refused(
            "the identity provider's token is meant for another party",
        ));
    }
    let token_nonce = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
    if token_nonce.is_empty() || token_nonce != nonce {
        return Err(refused(
            "the identity provider's token is not for this log-in",
        ));
    }
    Ok(claims)
}

/// The roles `claims` grant under `mapping`: codes that are not roles, and roles not on
/// the allow-list, are left out.
pub fn granted_roles(claims: &Map<String, Value>, mapping: &SsoMapping) -> Vec<Role> {
    let codes: Vec<&str> = match claims.get(&mapping.role_claim) {
        Some(Value::Array(values)) => values.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(code)) => code.split([' ', ',']).collect(),
        _ => Vec::new(),
    };
    let mut roles = Vec::new();
    for code in codes {
        match code.parse::<Role>() {
            Ok(role) if mapping.allowed_roles.contains(&role) => {
                if !roles.contains(&role) {
                    roles.push(role);
                }
            }
            _ => tracing::info!(
                code,
                "a role claimed by the identity provider is not granted"
            ),
        }
    }
    roles
}

impl App {
    /// Starts a log-in through the identity provider.
    pub async fn sso_begin(&self) -> Result<SsoStart, AppError> {
        let state = random_text();
        let nonce = random_text();
        let pkce_verifier = random_text();
        let mut tx = self.store().begin().await?;
        tx.insert_sso_login(&SsoLoginRecord {
            state_hash: digest_hex(&state),
            nonce: nonce.clone(),
            pkce_verifier: pkce_verifier.clone(),
            created_at: self.now(),
        })
        .await?;
        tx.commit().await?;
        Ok(SsoStart {
            state,
            nonce,
            code_challenge: pkce_challenge(&pkce_verifier),
        })
    }

    /// Takes back the log-in `state` names, once; refused when unknown, used or older
    /// than ten minutes.
    pub async fn sso_take_login(&self, state: &str) -> Result<SsoPending, AppError> {
        let mut tx = self.store().begin().await?;
        let now = self.now();
        let record = tx
            .take_sso_login(
                &digest_hex(state),
                Timestamp(now.millis() - SSO_LOGIN_TTL_MS),
            )
            .await?;
        tx.commit().await?;
        let record = record.ok_or_else(|| {
            refused(
                "this log-in was not started here, was used already or has expired; start again",
            )
        })?;
        Ok(SsoPending {
            nonce: record.nonce,
            pkce_verifier: record.pkce_verifier,
        })
    }

    /// Opens a session for the user verified `claims` describe, creating the account the
    /// first time (just in time) and bringing its roles in step with the provider later.
    pub async fn sso_complete(
        &self,
        mapping: &SsoMapping,
        claims: &Map<String, Value>,
    ) -> Result<NewSession, AppError> {
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|subject| !subject.is_empty() && subject.len() <= 255)
            .ok_or_else(|| refused("the identity provider's token names no subject"))?;
        let roles = granted_roles(claims, mapping);
        if roles.is_empty() {
            return Err(AppError::Forbidden(format!(
                "the identity provider grants this account no role this node accepts (claim `{}`)",
                mapping.role_claim
            )));
        }
        let mut tx = self.store().begin().await?;
        let user = match tx.external_identity(&mapping.issuer, subject).await? {
            Some(identity) => {
                let mut user = tx
                    .user(&identity.user_id)
                    .await?
                    .filter(|user| user.active)
                    .ok_or_else(|| refused("this account is disabled on this node"))?;
                if user.roles != roles {
                    tx.set_user_roles(&user.id, &roles).await?;
                    user.roles = roles;
                }
                user
            }
            None => {
                let username = claims
                    .get(&mapping.username_claim)
                    .and_then(Value::as_str)
                    .filter(|name| crate::auth::accounts::valid_username(name))
                    .ok_or_else(|| {
                        AppError::Forbidden(format!(
                            "the identity provider's claim `{}` is not a valid user name here",
                            mapping.username_claim
                        ))
                    })?;
                if tx.user_by_username(username).await?.is_some() {
                    return Err(AppError::Forbidden(format!(
                        "a local account named `{username}` exists; an administrator must resolve the clash"
                    )));
                }
                let hosted_here = tx
                    .authority(&mapping.authority)
                    .await?
                    .is_some_and(|record| record.is_local);
                if !hosted_here {
                    tracing::error!(authority = %mapping.authority, "the single sign-on authority is not hosted on this node");
                    return Err(AppError::Forbidden(
                        "single sign-on is configured for an authority this node does not host"
                            .into(),
                    ));
                }
                let display_name = claims
                    .get(&mapping.display_name_claim)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|name| !name.is_empty() && name.chars().count() <= 200)
                    .unwrap_or(username);
                let user = UserRecord {
                    id: self.new_typed_id(),
                    username: username.to_string(),
                    display_name: display_name.to_string(),
                    authority: mapping.authority.clone(),
                    roles,
                    password_hash: NO_PASSWORD.to_string(),
                    active: true,
                    must_change_password: false,
                    created_at: self.now(),
                };
                tx.insert_user(&user).await?;
                tx.insert_external_identity(
                    &ExternalIdentity {
                        issuer: mapping.issuer.clone(),
                        subject: subject.to_string(),
                        user_id: user.id.to_string(),
                    },
                    self.now(),
                )
                .await?;
                tracing::info!(user = %user.username, "account created at its first single sign-on");
                user
            }
        };
        let session = self.open_session_in(&mut tx, &user).await?;
        tx.commit().await?;
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn only_allowed_known_roles_are_granted() {
        let mapping = SsoMapping {
            issuer: "https://idp.example".into(),
            client_id: "comity".into(),
            authority: "es-ca".parse().expect("authority id"),
            role_claim: "comity_roles".into(),
            username_claim: "preferred_username".into(),
            display_name_claim: "name".into(),
            allowed_roles: vec![Role::Supervisor, Role::RequestingProsecutor],
        };
        let claims: Map<String, Value> = serde_json::from_str(
            r#"{"comity_roles": ["supervisor", "administrator", "made_up", "supervisor"]}"#,
        )
        .expect("json");
        assert_eq!(granted_roles(&claims, &mapping), vec![Role::Supervisor]);
        let none: Map<String, Value> =
            serde_json::from_str(r#"{"comity_roles": 7}"#).expect("json");
        assert!(granted_roles(&none, &mapping).is_empty());
    }
}
