//! Requests (`requests`), their history (`request_history`) and the versioned content
//! column they carry.

use comity_domain::{Actor, AuthorityId, Request, Side, TransitionRecord};
use comity_wire::RequestContentDto;
use comity_wire::content::CONTENT_VERSION;

use super::{Columns, DynamicQuery, Record, Tx, one_row_or_conflict, select};
use crate::StoreError;
use crate::records::RequestFilter;

/// How many requests [`Tx::requests`] returns when the filter sets no positive limit.
const DEFAULT_LIST_LIMIT: i64 = 500;

impl Record for Request {
    const TABLE: &'static str = "requests";
    const COLUMNS: &'static str =
        "id, side, case_id, state, content, content_version, created_at, updated_at, version";

    fn read(row: &Columns<'_>) -> Result<Self, StoreError> {
        Ok(Request {
            id: row.code("id")?,
            case_id: row.code("case_id")?,
            side: row.code("side")?,
            state: row.code("state")?,
            content: read_content(row)?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            version: row.int("version")?,
        })
    }
}

/// Reads the `content` column by the version written beside it. Every version up to
/// this build's [`CONTENT_VERSION`] reads through the current [`RequestContentDto`]
/// (a new version may only add fields with defaults, or must add its reader here); a
/// version from a newer build is refused rather than guessed at.
fn read_content(row: &Columns<'_>) -> Result<comity_domain::RequestContent, StoreError> {
    let version = row.int("content_version")?;
    if !(1..=i64::from(CONTENT_VERSION)).contains(&version) {
        return Err(row.corrupt(
            "content_version",
            format!(
                "content version {version} is not one this build reads (1 to {CONTENT_VERSION})"
            ),
        ));
    }
    let dto: RequestContentDto = row.json("content")?;
    // Stored content always carries both countries, so no registry is needed here.
    dto.to_domain_as_stored(|_| None)
        .map_err(|error| row.corrupt("content", error))
}

/// The stored form of a request's content: JSON of the current version.
fn write_content(request: &Request) -> Result<String, StoreError> {
    serde_json::to_string(&RequestContentDto::from(&request.content)).map_err(|error| {
        StoreError::Corrupt {
            table: "requests",
            column: "content",
            reason: error.to_string(),
        }
    })
}

impl Record for TransitionRecord {
    const TABLE: &'static str = "request_history";
    const COLUMNS: &'static str = "action, from_state, to_state, actor_kind, actor_id, actor_role, origin, at, reason, grounds";

    fn read(row: &Columns<'_>) -> Result<Self, StoreError> {
        let actor = match row.text("actor_kind")?.as_str() {
            "user" => Actor::User {
                user_id: row.code("actor_id")?,
                role: row.code("actor_role")?,
            },
            "peer" => Actor::peer_from_line(&row.text("actor_id")?)
                .map_err(|error| row.corrupt("actor_id", error))?,
            "system" => Actor::System,
            other => return Err(row.corrupt("actor_kind", format!("unknown `{other}`"))),
        };
        Ok(TransitionRecord {
            action: row.code("action")?,
            from: row.code("from_state")?,
            to: row.code("to_state")?,
            actor,
            origin: row.code("origin")?,
            at: row.time("at")?,
            reason: row.optional_text("reason")?,
            grounds: row.json("grounds")?,
        })
    }
}

impl Tx {
    /// Stores a new request; one that exists already (same id and side) is a conflict.
    pub async fn insert_request(&mut self, request: &Request) -> Result<(), StoreError> {
        let content = write_content(request)?;
        let result = self
            .run(
                sqlx::query(
                    "INSERT INTO requests (id, side, case_id, holder_authority, counterpart_authority, \
                     state, content, content_version, urgent, created_at, updated_at, version) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
                )
                .bind(request.id.as_str())
                .bind(request.side.code())
                .bind(request.case_id.as_str())
                .bind(request.holder().as_str())
                .bind(request.counterpart().as_str())
                .bind(request.state.code())
                .bind(content)
                .bind(i64::from(CONTENT_VERSION))
                .bind(i64::from(request.content.urgency.is_urgent()))
                .bind(request.created_at.millis())
                .bind(request.updated_at.millis())
                .bind(request.version),
            )
            .await?;
        one_row_or_conflict(&result, || {
            format!(
                "request {} already exists on the {} side",
                request.id,
                request.side.code()
            )
        })
    }

