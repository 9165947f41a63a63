//! Local accounts, log-in and sessions, and the [`Principal`] every use case takes.
//!
//! - Log-in is two small steps so that a second factor can sit between them:
//!   [`App::check_password`] (throttled, Argon2id off the executor, no database
//!   connection held while hashing) and [`App::open_session`]. [`App::login`] runs both.
//! - Sessions are stored as the SHA-256 of their token, with a public id to list and
//!   revoke them; they end at an absolute expiry or after an idle time, and ended ones
//!   are purged whenever a session is opened.
//! - `accounts`: what administrators do with the users of their own authority, and
//!   what every user does with their own password. `password`: the policy and the
//!   hasher. `throttle`: per-account and per-address delays and lockout.

pub(crate) mod accounts;
pub mod password;
pub mod throttle;

use std::net::IpAddr;

use base64::Engine;
use comity_domain::{AuthorityId, Role, Timestamp, UserId};
use comity_store::{SessionRecord, UserRecord};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub use accounts::MAX_DISPLAY_NAME_CHARS;
pub use accounts::UserPatch;
pub use password::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};

use crate::{App, AppError};
use password::Hasher;
use throttle::{Throttle, ThrottlePolicy};

/// How long a session lasts at most, however active.
pub const SESSION_DAYS: i64 = 1;
/// The default idle timeout: a session unused this long ends.
pub const DEFAULT_IDLE_MINUTES: i64 = 30;
/// A session's last use is written at most this often.
const TOUCH_EVERY_MS: i64 = 60 * 1_000;

/// An authenticated user, as every use case sees the caller. Its fields are private and
/// [`App::authenticate`] (with [`App::authenticate_for_password_change`]) is the only way
/// to make one: a use case that takes a `Principal` knows the caller logged in. It holds
/// what handlers need to know about the caller, never the password hash.
#[derive(Debug, Clone)]
pub struct Principal {
    user_id: UserId,
    username: String,
    display_name: String,
    authority: AuthorityId,
    roles: Vec<Role>,
    must_change_password: bool,
    session_id: String,
}

impl Principal {
    /// The principal of `user`, who came with the session `session_id`.
    fn of(user: &UserRecord, session_id: String) -> Principal {
        Principal {
            user_id: user.id.clone(),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            authority: user.authority.clone(),
            roles: user.roles.clone(),
            must_change_password: user.must_change_password,
            session_id,
        }
    }

    /// The user's id on this node.
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// The user's log-in name (for logs and the authenticator app's label).
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The user's display name.
    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    /// The roles the user holds.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// Whether an administrator reset the password and the user has yet to choose one.
    pub fn must_change_password(&self) -> bool {
        self.must_change_password
    }

    /// The session the user came with (its public id).
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The authority the user works for.
    pub fn authority(&self) -> &AuthorityId {
        &self.authority
    }

    /// Whether the user holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
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
        if self.roles.iter().any(|role| role.may_read_requests()) {
            return Ok(());
        }
        Err(AppError::Forbidden(
            "cases and requests are visible to prosecutors, central authority, executing and oversight roles"
                .into(),
        ))
    }

    /// "Name (role)" for history and messages to peers.
    pub fn display(&self, role: Role) -> String {
        format!("{} ({})", self.display_name, role.label())
    }
}

/// A new session: the token is shown to the client once and stored only as a hash.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The bearer token.
    pub token: String,
    /// The session's public id.
    pub session_id: String,
    /// When it expires at the latest.
    pub expires_at: Timestamp,
    /// Who logged in.
    pub user: UserRecord,
}

/// The account machinery an [`App`] carries: session lifetimes, the hasher and the
/// log-in throttles.
#[derive(Debug)]
pub(crate) struct AccountState {
    idle_ms: i64,
    hasher: Hasher,
    by_account: Throttle,
    by_address: Throttle,
}

