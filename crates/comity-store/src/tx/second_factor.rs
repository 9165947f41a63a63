//! The second factor (`second_factors`, `recovery_codes`) and single sign-on
//! (`sso_logins`, `external_identities`): their records, queries and row reading.

use comity_domain::Timestamp;

use super::{Columns, Record, Tx, select};
use crate::StoreError;

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

impl Record for SecondFactorRecord {
    const TABLE: &'static str = "second_factors";
    const COLUMNS: &'static str = "user_id, sealed_secret, confirmed_at, last_used_step, \
        failed_attempts, last_failure_at";

    fn read(row: &Columns<'_>) -> Result<Self, StoreError> {
        Ok(SecondFactorRecord {
            user_id: row.text("user_id")?,
            sealed_secret: row.text("sealed_secret")?,
            confirmed_at: row.optional_time("confirmed_at")?,
            last_used_step: row.int("last_used_step")?,
            failed_attempts: row.int("failed_attempts")?,
            last_failure_at: row.optional_time("last_failure_at")?,
        })
    }
}

impl Record for SsoLoginRecord {
    const TABLE: &'static str = "sso_logins";
    const COLUMNS: &'static str = "state_hash, nonce, pkce_verifier, created_at";

    fn read(row: &Columns<'_>) -> Result<Self, StoreError> {
        Ok(SsoLoginRecord {
            state_hash: row.text("state_hash")?,
            nonce: row.text("nonce")?,
            pkce_verifier: row.text("pkce_verifier")?,
            created_at: row.time("created_at")?,
        })
    }
}

impl Record for ExternalIdentity {
    const TABLE: &'static str = "external_identities";
    const COLUMNS: &'static str = "issuer, subject, user_id";

    fn read(row: &Columns<'_>) -> Result<Self, StoreError> {
        Ok(ExternalIdentity {
            issuer: row.text("issuer")?,
            subject: row.text("subject")?,
            user_id: row.text("user_id")?,
        })
    }
}

impl Tx {
    /// A user's TOTP enrolment, confirmed or pending.
    pub async fn second_factor(
        &mut self,
        user_id: &str,
    ) -> Result<Option<SecondFactorRecord>, StoreError> {
        let sql = select::<SecondFactorRecord>("WHERE user_id = $1");
        self.one(sqlx::query(&sql).bind(user_id)).await
    }

    /// Starts (or restarts) a pending enrolment, unless a confirmed one exists: then
    /// nothing changes and `false` is returned.
    pub async fn begin_second_factor(
        &mut self,
        user_id: &str,
        sealed_secret: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.run(
            sqlx::query("DELETE FROM second_factors WHERE user_id = $1 AND confirmed_at IS NULL")
                .bind(user_id),
        )
        .await?;
        let result = self
            .run(
                sqlx::query(
                    "INSERT INTO second_factors (user_id, sealed_secret, confirmed_at, last_used_step, \
                     failed_attempts, last_failure_at, created_at) \
                     VALUES ($1, $2, NULL, 0, 0, NULL, $3) ON CONFLICT DO NOTHING",
                )
                .bind(user_id)
                .bind(sealed_secret)
                .bind(now.millis()),
            )
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
        let query = match confirm {
            Some(now) => sqlx::query(
                "UPDATE second_factors SET last_used_step = $1, confirmed_at = $2 \
                 WHERE user_id = $3 AND last_used_step < $1 AND confirmed_at IS NULL",
            )
            .bind(step)
            .bind(now.millis())
            .bind(user_id),
            None => sqlx::query(
                "UPDATE second_factors SET last_used_step = $1, failed_attempts = 0, \
                 last_failure_at = NULL \
                 WHERE user_id = $2 AND last_used_step < $1 AND confirmed_at IS NOT NULL",
            )
            .bind(step)
            .bind(user_id),
        };
        Ok(self.run(query).await?.rows_affected() == 1)
    }

