//! [`Tx`]: one database transaction, and the row reader the query modules share.
//!
//! The queries live with their tables, one module per aggregate: each holds its SQL, its
//! column list and the reading of its rows (a [`Record`] implementation) together.
//!
//! - `settings`: node settings; `authorities`; `users` (with sessions); `cases`;
//! - `requests` (with their history and the versioned content);
//! - `outbox`; `inbox` (with the per-conversation sequence counters);
//! - `second_factor`: TOTP factors, recovery codes, single sign-on.

mod authorities;
mod cases;
mod inbox;
mod outbox;
mod requests;
pub(crate) mod second_factor;
mod settings;
mod users;

pub use inbox::SequenceClaim;
pub use outbox::DeliveredMessage;

use std::fmt;
use std::str::FromStr;

use comity_domain::Timestamp;
use serde::de::DeserializeOwned;
use sqlx::any::{AnyArguments, AnyQueryResult, AnyRow};
use sqlx::pool::PoolConnection;
use sqlx::query::Query;
use sqlx::{Any, Arguments, Encode, Row, Transaction, Type};

use crate::StoreError;

/// One transaction. Dropped without [`Tx::commit`], it rolls back.
///
/// A `Tx` from [`Store::read`](crate::Store::read) holds a connection outside any
/// transaction instead: each statement stands alone and `commit` has nothing to do. It
/// saves the `BEGIN` and the rollback, two round trips on PostgreSQL, around a single
/// read.
#[derive(Debug)]
pub struct Tx {
    inner: Held,
}

#[derive(Debug)]
enum Held {
    Transaction(Transaction<'static, Any>),
    Connection(PoolConnection<Any>),
}

/// A query over the `Any` driver with its bound values.
pub(crate) type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

impl Tx {
    pub(crate) fn new(transaction: Transaction<'static, Any>) -> Tx {
        Tx {
            inner: Held::Transaction(transaction),
        }
    }

    pub(crate) fn without_transaction(connection: PoolConnection<Any>) -> Tx {
        Tx {
            inner: Held::Connection(connection),
        }
    }

    /// The connection under this transaction, for queries that need more than the
    /// helpers below.
    pub(crate) fn connection(&mut self) -> &mut sqlx::AnyConnection {
        match &mut self.inner {
            Held::Transaction(transaction) => transaction,
            Held::Connection(connection) => connection,
        }
    }

    /// Makes every change of this transaction durable.
    pub async fn commit(self) -> Result<(), StoreError> {
        if let Held::Transaction(transaction) = self.inner {
            transaction.commit().await?;
        }
        Ok(())
    }

    /// Runs a statement that returns no rows.
    pub(crate) async fn run(&mut self, query: AnyQuery<'_>) -> Result<AnyQueryResult, StoreError> {
        Ok(query.execute(self.connection()).await?)
    }

    /// Runs a query and reads its row, if there is one, as an `R`.
    pub(crate) async fn one<R: Record>(
        &mut self,
        query: AnyQuery<'_>,
    ) -> Result<Option<R>, StoreError> {
        let row = query.fetch_optional(self.connection()).await?;
        row.map(|row| R::read(&Columns::new(&row, R::TABLE)))
            .transpose()
    }

    /// Runs a query and reads every row it returns as an `R`.
    pub(crate) async fn all<R: Record>(
        &mut self,
        query: AnyQuery<'_>,
    ) -> Result<Vec<R>, StoreError> {
        let rows = query.fetch_all(self.connection()).await?;
        rows.iter()
            .map(|row| R::read(&Columns::new(row, R::TABLE)))
            .collect()
    }

    /// Runs a query that returns one row with one integer column named `n` (a count, or
    /// a counter's value), and reads it; a read error names `table`.
    pub(crate) async fn number(
        &mut self,
        table: &'static str,
        query: AnyQuery<'_>,
    ) -> Result<i64, StoreError> {
        let row = query.fetch_one(self.connection()).await?;
        Columns::new(&row, table).int("n")
    }
}

/// Succeeds when a statement changed exactly one row; otherwise the change did not
/// happen (a key exists, or the row moved on) and `conflict` says why.
pub(crate) fn one_row_or_conflict(
    result: &AnyQueryResult,
    conflict: impl FnOnce() -> String,
) -> Result<(), StoreError> {
    if result.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(conflict()))
    }
}

/// The `SELECT` of a record's columns from its table, followed by `rest` (the `WHERE`,
/// `ORDER BY` and `LIMIT` clauses).
pub(crate) fn select<R: Record>(rest: &str) -> String {
    format!("SELECT {} FROM {} {rest}", R::COLUMNS, R::TABLE)
}

/// A type read from one row of one table.
pub(crate) trait Record: Sized {
    /// The table the row comes from, named in read errors.
    const TABLE: &'static str;
    /// The columns [`Record::read`] reads, comma-separated, for the `SELECT`.
    const COLUMNS: &'static str;
    /// Reads one row.
    fn read(row: &Columns<'_>) -> Result<Self, StoreError>;
}

/// A row with its table's name, so that every read error says `table.column`.
pub(crate) struct Columns<'r> {
    row: &'r AnyRow,
    table: &'static str,
}

