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
