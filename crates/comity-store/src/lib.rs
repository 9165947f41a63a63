//! Comity's storage: one interface over SQLite (embedded default) and PostgreSQL.
//!
//! - [`Store`] opens a database from a URL (`sqlite://...` or `postgres://...`), runs the
//!   migrations and hands out transactions.
//! - [`Tx`] is one transaction; every read and write goes through one, so a use case
//!   that changes a request, appends its history row and queues its outgoing message
//!   does so atomically, and a failure in between leaves nothing behind.
//! - Rows come back as domain types ([`comity_domain::Request`], [`comity_domain::Case`])
//!   or as the small record types of this crate ([`UserRecord`], [`OutboxMessage`]...).
//!
//! Both backends run the same portable SQL through `sqlx`'s `Any` driver; the one test
//! suite in `tests/it` runs against each. Concurrency is optimistic: a request row carries
//! a version, and an update that finds another version fails with [`StoreError::Conflict`].

mod alerts;
mod blob_references;
mod migrations;
mod outbox_hold;
mod records;
pub mod test_support;
mod tx;

pub use alerts::{AlertRecord, OutOfStep, OutboxEntry};
pub use records::{
    AuthorityRecord, InboxMessage, InboxStatus, OutboxMessage, OutboxStatus, RequestFilter,
    SessionRecord, UserRecord,
};
pub use tx::second_factor::{ExternalIdentity, SecondFactorRecord, SsoLoginRecord};
pub use tx::{DeliveredMessage, SequenceClaim, Tx};

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions};

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file (WAL mode).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The row changed since it was read (optimistic concurrency), or a unique key exists.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored value could not be read back: the database holds something this build
    /// does not understand.
    #[error("corrupt stored value in {table}.{column}: {reason}")]
    Corrupt {
        /// Table.
        table: &'static str,
        /// Column.
        column: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The schema could not be brought up to date: a shipped migration was edited, the
    /// database was written by a newer build, or a migration failed.
    #[error("database schema: {0}")]
    Migration(String),
    /// The database file could not be created.
    #[error("cannot create the database file {0}: {1}")]
    Io(String, std::io::Error),
    /// The URL names no supported database.
    #[error("unsupported database url `{0}` (expected sqlite://... or postgres://...)")]
    UnsupportedUrl(String),
}

/// A handle on the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// Creates the SQLite file of `url` readable by its owner only, before SQLite would
/// create it with the process umask. SQLite gives its `-wal` and `-shm` files the
/// database file's permissions, so they follow.
fn create_owner_only(url: &str) -> Result<(), StoreError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path.starts_with(':') || std::path::Path::new(path).exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        // Another process made it in between: SQLite opens it as it is.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(StoreError::Io(path.to_string(), error)),
    }
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        if backend == Backend::Sqlite {
            create_owner_only(url)?;
        }
        let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
        // SQLite has one writer at a time; one connection avoids SQLITE_BUSY on
        // read-then-write transactions and costs nothing measurable at our volumes.
        let max_connections = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => 16,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        use sqlx::Executor;
                        connection.execute("PRAGMA journal_mode = WAL").await?;
                        connection.execute("PRAGMA foreign_keys = ON").await?;
                        connection.execute("PRAGMA synchronous = NORMAL").await?;
                        connection.execute("PRAGMA busy_timeout = 5000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let store = Store { pool, backend };
        migrations::run(&store.pool, backend).await?;
        Ok(store)
    }

    /// Creates an empty database named `{prefix}_{random}` on the PostgreSQL server at
    /// `server_url` and returns the URL of the new database.
    pub async fn create_database(server_url: &str, prefix: &str) -> Result<String, StoreError> {
        use sqlx::{Connection, Executor};
        sqlx::any::install_default_drivers();
        let safe_prefix: String = prefix
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        let name = format!("{safe_prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut connection = sqlx::AnyConnection::connect(server_url).await?;
        connection
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        connection.close().await?;
        let (without_query, query) = match server_url.split_once('?') {
            Some((head, query)) => (head, format!("?{query}")),
            None => (server_url, String::new()),
        };
        let server = match without_query.rfind('/') {
            Some(slash) if slash > "postgres://".len() => &without_query[..slash],
            _ => without_query,
        };
        Ok(format!("{server}/{name}{query}"))
    }

    /// Drops a database [`Store::create_database`] made, once nothing uses it:
    /// `database_url` is the URL it returned, `server_url` the server's.
    pub async fn drop_database(server_url: &str, database_url: &str) -> Result<(), StoreError> {
        use sqlx::{Connection, Executor};
        let path = database_url.split('?').next().unwrap_or(database_url);
        let name = path.rsplit('/').next().unwrap_or_default();
        // Only names `create_database` makes: letters, digits and underscores.
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::UnsupportedUrl(database_url.to_string()));
        }
        let mut connection = sqlx::AnyConnection::connect(server_url).await?;
        connection
            .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
            .await?;
        connection.close().await?;
        Ok(())
    }

    /// The SQLite URL for a database file, created if missing.
    pub fn sqlite_url(path: &std::path::Path) -> String {
        format!("sqlite://{}?mode=rwc", path.display())
    }

    /// Which backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(Tx::new(self.pool.begin().await?))
    }

    /// A connection for reads that need no transaction: each statement sees what is
    /// committed when it runs. Cheaper than [`Store::begin`] for a single read.
    pub async fn read(&self) -> Result<Tx, StoreError> {
        Ok(Tx::without_transaction(self.pool.acquire().await?))
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Writes a consistent copy of a SQLite database to `path` (a new file), while the
    /// node keeps running: SQLite's `VACUUM INTO` reads one snapshot. PostgreSQL has its
    /// own tools (`pg_dump`), so it is refused here.
    pub async fn backup_sqlite_to(&self, path: &std::path::Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Conflict(
                "this node runs on PostgreSQL: back its database up with pg_dump".into(),
            ));
        }
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::Conflict("the backup path is not UTF-8".into()))?;
        // VACUUM INTO makes the file itself; the caller puts it in an owner-only folder,
        // and it is made owner-only below.
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|error| StoreError::Io(target.to_string(), error))?;
        }
        Ok(())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
