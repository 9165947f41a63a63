//! The queries of the second factor (TOTP secrets, recovery codes) and of single sign-on
//! (log-ins under way, external identities), kept apart from `tx.rs`.

use comity_domain::Timestamp;
use sqlx::Row;

use crate::{StoreError, Tx};

/// A user's TOTP enrolment.
#[derive(Clone, PartialEq, Eq)]
pub struct SecondFactorRecord {
    /// Whose.
    pub user_id: String,
    /// The secret, sealed by the node; opened only by `comity-app`.
    pub sealed_secret: String,
    /// When the first valid code confirmed it; `None` while the enrolment is pending.
    pub confirmed_at: Option<Timestamp>,
    /// The last time step a code was accepted for (replay protection).
    pub last_used_step: i64,
    /// Wrong codes since the last right one.
    pub failed_attempts: i64,
    /// When the last wrong code came.
    pub last_failure_at: Option<Timestamp>,
}

impl std::fmt::Debug for SecondFactorRecord {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SecondFactorRecord")
            .field("user_id", &self.user_id)
            .field("sealed_secret", &"<sealed>")
            .field("confirmed_at", &self.confirmed_at)
            .field("last_used_step", &self.last_used_step)
            .field("failed_attempts", &self.failed_attempts)
            .finish()
    }
}

/// An OpenID Connect log-in started and not yet completed.
#[derive(Clone, PartialEq, Eq)]
pub struct SsoLoginRecord {
    /// SHA-256 (hex) of the `state` parameter.
    pub state_hash: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier.
    pub pkce_verifier: String,
    /// When it started.
    pub created_at: Timestamp,
}

impl std::fmt::Debug for SsoLoginRecord {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SsoLoginRecord")
            .field("state_hash", &self.state_hash)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// An identity provider's subject and the local user it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    /// The provider's issuer URL.
    pub issuer: String,
    /// The provider's subject identifier.
    pub subject: String,
    /// The local user.
    pub user_id: String,
}