impl AccountState {
    pub(crate) fn new(idle_minutes: i64) -> AccountState {
        AccountState {
            idle_ms: idle_minutes.max(1) * 60 * 1_000,
            hasher: Hasher::for_this_machine(),
            by_account: Throttle::new(ThrottlePolicy::ACCOUNT),
            by_address: Throttle::new(ThrottlePolicy::ADDRESS),
        }
    }
}

fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The throttle key of a user name as typed: bounded in length, whatever was sent.
fn account_key(username: &str) -> String {
    username.chars().take(64).collect()
}

fn throttled(retry_after_ms: i64) -> AppError {
    let seconds = u64::try_from((retry_after_ms + 999) / 1_000)
        .unwrap_or(1)
        .max(1);
    AppError::Throttled {
        retry_after_secs: seconds,
        message: format!("too many failed log-ins; wait {seconds} seconds before trying again"),
    }
}

impl App {
    /// The same app with another idle timeout for sessions (default 30 minutes).
    pub fn with_idle_timeout_minutes(mut self, minutes: i64) -> App {
        self.accounts = std::sync::Arc::new(AccountState::new(minutes));
        self
    }

    /// The idle timeout in effect, in milliseconds.
    pub fn idle_timeout_ms(&self) -> i64 {
        self.accounts.idle_ms
    }

