//! [`Tx`]: one database transaction and every query Comity runs.

use comity_domain::{
    Action, Actor, Authority, AuthorityId, Case, Origin, Request, RequestState, Role, Side,
    Timestamp, TransitionRecord,
};
use comity_wire::RequestContentDto;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::StoreError;
use crate::records::{
    AuthorityRecord, InboxMessage, InboxStatus, OutboxMessage, OutboxStatus, RequestFilter,
    SessionRecord, UserRecord,
};

/// What [`Tx::mark_delivered`] reports about a message it has just marked delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveredMessage {
    /// Envelope message type.
    pub message_type: String,
    /// The conversation (request id).
    pub conversation_id: String,
    /// The node that signed the receipt.
    pub recipient_node: String,
}

/// One transaction. Dropped without [`Tx::commit`], it rolls back.
#[derive(Debug)]
pub struct Tx {
    inner: Transaction<'static, Any>,
}

fn corrupt(table: &'static str, column: &'static str, reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        table,
        column,
        reason: reason.to_string(),
    }
}

fn parse_code<T: std::str::FromStr>(
    table: &'static str,
    column: &'static str,
    code: &str,
) -> Result<T, StoreError>
where
    T::Err: ToString,
{
    code.parse()
        .map_err(|error: T::Err| corrupt(table, column, error))
}

const REQUEST_COLUMNS: &str = "id, side, case_id, state, content, created_at, updated_at, version";

impl Tx {
    pub(crate) fn new(inner: Transaction<'static, Any>) -> Tx {
        Tx { inner }
    }

    /// The connection under this transaction, for the queries kept in other files
    /// (`second_factor.rs`).
    pub(crate) fn connection(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.inner
    }