impl Tx {
    /// A user's TOTP enrolment, confirmed or pending.
    pub async fn second_factor(
        &mut self,
        user_id: &str,
    ) -> Result<Option<SecondFactorRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, sealed_secret, confirmed_at, last_used_step, failed_attempts, last_failure_at \
             FROM second_factors WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(self.connection())
        .await?;
        row.map(|row| {
            Ok(SecondFactorRecord {
                user_id: row.try_get("user_id")?,
                sealed_secret: row.try_get("sealed_secret")?,
                confirmed_at: row
                    .try_get::<Option<i64>, _>("confirmed_at")?
                    .map(Timestamp),
                last_used_step: row.try_get("last_used_step")?,
                failed_attempts: row.try_get("failed_attempts")?,
                last_failure_at: row
                    .try_get::<Option<i64>, _>("last_failure_at")?
                    .map(Timestamp),
            })
        })
        .transpose()
    }

    /// Starts (or restarts) a pending enrolment, unless a confirmed one exists: then
    /// nothing changes and `false` is returned.
    pub async fn begin_second_factor(
        &mut self,
        user_id: &str,
        sealed_secret: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        sqlx::query("DELETE FROM second_factors WHERE user_id = $1 AND confirmed_at IS NULL")
            .bind(user_id)
            .execute(self.connection())
            .await?;
        let result = sqlx::query(
            "INSERT INTO second_factors (user_id, sealed_secret, confirmed_at, last_used_step, failed_attempts, last_failure_at, created_at) \
             VALUES ($1, $2, NULL, 0, 0, NULL, $3) ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(sealed_secret)
        .bind(now.millis())
        .execute(self.connection())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Records that a code for `step` was accepted: succeeds only if no code for this or
    /// a later step was accepted before (so a code works once). Confirms a pending
    /// enrolment at `now` when `confirm` is set.
    pub async fn use_second_factor_step(
        &mut self,
        user_id: &str,
        step: i64,
        confirm: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        let result = match confirm {
            Some(now) => {
                sqlx::query(
                    "UPDATE second_factors SET last_used_step = $1, confirmed_at = $2 \
                     WHERE user_id = $3 AND last_used_step < $1 AND confirmed_at IS NULL",
                )
                .bind(step)
                .bind(now.millis())
                .bind(user_id)
                .execute(self.connection())
                .await?
            }
            None => {
                sqlx::query(
                    "UPDATE second_factors SET last_used_step = $1, failed_attempts = 0, last_failure_at = NULL \
                     WHERE user_id = $2 AND last_used_step < $1 AND confirmed_at IS NOT NULL",
                )
                .bind(step)
                .bind(user_id)
                .execute(self.connection())
                .await?
            }
        };
        Ok(result.rows_affected() == 1)
    }

    /// Counts a wrong code.
    pub async fn record_second_factor_failure(
        &mut self,
        user_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE second_factors SET failed_attempts = failed_attempts + 1, last_failure_at = $1 WHERE user_id = $2",
        )
        .bind(now.millis())
        .bind(user_id)
        .execute(self.connection())
        .await?;
        Ok(())
    }

    /// Replaces a user's recovery codes with these digests.
    pub async fn replace_recovery_codes(
        &mut self,
        user_id: &str,
        code_hashes: &[String],
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(self.connection())
            .await?;
        for code_hash in code_hashes {
            sqlx::query(
                "INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)",
            )
            .bind(user_id)
            .bind(code_hash.as_str())
            .execute(self.connection())
            .await?;
        }
        Ok(())
    }

    /// Marks an unused recovery code used; `false` if there is no such unused code.
    pub async fn use_recovery_code(
        &mut self,
        user_id: &str,
        code_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now.millis())
        .bind(user_id)
        .bind(code_hash)
        .execute(self.connection())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// How many unused recovery codes a user has left.
    pub async fn unused_recovery_codes(&mut self, user_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(self.connection())
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Removes a user's second factor and recovery codes and ends their sessions, so
    /// they enrol again at their next log-in.
    pub async fn reset_second_factor(&mut self, user_id: &str) -> Result<(), StoreError> {
        for statement in [
            "DELETE FROM recovery_codes WHERE user_id = $1",
            "DELETE FROM second_factors WHERE user_id = $1",
            "DELETE FROM sessions WHERE user_id = $1",
        ] {
            sqlx::query(statement)
                .bind(user_id)
                .execute(self.connection())
                .await?;
        }
        Ok(())
    }

    /// Whether the user signs in through an identity provider.
    pub async fn has_external_identity(&mut self, user_id: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM external_identities WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(self.connection())
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// Stores a log-in under way.
    pub async fn insert_sso_login(&mut self, login: &SsoLoginRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sso_logins (state_hash, nonce, pkce_verifier, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(login.state_hash.as_str())
        .bind(login.nonce.as_str())
        .bind(login.pkce_verifier.as_str())
        .bind(login.created_at.millis())
        .execute(self.connection())
        .await?;
        Ok(())
    }

    /// Takes (reads and deletes) the log-in under way with this state digest, and drops
    /// every one started before `stale_before`.
    pub async fn take_sso_login(
        &mut self,
        state_hash: &str,
        stale_before: Timestamp,
    ) -> Result<Option<SsoLoginRecord>, StoreError> {
        sqlx::query("DELETE FROM sso_logins WHERE created_at < $1")
            .bind(stale_before.millis())
            .execute(self.connection())
            .await?;
        let row = sqlx::query(
            "SELECT state_hash, nonce, pkce_verifier, created_at FROM sso_logins WHERE state_hash = $1",
        )
        .bind(state_hash)
        .fetch_optional(self.connection())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM sso_logins WHERE state_hash = $1")
            .bind(state_hash)
            .execute(self.connection())
            .await?;
        Ok(Some(SsoLoginRecord {
            state_hash: row.try_get("state_hash")?,
            nonce: row.try_get("nonce")?,
            pkce_verifier: row.try_get("pkce_verifier")?,
            created_at: Timestamp(row.try_get("created_at")?),
        }))
    }

    /// The local user an identity provider's subject is, if known.
    pub async fn external_identity(
        &mut self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<ExternalIdentity>, StoreError> {
        let row = sqlx::query(
            "SELECT issuer, subject, user_id FROM external_identities WHERE issuer = $1 AND subject = $2",
        )
        .bind(issuer)
        .bind(subject)
        .fetch_optional(self.connection())
        .await?;
        row.map(|row| {
            Ok(ExternalIdentity {
                issuer: row.try_get("issuer")?,
                subject: row.try_get("subject")?,
                user_id: row.try_get("user_id")?,
            })
        })
        .transpose()
    }

    /// Links a provider's subject to a local user.
    pub async fn insert_external_identity(
        &mut self,
        identity: &ExternalIdentity,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO external_identities (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(identity.issuer.as_str())
        .bind(identity.subject.as_str())
        .bind(identity.user_id.as_str())
        .bind(now.millis())
        .execute(self.connection())
        .await?;
        Ok(())
    }

    /// Sets a user's roles (single sign-on keeps them in step with the provider's claims).
    pub async fn set_user_roles(
        &mut self,
        user_id: &str,
        roles: &[comity_domain::Role],
    ) -> Result<(), StoreError> {
        let codes: Vec<&str> = roles.iter().map(|role| role.code()).collect();
        sqlx::query("UPDATE users SET roles = $1 WHERE id = $2")
            .bind(codes.join(","))
            .bind(user_id)
            .execute(self.connection())
            .await?;
        Ok(())
    }
}
