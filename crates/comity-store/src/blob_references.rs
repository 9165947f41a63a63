//! Which outgoing messages mention a blob: a node serves a blob only to a peer it sent a
//! message referencing it (`docs/protocol.md`, section 10.2).

use sqlx::Row;

use crate::{StoreError, Tx};

impl Tx {
    /// The bodies of the outbox messages to `recipient` whose text contains `needle`
    /// (compared without regard to ASCII case by SQLite, exactly by PostgreSQL: the
    /// caller checks what it needs in the bodies), at most `limit` of them. Messages in
    /// any status count: a queued message is one this node has decided to send.
    pub async fn outbox_bodies_mentioning(
        &mut self,
        recipient: &str,
        needle: &str,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut pattern = String::with_capacity(needle.len() + 2);
        pattern.push('%');
        for character in needle.chars() {
            if matches!(character, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(character);
        }
        pattern.push('%');
        let rows = sqlx::query(
            "SELECT body FROM outbox WHERE recipient_node = $1 AND body LIKE $2 ESCAPE '\\' \
             ORDER BY created_at LIMIT $3",
        )
        .bind(recipient)
        .bind(pattern)
        .bind(limit)
        .fetch_all(self.connection())
        .await?;
        rows.iter()
            .map(|row| row.try_get::<String, _>("body").map_err(StoreError::from))
            .collect()
    }
}
