//! Cases: an authority's files that requests belong to (`cases`).

use comity_domain::{AuthorityId, Case};

use super::{Columns, Record, Tx, select};
use crate::StoreError;

impl Record for Case {
    const TABLE: &'static str = "cases";
    const COLUMNS: &'static str = "id, authority_id, reference, title, created_at";

    fn read(row: &Columns<'_>) -> Result<Self, StoreError> {
        Ok(Case {
            id: row.code("id")?,
            authority: row.code("authority_id")?,
            reference: row.text("reference")?,
            title: row.text("title")?,
            created_at: row.time("created_at")?,
        })
    }
}

impl Tx {
    /// Opens a case.
    pub async fn insert_case(&mut self, case: &Case) -> Result<(), StoreError> {
        self.run(
            sqlx::query(
                "INSERT INTO cases (id, authority_id, reference, title, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(case.id.as_str())
            .bind(case.authority.as_str())
            .bind(case.reference.as_str())
            .bind(case.title.as_str())
            .bind(case.created_at.millis()),
        )
        .await?;
        Ok(())
    }

    /// One case.
    pub async fn case(&mut self, id: &str) -> Result<Option<Case>, StoreError> {
        let sql = select::<Case>("WHERE id = $1");
        self.one(sqlx::query(&sql).bind(id)).await
    }

    /// The cases of one authority, newest first.
    pub async fn cases_of(&mut self, authority: &AuthorityId) -> Result<Vec<Case>, StoreError> {
        let sql = select::<Case>("WHERE authority_id = $1 ORDER BY created_at DESC, id");
        self.all(sqlx::query(&sql).bind(authority.as_str())).await
    }
}
