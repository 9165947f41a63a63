//! Authorities and the nodes hosting them (`authorities`).

use comity_domain::{Authority, AuthorityId};

use super::{Columns, DynamicQuery, Record, Tx, one_row_or_conflict, select};
use crate::StoreError;
use crate::records::AuthorityRecord;

impl Record for AuthorityRecord {
    const TABLE: &'static str = "authorities";
    const COLUMNS: &'static str = "id, country, kind, name, node_id, is_local";

    fn read(row: &Columns<'_>) -> Result<Self, StoreError> {
        Ok(AuthorityRecord {
            authority: Authority {
                id: row.code("id")?,
                country: row.code("country")?,
                kind: row.code("kind")?,
                name: row.text("name")?,
            },
            node_id: row.text("node_id")?,
            is_local: row.flag("is_local")?,
        })
    }
}

impl Tx {
    /// Adds or updates an authority.
    ///
    /// An authority hosted here is never handed to a peer this way: that is refused
    /// with [`StoreError::Conflict`].
    pub async fn upsert_authority(&mut self, record: &AuthorityRecord) -> Result<(), StoreError> {
        let written = self
            .run(
                sqlx::query(
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
                .bind(i64::from(record.is_local)),
            )
            .await?;
        one_row_or_conflict(&written, || {
            format!(
                "authority {} is hosted by this node; a peer cannot take it over",
                record.authority.id
            )
        })
    }

    /// One authority.
    pub async fn authority(
        &mut self,
        id: &AuthorityId,
    ) -> Result<Option<AuthorityRecord>, StoreError> {
        let sql = select::<AuthorityRecord>("WHERE id = $1");
        self.one(sqlx::query(&sql).bind(id.as_str())).await
    }

    /// The authorities among `ids` that this node knows, in one query.
    pub async fn authorities_among(
        &mut self,
        ids: &[AuthorityId],
    ) -> Result<Vec<AuthorityRecord>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = DynamicQuery::new(select::<AuthorityRecord>("WHERE id IN ("));
        query
            .bind_list(ids.iter().map(AuthorityId::as_str))?
            .push(")");
        let (sql, arguments) = query.into_parts();
        self.all(sqlx::query_with(&sql, arguments)).await
    }

    /// Every authority, by id.
    pub async fn authorities(&mut self) -> Result<Vec<AuthorityRecord>, StoreError> {
        let sql = select::<AuthorityRecord>("ORDER BY id");
        self.all(sqlx::query(&sql)).await
    }
}
