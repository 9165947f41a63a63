//! Reading rows back: a stored value this build cannot read is reported as corrupt,
//! naming its table and column, on every backend.

use comity_domain::Side;
use comity_store::{Store, StoreError};

use crate::migrations::{empty_databases, raw_pool};

/// Runs `statement` on the database behind a store, outside the store: how a value the
/// store would never write gets there.
async fn tamper(url: &str, statement: &str) {
    let pool = raw_pool(url).await;
    sqlx::query(statement).execute(&pool).await.expect("tamper");
    pool.close().await;
}

fn assert_corrupt<T: std::fmt::Debug>(result: Result<T, StoreError>, table: &str, column: &str) {
    match result {
        Err(StoreError::Corrupt {
            table: found_table,
            column: found_column,
            ..
        }) => assert_eq!((found_table, found_column), (table, column)),
        other => panic!("expected {table}.{column} to be corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn unreadable_values_are_reported_as_corrupt_with_their_table_and_column() {
    let (_directory, urls) = empty_databases().await;
    for url in urls {
        let store = Store::open(&url).await.expect("open");
        crate::seed(&store).await;
        let es: comity_domain::AuthorityId = "es-ca".parse().expect("id");

        // A readable row reads.
        let mut tx = store.begin().await.expect("begin");
        assert!(tx.authority(&es).await.expect("read").is_some());
        assert!(
            tx.request("req-1", Side::Requesting)
                .await
                .expect("read")
                .is_some()
        );
        drop(tx);

        tamper(
            &url,
            "UPDATE authorities SET kind = 'oracle' WHERE id = 'es-ca'",
        )
        .await;
        let mut tx = store.begin().await.expect("begin");
        assert_corrupt(tx.authority(&es).await, "authorities", "kind");
        drop(tx);

        tamper(
            &url,
            "UPDATE authorities SET kind = 'central_authority', is_local = 2 WHERE id = 'es-ca'",
        )
        .await;
        let mut tx = store.begin().await.expect("begin");
        assert_corrupt(tx.authority(&es).await, "authorities", "is_local");
        drop(tx);

        tamper(
            &url,
            "UPDATE requests SET content_version = 99 WHERE id = 'req-1'",
        )
        .await;
        let mut tx = store.begin().await.expect("begin");
        assert_corrupt(
            tx.request("req-1", Side::Requesting).await,
            "requests",
            "content_version",
        );
        drop(tx);

        tamper(
            &url,
            "UPDATE requests SET content_version = 1, content = '{' WHERE id = 'req-1'",
        )
        .await;
        let mut tx = store.begin().await.expect("begin");
        assert_corrupt(
            tx.request("req-1", Side::Requesting).await,
            "requests",
            "content",
        );
        drop(tx);
        store.close().await;
    }
}