    /// Makes every change of this transaction durable.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.inner.commit().await?;
        Ok(())
    }

    // --- node settings -------------------------------------------------------------

    /// A node setting.
    pub async fn setting(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM node_settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *self.inner)
            .await?;
        Ok(row.map(|row| row.try_get("value")).transpose()?)
    }

    /// Sets a node setting.
    pub async fn set_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO node_settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    // --- authorities ---------------------------------------------------------------

    /// Adds or updates an authority.
    ///
    /// An authority hosted here is never handed to a peer this way: that is refused
    /// with [`StoreError::Conflict`].
    pub async fn upsert_authority(&mut self, record: &AuthorityRecord) -> Result<(), StoreError> {
        let written = sqlx::query(
            "INSERT INTO authorities (id, country, kind, name, node_id, is_local) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET country = excluded.country, kind = excluded.kind, \
             name = excluded.name, node_id = excluded.node_id, is_local = excluded.is_local \
             WHERE authorities.is_local = 0 OR excluded.is_local = 1",
        )
        .bind(record.authority.id.as_str())
        .bind(record.authority.country.as_str())
        .bind(record.authority.kind.code())
        .bind(record.authority.name.as_str())
        .bind(record.node_id.as_str())
        .bind(i64::from(record.is_local))
        .execute(&mut *self.inner)
        .await?;
        if written.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "authority {} is hosted by this node; a peer cannot take it over",
                record.authority.id
            )));
        }
        Ok(())
    }

    /// One authority.
    pub async fn authority(
        &mut self,
        id: &AuthorityId,
    ) -> Result<Option<AuthorityRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, country, kind, name, node_id, is_local FROM authorities WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|row| authority_from_row(&row)).transpose()
    }

    /// The authorities among `ids` that this node knows, in one query.
    pub async fn authorities_among(
        &mut self,
        ids: &[AuthorityId],
    ) -> Result<Vec<AuthorityRecord>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT id, country, kind, name, node_id, is_local FROM authorities WHERE id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id.as_str());
        }
        let rows = query.fetch_all(&mut *self.inner).await?;
        rows.iter().map(authority_from_row).collect()
    }

    /// Every authority, by id.
    pub async fn authorities(&mut self) -> Result<Vec<AuthorityRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, country, kind, name, node_id, is_local FROM authorities ORDER BY id",
        )
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(authority_from_row).collect()
    }

    // --- users and sessions --------------------------------------------------------

    /// Adds a user; a taken user name is a [`StoreError::Conflict`].
    pub async fn insert_user(&mut self, user: &UserRecord) -> Result<(), StoreError> {
        let roles: Vec<&str> = user.roles.iter().map(|role| role.code()).collect();
        let result = sqlx::query(
            "INSERT INTO users (id, username, display_name, authority_id, roles, password_hash, active, must_change_password, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        )
        .bind(user.id.as_str())
        .bind(user.username.as_str())
        .bind(user.display_name.as_str())
        .bind(user.authority.as_str())
        .bind(roles.join(","))
        .bind(user.password_hash.as_str())
        .bind(i64::from(user.active))
        .bind(i64::from(user.must_change_password))
        .bind(user.created_at.millis())
        .execute(&mut *self.inner)
        .await?;
        // ON CONFLICT keeps the transaction usable (PostgreSQL aborts it on an error).
        if result.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!(
                "the user name `{}` is taken",
                user.username
            )))
        }
    }

    /// Writes a user's display name, roles, password hash and flags (the id, user name,
    /// authority and creation time never change). False if there is no such user.
    pub async fn update_user(&mut self, user: &UserRecord) -> Result<bool, StoreError> {
        let roles: Vec<&str> = user.roles.iter().map(|role| role.code()).collect();
        let result = sqlx::query(
            "UPDATE users SET display_name = $2, roles = $3, password_hash = $4, active = $5, \
             must_change_password = $6 WHERE id = $1",
        )
        .bind(user.id.as_str())
        .bind(user.display_name.as_str())
        .bind(roles.join(","))
        .bind(user.password_hash.as_str())
        .bind(i64::from(user.active))
        .bind(i64::from(user.must_change_password))
        .execute(&mut *self.inner)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// A user by login name.
    pub async fn user_by_username(
        &mut self,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|row| user_from_row(&row)).transpose()
    }

    /// A user by id.
    pub async fn user(&mut self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.map(|row| user_from_row(&row)).transpose()
    }

    /// Every user, by user name.
    pub async fn users(&mut self) -> Result<Vec<UserRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username"
        ))
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// The users of one authority, by user name.
    pub async fn users_of(
        &mut self,
        authority: &AuthorityId,
    ) -> Result<Vec<UserRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE authority_id = $1 ORDER BY username"
        ))
        .bind(authority.as_str())
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Stores a session.
    pub async fn insert_session(&mut self, session: &SessionRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(session.id.as_str())
        .bind(session.token_hash.as_str())
        .bind(session.user_id.as_str())
        .bind(session.created_at.millis())
        .bind(session.last_seen_at.millis())
        .bind(session.expires_at.millis())
        .execute(&mut *self.inner)
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
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions \
             WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3"
        ))
        .bind(token_hash)
        .bind(now.millis())
        .bind(idle_since.millis())
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|row| session_from_row(&row)).transpose()
    }

    /// Records that a session was used at `now`.
    pub async fn touch_session(&mut self, id: &str, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2")
            .bind(id)
            .bind(now.millis())
            .execute(&mut *self.inner)
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
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions \
             WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3 ORDER BY created_at, id"
        ))
        .bind(user_id)
        .bind(now.millis())
        .bind(idle_since.millis())
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(session_from_row).collect()
    }

    /// Ends a session by its token hash.
    pub async fn delete_session(&mut self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Ends one session of a user, by its public id. False if the user has no such session.
    pub async fn delete_session_of(
        &mut self,
        user_id: &str,
        session_id: &str,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(session_id)
            .execute(&mut *self.inner)
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
        let result = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(user_id)
            .bind(keep.unwrap_or(""))
            .execute(&mut *self.inner)
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
        let result =
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                .bind(now.millis())
                .bind(idle_since.millis())
                .execute(&mut *self.inner)
                .await?;
        Ok(result.rows_affected())
    }

    // --- cases ---------------------------------------------------------------------

    /// Opens a case.
    pub async fn insert_case(&mut self, case: &Case) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cases (id, authority_id, reference, title, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(case.id.as_str())
        .bind(case.authority.as_str())
        .bind(case.reference.as_str())
        .bind(case.title.as_str())
        .bind(case.created_at.millis())
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// One case.
    pub async fn case(&mut self, id: &str) -> Result<Option<Case>, StoreError> {
        let row = sqlx::query(
            "SELECT id, authority_id, reference, title, created_at FROM cases WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|row| case_from_row(&row)).transpose()
    }

    /// The cases of one authority, newest first.
    pub async fn cases_of(&mut self, authority: &AuthorityId) -> Result<Vec<Case>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, authority_id, reference, title, created_at FROM cases \
             WHERE authority_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(authority.as_str())
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(case_from_row).collect()
    }

    // --- requests ------------------------------------------------------------------

    /// Stores a new request; one that exists already (same id and side) is a conflict.
    pub async fn insert_request(&mut self, request: &Request) -> Result<(), StoreError> {
        let content = serde_json::to_string(&RequestContentDto::from(&request.content))
            .map_err(|error| corrupt("requests", "content", error))?;
        let counterpart = match request.side {
            Side::Requesting => &request.content.requested_authority,
            Side::Requested => &request.content.requesting_authority,
        };
        let result = sqlx::query(
            "INSERT INTO requests (id, side, case_id, holder_authority, counterpart_authority, state, \
             content, content_version, urgent, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
        )
        .bind(request.id.as_str())
        .bind(request.side.code())
        .bind(request.case_id.as_str())
        .bind(request.holder().as_str())
        .bind(counterpart.as_str())
        .bind(request.state.code())
        .bind(content)
        .bind(i64::from(comity_wire::content::CONTENT_VERSION))
        .bind(i64::from(request.content.urgency.is_urgent()))
        .bind(request.created_at.millis())
        .bind(request.updated_at.millis())
        .bind(request.version)
        .execute(&mut *self.inner)
        .await?;
        if result.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!(
                "request {} already exists on the {} side",
                request.id,
                request.side.code()
            )))
        }
    }

    /// One request, by id and side.
    pub async fn request(&mut self, id: &str, side: Side) -> Result<Option<Request>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE id = $1 AND side = $2"
        ))
        .bind(id)
        .bind(side.code())
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|row| request_from_row(&row)).transpose()
    }

    /// Both sides of a request held on this node (one, or two when both authorities
    /// are hosted here).
    pub async fn request_sides(&mut self, id: &str) -> Result<Vec<Request>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE id = $1 ORDER BY side"
        ))
        .bind(id)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(request_from_row).collect()
    }

    /// Requests matching the filter, most recently changed first.
    pub async fn requests(&mut self, filter: &RequestFilter) -> Result<Vec<Request>, StoreError> {
        if filter.holders.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE holder_authority IN (");
        let mut next = 1;
        for index in 0..filter.holders.len() {
            if index > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${next}"));
            next += 1;
        }
        sql.push(')');
        if filter.case_id.is_some() {
            sql.push_str(&format!(" AND case_id = ${next}"));
            next += 1;
        }
        if filter.side.is_some() {
            sql.push_str(&format!(" AND side = ${next}"));
            next += 1;
        }
        if !filter.states.is_empty() {
            sql.push_str(" AND state IN (");
            for index in 0..filter.states.len() {
                if index > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${next}"));
                next += 1;
            }
            sql.push(')');
        }
        sql.push_str(&format!(" ORDER BY updated_at DESC, id LIMIT ${next}"));
        let mut query = sqlx::query(&sql);
        for holder in &filter.holders {
            query = query.bind(holder.as_str());
        }
        if let Some(case_id) = &filter.case_id {
            query = query.bind(case_id.as_str());
        }
        if let Some(side) = filter.side {
            query = query.bind(side.code());
        }
        for state in &filter.states {
            query = query.bind(state.code());
        }
        let limit = if filter.limit <= 0 { 500 } else { filter.limit };
        query = query.bind(limit);
        let rows = query.fetch_all(&mut *self.inner).await?;
        rows.iter().map(request_from_row).collect()
    }

    /// Writes a changed request if it is still at `expected_version`; bumps the version.
    pub async fn update_request(
        &mut self,
        request: &Request,
        expected_version: i64,
    ) -> Result<(), StoreError> {
        let content = serde_json::to_string(&RequestContentDto::from(&request.content))
            .map_err(|error| corrupt("requests", "content", error))?;
        let counterpart = match request.side {
            Side::Requesting => &request.content.requested_authority,
            Side::Requested => &request.content.requesting_authority,
        };
        let result = sqlx::query(
            "UPDATE requests SET state = $1, content = $2, content_version = $3, urgent = $4, \
             updated_at = $5, version = $6, counterpart_authority = $7 \
             WHERE id = $8 AND side = $9 AND version = $10",
        )
        .bind(request.state.code())
        .bind(content)
        .bind(i64::from(comity_wire::content::CONTENT_VERSION))
        .bind(i64::from(request.content.urgency.is_urgent()))
        .bind(request.updated_at.millis())
        .bind(expected_version + 1)
        .bind(counterpart.as_str())
        .bind(request.id.as_str())
        .bind(request.side.code())
        .bind(expected_version)
        .execute(&mut *self.inner)
        .await?;
        if result.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!(
                "request {} changed since version {expected_version}; reload and try again",
                request.id
            )))
        }
    }

    /// The history of one side of a request, oldest first.
    pub async fn history(
        &mut self,
        id: &str,
        side: Side,
    ) -> Result<Vec<TransitionRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT action, from_state, to_state, actor_kind, actor_id, actor_role, origin, at, reason, grounds \
             FROM request_history WHERE request_id = $1 AND side = $2 ORDER BY seq",
        )
        .bind(id)
        .bind(side.code())
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(history_from_row).collect()
    }

    /// Appends one transition to a request's history.
    pub async fn append_history(
        &mut self,
        id: &str,
        side: Side,
        record: &TransitionRecord,
    ) -> Result<(), StoreError> {
        let (actor_kind, actor_id, actor_role) = match &record.actor {
            Actor::User { user_id, role } => ("user", user_id.as_str(), role.code()),
            Actor::Peer { node_id } => ("peer", node_id.as_str(), ""),
            Actor::System => ("system", "", ""),
        };
        let grounds = serde_json::to_string(&record.grounds)
            .map_err(|error| corrupt("request_history", "grounds", error))?;
        // The next position is computed in the same statement: one round trip.
        sqlx::query(
            "INSERT INTO request_history (request_id, side, seq, action, from_state, to_state, actor_kind, \
             actor_id, actor_role, origin, at, reason, grounds) \
             SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 \
             FROM request_history WHERE request_id = $1 AND side = $2",
        )
        .bind(id)
        .bind(side.code())
        .bind(record.action.code())
        .bind(record.from.code())
        .bind(record.to.code())
        .bind(actor_kind)
        .bind(actor_id)
        .bind(actor_role)
        .bind(record.origin.code())
        .bind(record.at.millis())
        .bind(record.reason.as_deref())
        .bind(grounds)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    // --- outbox --------------------------------------------------------------------

    /// Takes the next outgoing sequence number of a conversation with a peer.
    pub async fn take_outgoing_sequence(
        &mut self,
        conversation_id: &str,
        peer_node: &str,
    ) -> Result<i64, StoreError> {
        // Create-or-increment in one statement; the number taken is the one before.
        let taken: i64 = sqlx::query(
            "INSERT INTO conversation_sequences (conversation_id, peer_node, next_outgoing, next_incoming) \
             VALUES ($1, $2, 2, 1) ON CONFLICT (conversation_id, peer_node) \
             DO UPDATE SET next_outgoing = conversation_sequences.next_outgoing + 1 \
             RETURNING next_outgoing - 1 AS taken",
        )
        .bind(conversation_id)
        .bind(peer_node)
        .fetch_one(&mut *self.inner)
        .await?
        .try_get("taken")?;
        Ok(taken)
    }

    /// Queues a message; it commits with the rest of the transaction.
    pub async fn enqueue(&mut self, message: &OutboxMessage) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO outbox (message_id, recipient_node, conversation_id, sequence, message_type, \
             in_reply_to, body, status, attempts, next_attempt_at, created_at, last_error, receipt, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL)",
        )
        .bind(message.message_id.as_str())
        .bind(message.recipient_node.as_str())
        .bind(message.conversation_id.as_str())
        .bind(message.sequence)
        .bind(message.message_type.as_str())
        .bind(message.in_reply_to.as_deref())
        .bind(message.body.as_str())
        .bind(message.status.code())
        .bind(message.attempts)
        .bind(message.next_attempt_at.millis())
        .bind(message.created_at.millis())
        .bind(message.last_error.as_deref())
        .bind(message.receipt.as_deref())
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Pending messages due at `now`, oldest first, in conversation order.
    pub async fn due_messages(
        &mut self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
             ORDER BY created_at, conversation_id, sequence LIMIT $2"
        ))
        .bind(now.millis())
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(outbox_from_row).collect()
    }

    /// Messages in a given status, newest first (for operators).
    pub async fn outbox_in_status(
        &mut self,
        status: OutboxStatus,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE status = $1 ORDER BY created_at DESC LIMIT $2"
        ))
        .bind(status.code())
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(outbox_from_row).collect()
    }

    /// How many outgoing messages are in a status.
    pub async fn count_outbox(&mut self, status: OutboxStatus) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE status = $1")
                .bind(status.code())
                .fetch_one(&mut *self.inner)
                .await?
                .try_get("n")?,
        )
    }

    /// When a message was committed and when its delivery finished (receipt stored or
    /// given up), in milliseconds; `None` while it is pending.
    pub async fn outbox_timing(
        &mut self,
        message_id: &str,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let row = sqlx::query("SELECT created_at, finished_at FROM outbox WHERE message_id = $1")
            .bind(message_id)
            .fetch_optional(&mut *self.inner)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let finished: Option<i64> = row.try_get("finished_at")?;
        Ok(finished.map(|finished| {
            (
                row.try_get::<i64, _>("created_at").unwrap_or(finished),
                finished,
            )
        }))
    }

    /// One outgoing message.
    pub async fn outbox_message(
        &mut self,
        message_id: &str,
    ) -> Result<Option<OutboxMessage>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE message_id = $1"
        ))
        .bind(message_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|row| outbox_from_row(&row)).transpose()
    }

    /// Records the recipient's receipt: the message will not be sent again. Returns the
    /// message when this call delivered it, `None` when it was delivered before or is
    /// unknown.
    pub async fn mark_delivered(
        &mut self,
        message_id: &str,
        receipt: &str,
        at: Timestamp,
    ) -> Result<Option<DeliveredMessage>, StoreError> {
        let row = sqlx::query(
            "UPDATE outbox SET status = 'delivered', receipt = $1, finished_at = $2, last_error = NULL \
             WHERE message_id = $3 AND status <> 'delivered' \
             RETURNING message_type, conversation_id, recipient_node",
        )
        .bind(receipt)
        .bind(at.millis())
        .bind(message_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|row| {
            Ok(DeliveredMessage {
                message_type: row.try_get("message_type")?,
                conversation_id: row.try_get("conversation_id")?,
                recipient_node: row.try_get("recipient_node")?,
            })
        })
        .transpose()
    }

    /// Records a failed attempt and when to try again.
    pub async fn reschedule(
        &mut self,
        message_id: &str,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 \
             WHERE message_id = $3 AND status = 'pending'",
        )
        .bind(next_attempt_at.millis())
        .bind(error)
        .bind(message_id)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Gives up on a message: it becomes a dead letter for an operator.
    pub async fn mark_dead(
        &mut self,
        message_id: &str,
        at: Timestamp,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET status = 'dead', finished_at = $1, last_error = $2 \
             WHERE message_id = $3 AND status = 'pending'",
        )
        .bind(at.millis())
        .bind(error)
        .bind(message_id)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Puts a dead letter back in the queue (operator action).
    pub async fn retry_dead(
        &mut self,
        message_id: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE outbox SET status = 'pending', next_attempt_at = $1, finished_at = NULL \
             WHERE message_id = $2 AND status = 'dead'",
        )
        .bind(now.millis())
        .bind(message_id)
        .execute(&mut *self.inner)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    // --- inbox ---------------------------------------------------------------------

    /// One received message.
    pub async fn inbox_message(
        &mut self,
        message_id: &str,
    ) -> Result<Option<InboxMessage>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {INBOX_COLUMNS} FROM inbox WHERE message_id = $1"
        ))
        .bind(message_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|row| inbox_from_row(&row)).transpose()
    }

    /// Stores a received message. Returns `false`, changing nothing, when a message with
    /// that id is already stored: the inbox drops duplicates.
    pub async fn insert_inbox(&mut self, message: &InboxMessage) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO inbox (message_id, sender_node, conversation_id, sequence, message_type, body, \
             envelope, status, received_at, applied_at, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10) ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(message.message_id.as_str())
        .bind(message.sender_node.as_str())
        .bind(message.conversation_id.as_str())
        .bind(message.sequence)
        .bind(message.message_type.as_str())
        .bind(message.body.as_str())
        .bind(message.envelope.as_str())
        .bind(message.status.code())
        .bind(message.received_at.millis())
        .bind(message.outcome.as_deref())
        .execute(&mut *self.inner)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// The sequence number the conversation with `peer_node` expects next.
    pub async fn expected_incoming_sequence(
        &mut self,
        conversation_id: &str,
        peer_node: &str,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "INSERT INTO conversation_sequences (conversation_id, peer_node, next_outgoing, next_incoming) \
             VALUES ($1, $2, 1, 1) ON CONFLICT (conversation_id, peer_node) \
             DO UPDATE SET next_incoming = conversation_sequences.next_incoming \
             RETURNING next_incoming",
        )
        .bind(conversation_id)
        .bind(peer_node)
        .fetch_one(&mut *self.inner)
        .await?
        .try_get("next_incoming")?)
    }

    /// Moves the conversation's expected incoming sequence on by one.
    pub async fn advance_incoming_sequence(
        &mut self,
        conversation_id: &str,
        peer_node: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE conversation_sequences SET next_incoming = next_incoming + 1 \
             WHERE conversation_id = $1 AND peer_node = $2",
        )
        .bind(conversation_id)
        .bind(peer_node)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// The waiting message with this position in the conversation, if it has arrived.
    pub async fn waiting_message(
        &mut self,
        conversation_id: &str,
        peer_node: &str,
        sequence: i64,
    ) -> Result<Option<InboxMessage>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {INBOX_COLUMNS} FROM inbox WHERE conversation_id = $1 AND sender_node = $2 \
             AND sequence = $3 AND status = 'waiting'"
        ))
        .bind(conversation_id)
        .bind(peer_node)
        .bind(sequence)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|row| inbox_from_row(&row)).transpose()
    }

    /// Records what became of a received message.
    pub async fn finish_inbox(
        &mut self,
        message_id: &str,
        status: InboxStatus,
        outcome: Option<&str>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE inbox SET status = $1, outcome = $2, applied_at = $3 WHERE message_id = $4",
        )
        .bind(status.code())
        .bind(outcome)
        .bind(at.millis())
        .bind(message_id)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }
}