    /// Checks a user name and password; on success opens a session. `address` is the
    /// client's, for throttling (None when unknown).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        second_factor: &crate::second_factor::SecondFactorProof,
        address: Option<IpAddr>,
    ) -> Result<NewSession, AppError> {
        let user = self.check_password(username, password, address).await?;
        // Second factor (second_factor.rs): the one check between password and session.
        // A wrong code counts as a failed log-in for the account's throttle.
        let tx = self.store().begin().await?;
        let mut tx = match self.check_second_factor(tx, &user, second_factor).await {
            Ok(tx) => tx,
            Err(error) => {
                if matches!(error, AppError::SecondFactorRejected { .. }) {
                    self.accounts
                        .by_account
                        .record_failure(&account_key(username), self.now());
                }
                return Err(error);
            }
        };
        let session = self.open_session_in(&mut tx, &user).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// The first log-in step: the password is right for an active account. Throttled per
    /// account name and per address; Argon2 runs on the blocking pool with no database
    /// connection held; an unknown name costs the same as a known one. Failures are
    /// logged, untrusted strings escaped.
    pub async fn check_password(
        &self,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<UserRecord, AppError> {
        // A NUL or other control character would reach the database (PostgreSQL refuses
        // it in text): refused here, naming the field.
        comity_domain::text::check_identifier(username)
            .map_err(|error| AppError::invalid("username", error.to_string()))?;
        let accounts = &self.accounts;
        let account = account_key(username);
        let address_key = address.map(|address| address.to_string());
        let now = self.now();
        let blocked = accounts
            .by_account
            .check(&account, now)
            .and(match &address_key {
                Some(key) => accounts.by_address.check(key, now),
                None => Ok(()),
            });
        if let Err(retry) = blocked {
            tracing::warn!(username = ?username, address = ?address, retry_after_ms = retry.0, "log-in refused: throttled");
            return Err(throttled(retry.0));
        }
        accounts.by_account.record_failure(&account, now);
        if let Some(key) = &address_key {
            accounts.by_address.record_failure(key, now);
        }
        let user = {
            let mut tx = self.store().begin().await?;
            let user = tx.user_by_username(username).await?;
            drop(tx);
            user
        };
        let matches = accounts
            .hasher
            .verify(
                user.as_ref().map(|user| user.password_hash.as_str()),
                password,
            )
            .await?;
        match user {
            Some(user) if matches && user.active => {
                accounts.by_account.clear(&account);
                if let Some(key) = &address_key {
                    accounts.by_address.forgive(key);
                }
                Ok(user)
            }
            user => {
                let reason = match &user {
                    None => "unknown user name",
                    Some(user) if !user.active => "account disabled",
                    Some(_) => "wrong password",
                };
                tracing::warn!(username = ?username, address = ?address, reason, "log-in refused");
                Err(AppError::Unauthenticated(
                    "unknown user name or wrong password".into(),
                ))
            }
        }
    }

    /// Opens a session for `user` (whose credentials were checked), and purges the
    /// sessions of everyone that have ended.
    pub async fn open_session(&self, user: &UserRecord) -> Result<NewSession, AppError> {
        let mut tx = self.store().begin().await?;
        let session = self.open_session_in(&mut tx, user).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// [`App::open_session`] in the caller's transaction (password log-in after the
    /// second factor, and single sign-on).
    pub(crate) async fn open_session_in(
        &self,
        tx: &mut comity_store::Tx,
        user: &UserRecord,
    ) -> Result<NewSession, AppError> {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let now = self.now();
        let session = SessionRecord {
            id: self.new_id(),
            token_hash: token_hash(&token),
            user_id: user.id.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: now.plus_days(SESSION_DAYS),
        };
        let purged = tx.purge_sessions(now, self.idle_since(now)).await?;
        tx.insert_session(&session).await?;
        if purged > 0 {
            tracing::debug!(purged, "ended sessions purged");
        }
        Ok(NewSession {
            token,
            session_id: session.id,
            expires_at: session.expires_at,
            user: user.clone(),
        })
    }

    /// Finds the principal behind a bearer token or session cookie. A user whose
    /// password was reset gets [`AppError::PasswordChangeRequired`] until they change it.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AppError> {
        let (user, session_id) = self.session_user(token).await?;
        if user.must_change_password {
            return Err(AppError::PasswordChangeRequired);
        }
        // Second factor (second_factor.rs): a user who must enrol may only enrol.
        let mut tx = self.store().begin().await?;
        self.require_enrolled(&mut tx, &user).await?;
        Ok(Principal::of(&user, session_id))
    }

    /// [`App::authenticate`], letting through a user who must change their password:
    /// for the password change itself and for "who am I".
    pub async fn authenticate_for_password_change(
        &self,
        token: &str,
    ) -> Result<Principal, AppError> {
        let (user, session_id) = self.session_user(token).await?;
        Ok(Principal::of(&user, session_id))
    }

    /// The active user behind a live session, and the session's public id.
    async fn session_user(&self, token: &str) -> Result<(UserRecord, String), AppError> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let session = tx
            .live_session(&token_hash(token), now, self.idle_since(now))
            .await?
            .ok_or_else(|| {
                AppError::Unauthenticated("the session is unknown or has expired".into())
            })?;
        let user = tx
            .user(&session.user_id)
            .await?
            .filter(|user| user.active)
            .ok_or_else(|| AppError::Unauthenticated("the account is disabled".into()))?;
        if now.millis() - session.last_seen_at.millis() >= TOUCH_EVERY_MS {
            tx.touch_session(&session.id, now).await?;
            tx.commit().await?;
        }
        Ok((user, session.id))
    }

    /// Ends the session of `token`.
    pub async fn logout(&self, token: &str) -> Result<(), AppError> {
        let mut tx = self.store().begin().await?;
        tx.delete_session(&token_hash(token)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes every session that has expired or been idle too long; returns how many.
    pub async fn purge_sessions(&self) -> Result<u64, AppError> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let purged = tx.purge_sessions(now, self.idle_since(now)).await?;
        tx.commit().await?;
        Ok(purged)
    }

    /// Adds or updates an authority, with no principal: reached through
    /// [`crate::Bootstrap`] (`init`, the demo, the trust list loader).
    pub(crate) async fn register_authority(
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

    fn idle_since(&self, now: Timestamp) -> Timestamp {
        Timestamp(now.millis() - self.accounts.idle_ms)
    }
}
