//! Fresh databases for tests: a new SQLite file, or a new PostgreSQL database on the
//! server named by `COMITY_TEST_DATABASE_URL`, so that tests run in parallel.

use crate::StoreError;

/// The environment variable naming the PostgreSQL server tests may use.
pub const POSTGRES_URL_VARIABLE: &str = "COMITY_TEST_DATABASE_URL";

/// Creates an empty PostgreSQL database and returns its URL; `None` when
/// `COMITY_TEST_DATABASE_URL` is unset. Under CI (`CI` set) the variable is required,
/// so a CI run can never silently skip the PostgreSQL half of a suite.
pub async fn fresh_postgres_url() -> Result<Option<String>, StoreError> {
    let Ok(base) = std::env::var(POSTGRES_URL_VARIABLE) else {
        if std::env::var_os("CI").is_some() {
            return Err(StoreError::UnsupportedUrl(format!(
                "{POSTGRES_URL_VARIABLE} must be set under CI"
            )));
        }
        eprintln!("note: {POSTGRES_URL_VARIABLE} is unset; PostgreSQL half of this test skipped");
        return Ok(None);
    };
    crate::Store::create_database(&base, "comity_test")
        .await
        .map(Some)
}