pub(crate) const OUTBOX_COLUMNS: &str = "message_id, recipient_node, conversation_id, sequence, message_type, \
    in_reply_to, body, status, attempts, next_attempt_at, created_at, last_error, receipt";

const INBOX_COLUMNS: &str = "message_id, sender_node, conversation_id, sequence, message_type, body, \
    envelope, status, received_at, outcome";

fn authority_from_row(row: &AnyRow) -> Result<AuthorityRecord, StoreError> {
    let id: String = row.try_get("id")?;
    let country: String = row.try_get("country")?;
    let kind: String = row.try_get("kind")?;
    let is_local: i64 = row.try_get("is_local")?;
    Ok(AuthorityRecord {
        authority: Authority {
            id: parse_code("authorities", "id", &id)?,
            country: parse_code("authorities", "country", &country)?,
            kind: parse_code("authorities", "kind", &kind)?,
            name: row.try_get("name")?,
        },
        node_id: row.try_get("node_id")?,
        is_local: is_local != 0,
    })
}

const USER_COLUMNS: &str = "id, username, display_name, authority_id, roles, password_hash, \
     active, must_change_password, created_at";

const SESSION_COLUMNS: &str = "id, token_hash, user_id, created_at, last_seen_at, expires_at";

fn session_from_row(row: &AnyRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id: row.try_get("id")?,
        token_hash: row.try_get("token_hash")?,
        user_id: row.try_get("user_id")?,
        created_at: Timestamp(row.try_get("created_at")?),
        last_seen_at: Timestamp(row.try_get("last_seen_at")?),
        expires_at: Timestamp(row.try_get("expires_at")?),
    })
}

