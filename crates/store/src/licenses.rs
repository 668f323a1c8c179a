//! The installation seed (the license id derives from it, guide 3.3.1) and
//! the license files loaded (3.3.2). The store keeps text; verifying it is
//! `twp-access`'s job, at load time and again when it is read.

use sqlx::{AnyConnection, Row};

use crate::{StoreError, now_ms};

/// Returns the installation seed, storing `fresh` first if there is none
/// yet: the first caller's seed wins, later ones read it.
pub async fn ensure_seed(c: &mut AnyConnection, fresh: &str) -> Result<String, StoreError> {
    sqlx::query(
        "INSERT INTO installation (id, seed, grant_version, created_at) VALUES (1, $1, 0, $2)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(fresh)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    seed(c).await?.ok_or(StoreError::NotFound("installation"))
}

/// The installation seed, if the installation row exists.
pub async fn seed(c: &mut AnyConnection) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query("SELECT seed FROM installation WHERE id = 1")
        .fetch_optional(c)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?)
}

/// A loaded license file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLicense {
    pub id: i64,
    pub text: String,
    pub customer: String,
    pub expires: String,
    pub loaded_at: i64,
    pub loaded_by: String,
}

/// Records a license file (already verified); it becomes the current one.
pub async fn insert(
    c: &mut AnyConnection,
    text: &str,
    customer: &str,
    expires: &str,
    loaded_by: &str,
) -> Result<StoredLicense, StoreError> {
    let now = now_ms();
    let id: i64 = sqlx::query(
        "INSERT INTO licenses (text, customer, expires, loaded_at, loaded_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(text)
    .bind(customer)
    .bind(expires)
    .bind(now)
    .bind(loaded_by)
    .fetch_one(c)
    .await?
    .try_get(0)?;
    Ok(StoredLicense {
        id,
        text: text.to_owned(),
        customer: customer.to_owned(),
        expires: expires.to_owned(),
        loaded_at: now,
        loaded_by: loaded_by.to_owned(),
    })
}

/// The newest license loaded, if any.
pub async fn current(c: &mut AnyConnection) -> Result<Option<StoredLicense>, StoreError> {
    let row = sqlx::query(
        "SELECT id, text, customer, expires, loaded_at, loaded_by FROM licenses ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(c)
    .await?;
    row.map(|r| {
        Ok(StoredLicense {
            id: r.try_get(0)?,
            text: r.try_get(1)?,
            customer: r.try_get(2)?,
            expires: r.try_get(3)?,
            loaded_at: r.try_get(4)?,
            loaded_by: r.try_get(5)?,
        })
    })
    .transpose()
}
