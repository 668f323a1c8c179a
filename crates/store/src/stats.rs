//! Counts for metrics and the console's dashboards.

use sqlx::Row;

use crate::{Store, StoreError};

const COUNTABLE: &[&str] = &[
    "companies",
    "domains",
    "users",
    "devices",
    "user_groups",
    "administrators",
];

/// Rows in one of the store's main tables.
pub async fn count_rows(store: &Store, table: &str) -> Result<i64, StoreError> {
    // only known table names reach the SQL text
    let Some(t) = COUNTABLE.iter().find(|t| **t == table) else {
        return Err(StoreError::NotFound("table"));
    };
    let mut c = store.read().await?;
    Ok(sqlx::query(&format!("SELECT COUNT(*) FROM {t}"))
        .fetch_one(&mut *c)
        .await?
        .try_get(0)?)
}

/// Refreshes the query planner's statistics (after bulk loads: imports,
/// benchmarks).
pub async fn analyze(store: &Store) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    sqlx::query("ANALYZE").execute(&mut *tx).await?;
    tx.commit().await
}
