//! Schema migrations on every backend: a fresh database, a database made by the
//! hand-written runner that came before sqlx's migrator, and a database on which a
//! shipped migration has since been edited.

use comity_store::{Store, StoreError};
use sqlx::{AnyPool, Executor, Row};

/// The migrations the hand-written runner shipped: a database it made has these.
const OLD_RUNNER_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_core.sql")),
    (2, include_str!("../../migrations/0002_accounts.sql")),
    (
        3,
        include_str!("../../migrations/0003_second_factor_sso.sql"),
    ),
];

/// An empty SQLite file and, when `COMITY_TEST_DATABASE_URL` is set, an empty
/// PostgreSQL database; the directory keeps the file alive.
pub(crate) async fn empty_databases() -> (tempfile::TempDir, Vec<String>) {
    let directory = tempfile::tempdir().expect("temp dir");
    let mut urls = vec![Store::sqlite_url(&directory.path().join("comity.db"))];
    if let Some(url) = comity_store::test_support::fresh_postgres_url()
        .await
        .expect("create postgres database")
    {
        urls.push(url);
    }
    (directory, urls)
}

pub(crate) async fn raw_pool(url: &str) -> AnyPool {
    sqlx::any::install_default_drivers();
    AnyPool::connect(url).await.expect("connect")
}

/// What the hand-written runner did: statements split on `;`, comment lines dropped,
/// versions recorded in `schema_migrations` with no checksum.
async fn migrate_like_the_old_runner(pool: &AnyPool) {
    pool.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await
    .expect("old table");
    for (version, sql) in OLD_RUNNER_MIGRATIONS {
        let mut tx = pool.begin().await.expect("begin");
        for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let without_comments: String = statement
                .lines()
                .filter(|line| !line.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n");
            if !without_comments.trim().is_empty() {
                tx.execute(without_comments.as_str())
                    .await
                    .expect("old statement");
            }
        }
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)")
            .bind(*version)
            .execute(&mut *tx)
            .await
            .expect("old record");
        tx.commit().await.expect("commit");
    }
}

/// The migrations recorded for sqlx's migrator: version and checksum.
async fn recorded_migrations(pool: &AnyPool) -> Vec<(i64, Vec<u8>)> {
    sqlx::query("SELECT version, checksum FROM _sqlx_migrations ORDER BY version")
        .fetch_all(pool)
        .await
        .expect("recorded migrations")
        .iter()
        .map(|row| {
            (
                row.try_get("version").expect("version"),
                row.try_get("checksum").expect("checksum"),
            )
        })
        .collect()
}

async fn has_table(pool: &AnyPool, url: &str, table: &str) -> bool {
    let sql = if url.starts_with("sqlite:") {
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = $1"
    } else {
        "SELECT COUNT(*) AS n FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_name = $1"
    };
    let count: i64 = sqlx::query(sql)
        .bind(table)
        .fetch_one(pool)
        .await
        .expect("table lookup")
        .try_get("n")
        .expect("count");
    count > 0
}

/// How many migration files the crate ships.
fn shipped_migration_files() -> i64 {
    let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    let count = std::fs::read_dir(directory)
        .expect("migrations directory")
        .filter(|entry| {
            entry
                .as_ref()
                .is_ok_and(|entry| entry.path().extension().is_some_and(|ext| ext == "sql"))
        })
        .count();
    i64::try_from(count).expect("count")
}

#[tokio::test]
async fn a_fresh_database_gets_every_shipped_migration_with_its_checksum() {
    let (_directory, urls) = empty_databases().await;
    for url in urls {
        let store = Store::open(&url).await.expect("open");
        store.close().await;
        let pool = raw_pool(&url).await;
        let recorded = recorded_migrations(&pool).await;
        let versions: Vec<i64> = recorded.iter().map(|(version, _)| *version).collect();
        assert_eq!(
            versions,
            (1..=shipped_migration_files()).collect::<Vec<_>>(),
            "{url}: every file under migrations/ is listed and applied once"
        );
        assert!(
            recorded.iter().all(|(_, checksum)| checksum.len() == 48),
            "SHA-384 checksums"
        );
        assert!(!has_table(&pool, &url, "schema_migrations").await);
        pool.close().await;
        // Opening again applies nothing and changes nothing.
        let store = Store::open(&url).await.expect("reopen");
        store.close().await;
        let pool = raw_pool(&url).await;
        assert_eq!(recorded_migrations(&pool).await.len(), versions.len());
        pool.close().await;
    }
}