    /// One request, by id and side.
    pub async fn request(&mut self, id: &str, side: Side) -> Result<Option<Request>, StoreError> {
        let sql = select::<Request>("WHERE id = $1 AND side = $2");
        self.one(sqlx::query(&sql).bind(id).bind(side.code())).await
    }

    /// Both sides of a request held on this node (one, or two when both authorities
    /// are hosted here).
    pub async fn request_sides(&mut self, id: &str) -> Result<Vec<Request>, StoreError> {
        let sql = select::<Request>("WHERE id = $1 ORDER BY side");
        self.all(sqlx::query(&sql).bind(id)).await
    }

    /// Requests matching the filter, most recently changed first.
    pub async fn requests(&mut self, filter: &RequestFilter) -> Result<Vec<Request>, StoreError> {
        if filter.holders.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = DynamicQuery::new(select::<Request>("WHERE holder_authority IN ("));
        query
            .bind_list(filter.holders.iter().map(AuthorityId::as_str))?
            .push(")");
        if let Some(case_id) = &filter.case_id {
            query.push(" AND case_id = ").bind(case_id.as_str())?;
        }
        if let Some(side) = filter.side {
            query.push(" AND side = ").bind(side.code())?;
        }
        if !filter.states.is_empty() {
            query
                .push(" AND state IN (")
                .bind_list(filter.states.iter().map(|state| state.code()))?
                .push(")");
        }
        let limit = if filter.limit <= 0 {
            DEFAULT_LIST_LIMIT
        } else {
            filter.limit
        };
        query
            .push(" ORDER BY updated_at DESC, id LIMIT ")
            .bind(limit)?;
        let (sql, arguments) = query.into_parts();
        self.all(sqlx::query_with(&sql, arguments)).await
    }

    /// Writes a changed request if it is still at `expected_version`; bumps the version.
    pub async fn update_request(
        &mut self,
        request: &Request,
        expected_version: i64,
    ) -> Result<(), StoreError> {
        let content = write_content(request)?;
        let result = self
            .run(
                sqlx::query(
                    "UPDATE requests SET state = $1, content = $2, content_version = $3, urgent = $4, \
                     updated_at = $5, version = $6, counterpart_authority = $7 \
                     WHERE id = $8 AND side = $9 AND version = $10",
                )
                .bind(request.state.code())
                .bind(content)
                .bind(i64::from(CONTENT_VERSION))
                .bind(i64::from(request.content.urgency.is_urgent()))
                .bind(request.updated_at.millis())
                .bind(expected_version + 1)
                .bind(request.counterpart().as_str())
                .bind(request.id.as_str())
                .bind(request.side.code())
                .bind(expected_version),
            )
            .await?;
        one_row_or_conflict(&result, || {
            format!(
                "request {} changed since version {expected_version}; reload and try again",
                request.id
            )
        })
    }

    /// The history of one side of a request, oldest first.
    pub async fn history(
        &mut self,
        id: &str,
        side: Side,
    ) -> Result<Vec<TransitionRecord>, StoreError> {
        let sql = select::<TransitionRecord>("WHERE request_id = $1 AND side = $2 ORDER BY seq");
        self.all(sqlx::query(&sql).bind(id).bind(side.code())).await
    }

    /// Appends one transition to a request's history.
    pub async fn append_history(
        &mut self,
        id: &str,
        side: Side,
        record: &TransitionRecord,
    ) -> Result<(), StoreError> {
        // A peer actor is kept as its one-line form (node id, then who acted there),
        // the text this column has always held.
        let (actor_kind, actor_id, actor_role) = match &record.actor {
            Actor::User { user_id, role } => ("user", user_id.to_string(), role.code()),
            Actor::Peer { .. } => ("peer", record.actor.peer_line().unwrap_or_default(), ""),
            Actor::System => ("system", String::new(), ""),
        };
        let grounds =
            serde_json::to_string(&record.grounds).map_err(|error| StoreError::Corrupt {
                table: "request_history",
                column: "grounds",
                reason: error.to_string(),
            })?;
        // The next position is computed in the same statement: one round trip.
        self.run(
            sqlx::query(
                "INSERT INTO request_history (request_id, side, seq, action, from_state, to_state, \
                 actor_kind, actor_id, actor_role, origin, at, reason, grounds) \
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
            .bind(grounds),
        )
        .await?;
        Ok(())
    }
}