    /// Counts a wrong code.
    pub async fn record_second_factor_failure(
        &mut self,
        user_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(
            sqlx::query(
                "UPDATE second_factors SET failed_attempts = failed_attempts + 1, \
                 last_failure_at = $1 WHERE user_id = $2",
            )
            .bind(now.millis())
            .bind(user_id),
        )
        .await?;
        Ok(())
    }

    /// Replaces a user's recovery codes with these digests.
    pub async fn replace_recovery_codes(
        &mut self,
        user_id: &str,
        code_hashes: &[String],
    ) -> Result<(), StoreError> {
        self.run(sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id))
            .await?;
        for code_hash in code_hashes {
            self.run(
                sqlx::query(
                    "INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)",
                )
                .bind(user_id)
                .bind(code_hash.as_str()),
            )
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
        let result = self
            .run(
                sqlx::query(
                    "UPDATE recovery_codes SET used_at = $1 \
                     WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
                )
                .bind(now.millis())
                .bind(user_id)
                .bind(code_hash),
            )
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// How many unused recovery codes a user has left.
    pub async fn unused_recovery_codes(&mut self, user_id: &str) -> Result<i64, StoreError> {
        self.number(
            "recovery_codes",
            sqlx::query(
                "SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
            )
            .bind(user_id),
        )
        .await
    }

    /// Removes a user's second factor and recovery codes and ends their sessions, so
    /// they enrol again at their next log-in.
    pub async fn reset_second_factor(&mut self, user_id: &str) -> Result<(), StoreError> {
        for statement in [
            "DELETE FROM recovery_codes WHERE user_id = $1",
            "DELETE FROM second_factors WHERE user_id = $1",
            "DELETE FROM sessions WHERE user_id = $1",
        ] {
            self.run(sqlx::query(statement).bind(user_id)).await?;
        }
        Ok(())
    }

    /// Whether the user signs in through an identity provider.
    pub async fn has_external_identity(&mut self, user_id: &str) -> Result<bool, StoreError> {
        let count = self
            .number(
                "external_identities",
                sqlx::query("SELECT COUNT(*) AS n FROM external_identities WHERE user_id = $1")
                    .bind(user_id),
            )
            .await?;
        Ok(count > 0)
    }

    /// Stores a log-in under way.
    pub async fn insert_sso_login(&mut self, login: &SsoLoginRecord) -> Result<(), StoreError> {
        self.run(
            sqlx::query(
                "INSERT INTO sso_logins (state_hash, nonce, pkce_verifier, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(login.state_hash.as_str())
            .bind(login.nonce.as_str())
            .bind(login.pkce_verifier.as_str())
            .bind(login.created_at.millis()),
        )
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
        self.run(
            sqlx::query("DELETE FROM sso_logins WHERE created_at < $1").bind(stale_before.millis()),
        )
        .await?;
        let sql = select::<SsoLoginRecord>("WHERE state_hash = $1");
        let login: Option<SsoLoginRecord> = self.one(sqlx::query(&sql).bind(state_hash)).await?;
        if login.is_some() {
            self.run(sqlx::query("DELETE FROM sso_logins WHERE state_hash = $1").bind(state_hash))
                .await?;
        }
        Ok(login)
    }

    /// The local user an identity provider's subject is, if known.
    pub async fn external_identity(
        &mut self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<ExternalIdentity>, StoreError> {
        let sql = select::<ExternalIdentity>("WHERE issuer = $1 AND subject = $2");
        self.one(sqlx::query(&sql).bind(issuer).bind(subject)).await
    }

    /// Links a provider's subject to a local user.
    pub async fn insert_external_identity(
        &mut self,
        identity: &ExternalIdentity,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(
            sqlx::query(
                "INSERT INTO external_identities (issuer, subject, user_id, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(identity.issuer.as_str())
            .bind(identity.subject.as_str())
            .bind(identity.user_id.as_str())
            .bind(now.millis()),
        )
        .await?;
        Ok(())
    }
}