#[tokio::test]
async fn a_database_of_the_old_runner_is_bridged_without_loss() {
    let (_fresh_directory, fresh_urls) = empty_databases().await;
    let (_directory, urls) = empty_databases().await;
    for (url, fresh_url) in urls.iter().zip(&fresh_urls) {
        let pool = raw_pool(url).await;
        migrate_like_the_old_runner(&pool).await;
        sqlx::query(
            "INSERT INTO authorities (id, country, kind, name, node_id, is_local) \
             VALUES ('es-ca', 'ES', $1, 'Old authority', 'node-a', 1)",
        )
        .bind(comity_domain::AuthorityKind::CentralAuthority.code())
        .execute(&pool)
        .await
        .expect("old row");
        pool.close().await;

        let store = Store::open(url)
            .await
            .expect("open a database of the old runner");
        let mut tx = store.begin().await.expect("begin");
        let authority = tx
            .authority(&"es-ca".parse().expect("id"))
            .await
            .expect("read")
            .expect("the old row is still there");
        assert_eq!(authority.authority.name, "Old authority");
        tx.commit().await.expect("commit");
        store.close().await;

        // The bridged record matches what a fresh database records, version for
        // version and checksum for checksum, and the old table is gone.
        let fresh = Store::open(fresh_url).await.expect("fresh");
        fresh.close().await;
        let fresh_pool = raw_pool(fresh_url).await;
        let pool = raw_pool(url).await;
        assert_eq!(
            recorded_migrations(&pool).await,
            recorded_migrations(&fresh_pool).await,
            "{url}"
        );
        assert!(!has_table(&pool, url, "schema_migrations").await);
        pool.close().await;
        fresh_pool.close().await;

        // Opening again runs nothing twice.
        let store = Store::open(url).await.expect("reopen");
        store.close().await;
    }
}

#[tokio::test]
async fn a_database_whose_migration_was_edited_since_is_refused() {
    let (_directory, urls) = empty_databases().await;
    for url in urls {
        let store = Store::open(&url).await.expect("open");
        store.close().await;
        let pool = raw_pool(&url).await;
        sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = 2")
            .bind(vec![0_u8; 48])
            .execute(&pool)
            .await
            .expect("tamper");
        pool.close().await;

        let error = Store::open(&url).await.expect_err("edited migration");
        let StoreError::Migration(message) = &error else {
            panic!("{url}: expected a migration error, got {error}");
        };
        assert!(message.contains("migration 2"), "{message}");
        assert!(message.contains("edited"), "{message}");
    }
}

#[tokio::test]
async fn a_database_of_the_old_runner_from_a_newer_build_is_refused_and_left_as_it_was() {
    let (_directory, urls) = empty_databases().await;
    for url in urls {
        let pool = raw_pool(&url).await;
        migrate_like_the_old_runner(&pool).await;
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)")
            .execute(&pool)
            .await
            .expect("unknown version");
        pool.close().await;

        let error = Store::open(&url).await.expect_err("unknown version");
        assert!(
            matches!(&error, StoreError::Migration(message) if message.contains("999")),
            "{error}"
        );
        let pool = raw_pool(&url).await;
        assert!(has_table(&pool, &url, "schema_migrations").await);
        assert!(
            !has_table(&pool, &url, "_sqlx_migrations").await
                || recorded_migrations(&pool).await.is_empty()
        );
        pool.close().await;
    }
}

#[tokio::test]
async fn processes_starting_together_on_postgresql_migrate_once() {
    let Some(url) = comity_store::test_support::fresh_postgres_url()
        .await
        .expect("create postgres database")
    else {
        return;
    };
    // Without the migration lock, the second would run migration 1 again and fail on
    // a table that exists.
    let (first, second, third) =
        tokio::join!(Store::open(&url), Store::open(&url), Store::open(&url));
    for store in [first, second, third] {
        store.expect("open while others open").close().await;
    }
    let pool = raw_pool(&url).await;
    assert_eq!(
        recorded_migrations(&pool).await.len() as i64,
        shipped_migration_files()
    );
    pool.close().await;
}
