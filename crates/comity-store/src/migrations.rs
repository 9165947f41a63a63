//! Schema migrations: the SQL files under `migrations/`, embedded in the binary and
//! applied by sqlx's migrator.
//!
//! The migrator records each applied migration with a checksum of its text in
//! `_sqlx_migrations`, refuses to start on a database where a recorded checksum differs
//! from the shipped file (so "never edit a shipped migration" is enforced), holds an
//! advisory lock on PostgreSQL so that two processes starting together do not both
//! migrate, and runs each file whole, in one transaction.
//!
//! Databases created before this runner (by the hand-written one it replaced) record
//! their versions in `schema_migrations`, without checksums. [`run`] recognises such a
//! database once, records its versions for the migrator with the checksums of the files
//! that created them, and drops the old table, so that nothing runs twice.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migrate, MigrateError, Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AnyConnection, AnyPool, Connection, Row};

use crate::{Backend, StoreError};

/// Every migration: version and SQL, one line per file. Append only; never edit one that
/// has shipped: a database that applied it would refuse to start.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_core.sql")),
    (2, include_str!("../migrations/0002_accounts.sql")),
    (3, include_str!("../migrations/0003_second_factor_sso.sql")),
    (4, include_str!("../migrations/0004_federation_alerts.sql")),
    (
        5,
        include_str!("../migrations/0005_inbox_waiting_by_sender.sql"),
    ),
];

/// The table in which the hand-written runner recorded applied versions.
const OLD_RUNNER_TABLE: &str = "schema_migrations";

/// The embedded migrations, as sqlx's migrator reads them.
#[derive(Debug)]
struct Embedded;

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        Box::pin(async { Ok(embedded()) })
    }
}

/// The embedded migrations in order, each described by its first comment line.
fn embedded() -> Vec<Migration> {
    MIGRATIONS
        .iter()
        .map(|&(version, sql)| {
            Migration::new(
                version,
                Cow::Owned(description(sql)),
                MigrationType::Simple,
                Cow::Borrowed(sql),
                false,
            )
        })
        .collect()
}

/// The text of a migration's first line when it is a `--` comment, for
/// `_sqlx_migrations.description`.
fn description(sql: &str) -> String {
    sql.lines()
        .next()
        .and_then(|line| line.trim().strip_prefix("--"))
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "migration".to_string())
}

/// Brings the schema up to date: bridges a database of the old runner, then applies the
/// migrations it has not seen yet, all under the migration lock.
pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    let mut migrator = Migrator::new(Embedded).await.map_err(refusal)?;
    // The lock is taken here, around the bridge as well, rather than by the migrator.
    migrator.set_locking(false);
    let mut connection = pool.acquire().await?;
    connection.lock().await.map_err(refusal)?;
    let outcome = async {
        bridge_old_runner(&mut connection, backend, &migrator).await?;
        migrator.run(&mut *connection).await.map_err(refusal)
    }
    .await;
    let unlocked = connection.unlock().await.map_err(refusal);
    outcome.and(unlocked)
}

/// Records the versions applied by the old runner for sqlx's migrator, with the
/// checksums of the embedded files (the old runner ran exactly these texts), and drops
/// its table; in one transaction. Does nothing on a database the old runner never saw.
async fn bridge_old_runner(
    connection: &mut AnyConnection,
    backend: Backend,
    migrator: &Migrator,
) -> Result<(), StoreError> {
    let lookup = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = $1"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) AS n FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1"
        }
    };
    let found: i64 = sqlx::query(lookup)
        .bind(OLD_RUNNER_TABLE)
        .fetch_one(&mut *connection)
        .await?
        .try_get("n")?;
    if found == 0 {
        return Ok(());
    }
    connection
        .ensure_migrations_table()
        .await
        .map_err(refusal)?;
    let mut tx = connection.begin().await?;
    let versions: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations ORDER BY version")
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.try_get("version"))
        .collect::<Result<_, _>>()?;
    for version in versions {
        let migration = migrator
            .iter()
            .find(|migration| migration.version == version)
            .ok_or_else(|| {
                StoreError::Migration(format!(
                    "the database records migration {version}, which this build does not \
                     have: it was written by a newer version of Comity"
                ))
            })?;
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ($1, $2, TRUE, $3, -1) ON CONFLICT (version) DO NOTHING",
        )
        .bind(version)
        .bind(migration.description.as_ref())
        .bind(migration.checksum.to_vec())
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("DROP TABLE schema_migrations")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!("recorded the old schema_migrations versions for sqlx's migrator");
    Ok(())
}

/// Says why the schema could not be brought up to date, in words for an operator.
fn refusal(error: MigrateError) -> StoreError {
    match error {
        MigrateError::VersionMismatch(version) => StoreError::Migration(format!(
            "migration {version} applied to this database differs from the one this build \
             ships (its checksum changed): a shipped migration was edited; restore it and put \
             the change in a new migration"
        )),
        MigrateError::VersionMissing(version) => StoreError::Migration(format!(
            "the database records migration {version}, which this build does not have: it was \
             written by a newer version of Comity"
        )),
        MigrateError::Dirty(version) => StoreError::Migration(format!(
            "migration {version} failed part-way on an earlier start; repair the database \
             before starting again"
        )),
        MigrateError::ExecuteMigration(error, version) => {
            StoreError::Migration(format!("migration {version} failed: {error}"))
        }
        MigrateError::Execute(error) => StoreError::Database(error),
        other => StoreError::Migration(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::{MIGRATIONS, description, embedded};

    #[test]
    fn versions_ascend_from_one_without_gaps() {
        let versions: Vec<i64> = MIGRATIONS.iter().map(|(version, _)| *version).collect();
        let expected: Vec<i64> = (1..=versions.len() as i64).collect();
        assert_eq!(versions, expected);
    }

    #[test]
    fn descriptions_come_from_the_first_comment_line() {
        assert_eq!(
            description("-- Core schema.\nCREATE TABLE t (a TEXT);"),
            "Core schema."
        );
        assert_eq!(description("CREATE TABLE t (a TEXT);"), "migration");
        assert!(
            embedded()
                .iter()
                .all(|migration| migration.description != "migration")
        );
    }
}