impl<'r> Columns<'r> {
    pub(crate) fn new(row: &'r AnyRow, table: &'static str) -> Columns<'r> {
        Columns { row, table }
    }

    /// The error for a column whose stored value this build cannot read.
    pub(crate) fn corrupt(&self, column: &'static str, reason: impl fmt::Display) -> StoreError {
        StoreError::Corrupt {
            table: self.table,
            column,
            reason: reason.to_string(),
        }
    }

    fn get<T>(&self, column: &'static str) -> Result<T, StoreError>
    where
        T: for<'v> sqlx::Decode<'v, Any> + Type<Any>,
    {
        self.row
            .try_get(column)
            .map_err(|error| self.corrupt(column, error))
    }

    /// A text column.
    pub(crate) fn text(&self, column: &'static str) -> Result<String, StoreError> {
        self.get(column)
    }

    /// A text column that may be NULL.
    pub(crate) fn optional_text(&self, column: &'static str) -> Result<Option<String>, StoreError> {
        self.get(column)
    }

    /// An integer column.
    pub(crate) fn int(&self, column: &'static str) -> Result<i64, StoreError> {
        self.get(column)
    }

    /// A time column (milliseconds since the epoch).
    pub(crate) fn time(&self, column: &'static str) -> Result<Timestamp, StoreError> {
        self.int(column).map(Timestamp)
    }

    /// A time column that may be NULL.
    pub(crate) fn optional_time(
        &self,
        column: &'static str,
    ) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.get::<Option<i64>>(column)?.map(Timestamp))
    }

    /// A flag column: `BIGINT` 0 or 1 (the portable boolean). Any other value is corrupt.
    pub(crate) fn flag(&self, column: &'static str) -> Result<bool, StoreError> {
        match self.int(column)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(self.corrupt(column, format!("flag {other} is neither 0 nor 1"))),
        }
    }

    /// A column holding one stable code (or identifier), parsed into its type.
    pub(crate) fn code<T>(&self, column: &'static str) -> Result<T, StoreError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.text(column)?
            .parse()
            .map_err(|error: T::Err| self.corrupt(column, error))
    }

    /// A column holding a comma-separated list of codes (empty: none).
    pub(crate) fn code_list<T>(&self, column: &'static str) -> Result<Vec<T>, StoreError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.text(column)?
            .split(',')
            .filter(|code| !code.is_empty())
            .map(|code| {
                code.parse()
                    .map_err(|error: T::Err| self.corrupt(column, error))
            })
            .collect()
    }

    /// A column holding JSON text.
    pub(crate) fn json<T: DeserializeOwned>(&self, column: &'static str) -> Result<T, StoreError> {
        serde_json::from_str(&self.text(column)?).map_err(|error| self.corrupt(column, error))
    }
}

/// The codes of a list, comma-separated, as [`Columns::code_list`] reads them back.
pub(crate) fn join_codes<'c>(codes: impl IntoIterator<Item = &'c str>) -> String {
    codes.into_iter().collect::<Vec<_>>().join(",")
}

/// SQL put together at run time (an optional filter, an `IN` list) whose `$n`
/// placeholders are numbered as their values are bound, so that the numbers and the
/// values cannot drift apart.
pub(crate) struct DynamicQuery<'q> {
    sql: String,
    arguments: AnyArguments<'q>,
}

impl<'q> DynamicQuery<'q> {
    /// Starts with fixed SQL that has no placeholders.
    pub(crate) fn new(sql: impl Into<String>) -> DynamicQuery<'q> {
        DynamicQuery {
            sql: sql.into(),
            arguments: AnyArguments::default(),
        }
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Binds a value and appends its placeholder.
    pub(crate) fn bind<T>(&mut self, value: T) -> Result<&mut Self, StoreError>
    where
        T: 'q + Encode<'q, Any> + Type<Any>,
    {
        self.arguments
            .add(value)
            .map_err(|error| StoreError::Database(sqlx::Error::Encode(error)))?;
        self.sql.push_str(&format!("${}", self.arguments.len()));
        Ok(self)
    }

    /// Binds each value and appends their placeholders, comma-separated (for `IN (...)`).
    pub(crate) fn bind_list<T>(
        &mut self,
        values: impl IntoIterator<Item = T>,
    ) -> Result<&mut Self, StoreError>
    where
        T: 'q + Encode<'q, Any> + Type<Any>,
    {
        for (index, value) in values.into_iter().enumerate() {
            if index > 0 {
                self.sql.push_str(", ");
            }
            self.bind(value)?;
        }
        Ok(self)
    }

    /// The SQL and its bound values, for `sqlx::query_with`.
    pub(crate) fn into_parts(self) -> (String, AnyArguments<'q>) {
        (self.sql, self.arguments)
    }
}

#[cfg(test)]
mod tests {
    use super::DynamicQuery;

    #[test]
    fn placeholders_are_numbered_in_binding_order() {
        let mut query = DynamicQuery::new("SELECT 1 FROM t WHERE a IN (");
        query
            .bind_list(["x", "y"])
            .expect("bind")
            .push(") AND b = ")
            .bind(7_i64)
            .expect("bind");
        let (sql, arguments) = query.into_parts();
        assert_eq!(sql, "SELECT 1 FROM t WHERE a IN ($1, $2) AND b = $3");
        assert_eq!(sqlx::Arguments::len(&arguments), 3);
    }
}
