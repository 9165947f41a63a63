//! Local accounts, passwords (Argon2id), sessions and the [`Principal`].

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use comity_domain::{AuthorityId, Role, Timestamp};
use comity_store::{SessionRecord, UserRecord};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{App, AppError};

/// How long a session lasts.
pub const SESSION_DAYS: i64 = 1;
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest display name, in characters (as the API's schema says).
pub const MAX_DISPLAY_NAME_CHARS: usize = comity_wire::schema::MAX_DISPLAY_NAME_CHARS;

/// An authenticated user, as every use case sees the caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user.
    pub user: UserRecord,
}

impl Principal {
    /// The authority the user works for.
    pub fn authority(&self) -> &AuthorityId {
        &self.user.authority
    }

    /// Whether the user holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.user.roles.contains(&role)
    }

    /// Fails unless the user holds one of `roles`, naming the rule.
    pub fn require_any(&self, roles: &[Role], to_do: &str) -> Result<(), AppError> {
        if roles.iter().any(|role| self.has(*role)) {
            return Ok(());
        }
        let names: Vec<&str> = roles.iter().map(|role| role.code()).collect();
        Err(AppError::Forbidden(format!(
            "to {to_do} you need one of the roles: {}",
            names.join(", ")
        )))
    }

    /// Fails unless the user holds a role that may read cases and requests (the roles
    /// that work on them, and oversight).
    pub fn require_case_reader(&self) -> Result<(), AppError> {
        if self.user.roles.iter().any(|role| role.may_read_requests()) {
            return Ok(());
        }
        Err(AppError::Forbidden(
            "cases and requests are visible to prosecutors, central authority, executing and oversight roles"
                .into(),
        ))
    }

    /// "Name (role)" for history and messages to peers.
    pub fn display(&self, role: Role) -> String {
        format!("{} ({})", self.user.display_name, role.label())
    }
}

/// A new session: the token is shown to the client once and stored only as a hash.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The bearer token.
    pub token: String,
    /// When it expires.
    pub expires_at: Timestamp,
    /// Who logged in.
    pub user: UserRecord,
}

/// Hashes a password with Argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    comity_domain::text::check_secret(password)
        .map_err(|error| AppError::invalid("password", error.to_string()))?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid(
            "password",
            format!("must have at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AppError::invalid("password", error.to_string()))
}

fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn valid_username(username: &str) -> bool {
    (3..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

impl App {
    /// Checks a user name and password; on success opens a session.
    pub async fn login(&self, username: &str, password: &str) -> Result<NewSession, AppError> {
        let refused = || AppError::Unauthenticated("unknown user name or wrong password".into());
        comity_domain::text::check_identifier(username)
            .map_err(|error| AppError::invalid("username", error.to_string()))?;
        let mut tx = self.store().begin().await?;
        let Some(user) = tx.user_by_username(username).await? else {
            // Spend the same effort as a real check, so timing does not reveal names.
            let _ = hash_password("a-password-that-is-long-enough");
            return Err(refused());
        };
        let parsed = PasswordHash::new(&user.password_hash).map_err(|_| refused())?;
        if !user.active
            || Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_err()
        {
            return Err(refused());
        }
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let now = self.now();
        let expires_at = now.plus_days(SESSION_DAYS);
        tx.insert_session(
            &SessionRecord {
                token_hash: token_hash(&token),
                user_id: user.id.clone(),
                expires_at,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(NewSession {
            token,
            expires_at,
            user,
        })
    }

    /// Finds the principal behind a bearer token or session cookie.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AppError> {
        let mut tx = self.store().begin().await?;
        let session = tx
            .live_session(&token_hash(token), self.now())
            .await?
            .ok_or_else(|| {
                AppError::Unauthenticated("the session is unknown or has expired".into())
            })?;
        let user = tx
            .user(&session.user_id)
            .await?
            .filter(|user| user.active)
            .ok_or_else(|| AppError::Unauthenticated("the account is disabled".into()))?;
        Ok(Principal { user })
    }

    /// Ends the session of `token`.
    pub async fn logout(&self, token: &str) -> Result<(), AppError> {
        let mut tx = self.store().begin().await?;
        tx.delete_session(&token_hash(token)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates a user. Only administrators may, and only for an authority on this node.
    pub async fn create_user(
        &self,
        principal: &Principal,
        input: &comity_wire::api::UserInput,
    ) -> Result<UserRecord, AppError> {
        principal.require_any(&[Role::Administrator], "create users")?;
        self.insert_user(input).await
    }

    /// Creates a user without a principal: for `comity init` and the demo only.
    pub async fn insert_user(
        &self,
        input: &comity_wire::api::UserInput,
    ) -> Result<UserRecord, AppError> {
        if !valid_username(&input.username) {
            return Err(AppError::invalid(
                "username",
                "3-64 characters: letters, digits, '.', '-', '_'",
            ));
        }
        comity_domain::text::check_name(&input.display_name, MAX_DISPLAY_NAME_CHARS)
            .map_err(|error| AppError::invalid("display_name", error.to_string()))?;
        let authority: AuthorityId =
            input
                .authority
                .parse()
                .map_err(|error: comity_domain::DomainError| {
                    AppError::invalid("authority", error.to_string())
                })?;
        let mut roles = Vec::new();
        for (index, code) in input.roles.iter().enumerate() {
            let role: Role = code.parse().map_err(|error: comity_domain::UnknownCode| {
                AppError::invalid(format!("roles[{index}]"), error.to_string())
            })?;
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        if roles.is_empty() {
            return Err(AppError::invalid("roles", "a user needs at least one role"));
        }
        let password_hash = hash_password(&input.password)?;
        let mut tx = self.store().begin().await?;
        let hosted_here = tx
            .authority(&authority)
            .await?
            .is_some_and(|record| record.is_local);
        if !hosted_here {
            return Err(AppError::invalid(
                "authority",
                format!("`{authority}` is not an authority hosted on this node"),
            ));
        }
        let user = UserRecord {
            id: self.new_id(),
            username: input.username.clone(),
            display_name: input.display_name.trim().to_string(),
            authority,
            roles,
            password_hash,
            active: true,
            created_at: self.now(),
        };
        tx.insert_user(&user).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Every user (administrators only).
    pub async fn list_users(&self, principal: &Principal) -> Result<Vec<UserRecord>, AppError> {
        principal.require_any(&[Role::Administrator], "list users")?;
        let mut tx = self.store().begin().await?;
        Ok(tx.users().await?)
    }

    /// Adds or updates an authority (administrators; also `init`, the demo and the trust
    /// list loader, which pass no principal).
    pub async fn register_authority(
        &self,
        authority: comity_domain::Authority,
        node_id: &str,
    ) -> Result<(), AppError> {
        let mut tx = self.store().begin().await?;
        tx.upsert_authority(&comity_store::AuthorityRecord {
            authority,
            is_local: node_id == self.node_id(),
            node_id: node_id.to_string(),
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every authority this node knows.
    pub async fn list_authorities(&self) -> Result<Vec<comity_store::AuthorityRecord>, AppError> {
        let mut tx = self.store().begin().await?;
        Ok(tx.authorities().await?)
    }
}
