//! User accounts (`users`) and their login sessions (`sessions`).

use comity_domain::{AuthorityId, Role, Timestamp};

use super::{Columns, Record, Tx, join_codes, one_row_or_conflict, select};
use crate::StoreError;
use crate::records::{SessionRecord, UserRecord};

impl Record for UserRecord {
    const TABLE: &'static str = "users";
    const COLUMNS: &'static str = "id, username, display_name, authority_id, roles, \
        password_hash, active, must_change_password, created_at";

    fn read(row: &Columns<'_>) -> Result<Self, StoreError> {
        Ok(UserRecord {
            id: row.code("id")?,
            username: row.text("username")?,
            display_name: row.text("display_name")?,
            authority: row.code("authority_id")?,
            roles: row.code_list("roles")?,
            password_hash: row.text("password_hash")?,
            active: row.flag("active")?,
            must_change_password: row.flag("must_change_password")?,
            created_at: row.time("created_at")?,
        })
    }
}

impl Record for SessionRecord {
    const TABLE: &'static str = "sessions";
    const COLUMNS: &'static str = "id, token_hash, user_id, created_at, last_seen_at, expires_at";

    fn read(row: &Columns<'_>) -> Result<Self, StoreError> {
        Ok(SessionRecord {
            id: row.text("id")?,
            token_hash: row.text("token_hash")?,
            user_id: row.code("user_id")?,
            created_at: row.time("created_at")?,
            last_seen_at: row.time("last_seen_at")?,
            expires_at: row.time("expires_at")?,
        })
    }
}

/// The stored form of a list of roles.
fn roles_code(roles: &[Role]) -> String {
    join_codes(roles.iter().map(|role| role.code()))
}

impl Tx {
    /// Adds a user; a taken user name is a [`StoreError::Conflict`].
    pub async fn insert_user(&mut self, user: &UserRecord) -> Result<(), StoreError> {
        // ON CONFLICT keeps the transaction usable (PostgreSQL aborts it on an error).
        let result = self
            .run(
                sqlx::query(
                    "INSERT INTO users (id, username, display_name, authority_id, roles, \
                     password_hash, active, must_change_password, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                )
                .bind(user.id.as_str())
                .bind(user.username.as_str())
                .bind(user.display_name.as_str())
                .bind(user.authority.as_str())
                .bind(roles_code(&user.roles))
                .bind(user.password_hash.as_str())
                .bind(i64::from(user.active))
                .bind(i64::from(user.must_change_password))
                .bind(user.created_at.millis()),
            )
            .await?;
        one_row_or_conflict(&result, || {
            format!("the user name `{}` is taken", user.username)
        })
    }

    /// Writes a user's display name, roles, password hash and flags (the id, user name,
    /// authority and creation time never change). False if there is no such user.
    pub async fn update_user(&mut self, user: &UserRecord) -> Result<bool, StoreError> {
        let result = self
            .run(
                sqlx::query(
                    "UPDATE users SET display_name = $2, roles = $3, password_hash = $4, \
                     active = $5, must_change_password = $6 WHERE id = $1",
                )
                .bind(user.id.as_str())
                .bind(user.display_name.as_str())
                .bind(roles_code(&user.roles))
                .bind(user.password_hash.as_str())
                .bind(i64::from(user.active))
                .bind(i64::from(user.must_change_password)),
            )
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Sets a user's roles (single sign-on keeps them in step with the provider's claims).
    pub async fn set_user_roles(
        &mut self,
        user_id: &str,
        roles: &[Role],
    ) -> Result<(), StoreError> {
        self.run(
            sqlx::query("UPDATE users SET roles = $1 WHERE id = $2")
                .bind(roles_code(roles))
                .bind(user_id),
        )
        .await?;
        Ok(())
    }

    /// A user by login name.
    pub async fn user_by_username(
        &mut self,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let sql = select::<UserRecord>("WHERE username = $1");
        self.one(sqlx::query(&sql).bind(username)).await
    }

    /// A user by id.
    pub async fn user(&mut self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = select::<UserRecord>("WHERE id = $1");
        self.one(sqlx::query(&sql).bind(id)).await
    }

    /// Every user, by user name.
    pub async fn users(&mut self) -> Result<Vec<UserRecord>, StoreError> {
        let sql = select::<UserRecord>("ORDER BY username");
        self.all(sqlx::query(&sql)).await
    }

    /// The users of one authority, by user name.
    pub async fn users_of(
        &mut self,
        authority: &AuthorityId,
    ) -> Result<Vec<UserRecord>, StoreError> {
        let sql = select::<UserRecord>("WHERE authority_id = $1 ORDER BY username");
        self.all(sqlx::query(&sql).bind(authority.as_str())).await
    }

    /// Stores a session.
    pub async fn insert_session(&mut self, session: &SessionRecord) -> Result<(), StoreError> {
        self.run(
            sqlx::query(
                "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(session.id.as_str())
            .bind(session.token_hash.as_str())
            .bind(session.user_id.as_str())
            .bind(session.created_at.millis())
            .bind(session.last_seen_at.millis())
            .bind(session.expires_at.millis()),
        )
        .await?;
        Ok(())
    }

    /// A session by token hash, if at `now` it has neither expired nor been idle since
    /// `idle_since` or earlier.
    pub async fn live_session(
        &mut self,
        token_hash: &str,
        now: Timestamp,
        idle_since: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let sql = select::<SessionRecord>(
            "WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3",
        );
        self.one(
            sqlx::query(&sql)
                .bind(token_hash)
                .bind(now.millis())
                .bind(idle_since.millis()),
        )
        .await
    }

    /// Records that a session was used at `now`.
    pub async fn touch_session(&mut self, id: &str, now: Timestamp) -> Result<(), StoreError> {
        self.run(
            sqlx::query(
                "UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2",
            )
            .bind(id)
            .bind(now.millis()),
        )
        .await?;
        Ok(())
    }

    /// A user's live sessions (as [`Tx::live_session`]), oldest first.
    pub async fn sessions_of(
        &mut self,
        user_id: &str,
        now: Timestamp,
        idle_since: Timestamp,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let sql = select::<SessionRecord>(
            "WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3 ORDER BY created_at, id",
        );
        self.all(
            sqlx::query(&sql)
                .bind(user_id)
                .bind(now.millis())
                .bind(idle_since.millis()),
        )
        .await
    }

    /// Ends a session by its token hash.
    pub async fn delete_session(&mut self, token_hash: &str) -> Result<(), StoreError> {
        self.run(sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash))
            .await?;
        Ok(())
    }

    /// Ends one session of a user, by its public id. False if the user has no such session.
    pub async fn delete_session_of(
        &mut self,
        user_id: &str,
        session_id: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .run(
                sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id = $2")
                    .bind(user_id)
                    .bind(session_id),
            )
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Ends every session of a user, except `keep` (a session id) if given. Returns how
    /// many ended.
    pub async fn delete_sessions_of(
        &mut self,
        user_id: &str,
        keep: Option<&str>,
    ) -> Result<u64, StoreError> {
        let result = self
            .run(
                sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
                    .bind(user_id)
                    .bind(keep.unwrap_or("")),
            )
            .await?;
        Ok(result.rows_affected())
    }

    /// Deletes the sessions that expired by `now` or were idle since `idle_since` or
    /// earlier. Returns how many.
    pub async fn purge_sessions(
        &mut self,
        now: Timestamp,
        idle_since: Timestamp,
    ) -> Result<u64, StoreError> {
        let result = self
            .run(
                sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                    .bind(now.millis())
                    .bind(idle_since.millis()),
            )
            .await?;
        Ok(result.rows_affected())
    }
}