fn user_from_row(row: &AnyRow) -> Result<UserRecord, StoreError> {
    let roles: String = row.try_get("roles")?;
    let authority: String = row.try_get("authority_id")?;
    let active: i64 = row.try_get("active")?;
    Ok(UserRecord {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        authority: parse_code("users", "authority_id", &authority)?,
        roles: roles
            .split(',')
            .filter(|code| !code.is_empty())
            .map(|code| parse_code::<Role>("users", "roles", code))
            .collect::<Result<_, _>>()?,
        password_hash: row.try_get("password_hash")?,
        active: active != 0,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

fn case_from_row(row: &AnyRow) -> Result<Case, StoreError> {
    let authority: String = row.try_get("authority_id")?;
    Ok(Case {
        id: row.try_get("id")?,
        authority: parse_code("cases", "authority_id", &authority)?,
        reference: row.try_get("reference")?,
        title: row.try_get("title")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

fn request_from_row(row: &AnyRow) -> Result<Request, StoreError> {
    let side: String = row.try_get("side")?;
    let state: String = row.try_get("state")?;
    let content: String = row.try_get("content")?;
    let dto: RequestContentDto =
        serde_json::from_str(&content).map_err(|error| corrupt("requests", "content", error))?;
    // Stored content always carries both countries, so no registry is needed here.
    let content = dto
        .to_domain_as_stored(|_| None)
        .map_err(|error| corrupt("requests", "content", error))?;
    Ok(Request {
        id: row.try_get("id")?,
        case_id: row.try_get("case_id")?,
        side: parse_code::<Side>("requests", "side", &side)?,
        state: parse_code::<RequestState>("requests", "state", &state)?,
        content,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
        version: row.try_get("version")?,
    })
}

fn history_from_row(row: &AnyRow) -> Result<TransitionRecord, StoreError> {
    const TABLE: &str = "request_history";
    let action: String = row.try_get("action")?;
    let from: String = row.try_get("from_state")?;
    let to: String = row.try_get("to_state")?;
    let actor_kind: String = row.try_get("actor_kind")?;
    let actor_id: String = row.try_get("actor_id")?;
    let actor_role: String = row.try_get("actor_role")?;
    let origin: String = row.try_get("origin")?;
    let grounds: String = row.try_get("grounds")?;
    let actor = match actor_kind.as_str() {
        "user" => Actor::User {
            user_id: actor_id,
            role: parse_code(TABLE, "actor_role", &actor_role)?,
        },
        "peer" => Actor::Peer { node_id: actor_id },
        "system" => Actor::System,
        other => return Err(corrupt(TABLE, "actor_kind", format!("unknown `{other}`"))),
    };
    Ok(TransitionRecord {
        action: parse_code::<Action>(TABLE, "action", &action)?,
        from: parse_code(TABLE, "from_state", &from)?,
        to: parse_code(TABLE, "to_state", &to)?,
        actor,
        origin: parse_code::<Origin>(TABLE, "origin", &origin)?,
        at: Timestamp(row.try_get("at")?),
        reason: row.try_get("reason")?,
        grounds: serde_json::from_str(&grounds)
            .map_err(|error| corrupt(TABLE, "grounds", error))?,
    })
}

pub(crate) fn outbox_from_row(row: &AnyRow) -> Result<OutboxMessage, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(OutboxMessage {
        message_id: row.try_get("message_id")?,
        recipient_node: row.try_get("recipient_node")?,
        conversation_id: row.try_get("conversation_id")?,
        sequence: row.try_get("sequence")?,
        message_type: row.try_get("message_type")?,
        in_reply_to: row.try_get("in_reply_to")?,
        body: row.try_get("body")?,
        status: OutboxStatus::parse(&status)
            .ok_or_else(|| corrupt("outbox", "status", format!("unknown `{status}`")))?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: Timestamp(row.try_get("next_attempt_at")?),
        created_at: Timestamp(row.try_get("created_at")?),
        last_error: row.try_get("last_error")?,
        receipt: row.try_get("receipt")?,
    })
}

fn inbox_from_row(row: &AnyRow) -> Result<InboxMessage, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(InboxMessage {
        message_id: row.try_get("message_id")?,
        sender_node: row.try_get("sender_node")?,
        conversation_id: row.try_get("conversation_id")?,
        sequence: row.try_get("sequence")?,
        message_type: row.try_get("message_type")?,
        body: row.try_get("body")?,
        envelope: row.try_get("envelope")?,
        status: InboxStatus::parse(&status)
            .ok_or_else(|| corrupt("inbox", "status", format!("unknown `{status}`")))?,
        received_at: Timestamp(row.try_get("received_at")?),
        outcome: row.try_get("outcome")?,
    })
}
