//! Administrators (guide 3.2, 10.1), their company scope, login state and
//! sessions. Session tokens are stored as hashes only.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use twp_domain::{AdminScope, Administrator, CompanyId};

use crate::{Page, PageRequest, StoreError, name_key, now_ms};

const COLUMNS: &str = "id, name, super_user, must_change_password, created_at, updated_at";

/// What login needs to know about an administrator.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub admin: Administrator,
    pub password_hash: String,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
}

fn get_bool(r: &AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    r.try_get::<bool, _>(col)
        .or_else(|_| r.try_get::<i64, _>(col).map(|v| v != 0))
}

async fn from_row(c: &mut AnyConnection, r: &AnyRow) -> Result<Administrator, StoreError> {
    let id: i64 = r.try_get("id")?;
    let scope = if get_bool(r, "super_user")? {
        AdminScope::SuperUser
    } else {
        let rows = sqlx::query("SELECT company_id FROM administrator_companies WHERE admin_id = $1 ORDER BY company_id")
            .bind(id)
            .fetch_all(c)
            .await?;
        AdminScope::Companies(
            rows.iter()
                .map(|r| r.try_get(0).map(CompanyId))
                .collect::<Result<_, _>>()?,
        )
    };
    Ok(Administrator {
        id,
        name: r.try_get("name")?,
        scope,
        must_change_password: get_bool(r, "must_change_password")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

async fn set_companies(
    c: &mut AnyConnection,
    id: i64,
    scope: &AdminScope,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM administrator_companies WHERE admin_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    if let AdminScope::Companies(list) = scope {
        for company in list {
            sqlx::query(
                "INSERT INTO administrator_companies (admin_id, company_id) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(company.0)
            .execute(&mut *c)
            .await
            .map_err(|e| match StoreError::classify(e) {
                StoreError::InvalidReference { .. } => StoreError::InvalidReference {
                    field: "companyIds",
                    message: format!("company {company} does not exist"),
                },
                StoreError::Conflict { .. } => StoreError::Conflict {
                    field: "companyIds",
                    message: format!("company {company} is listed twice"),
                },
                other => other,
            })?;
        }
    }
    Ok(())
}

pub async fn count(c: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(sqlx::query("SELECT COUNT(*) FROM administrators")
        .fetch_one(c)
        .await?
        .try_get(0)?)
}

pub async fn create(
    c: &mut AnyConnection,
    name: &str,
    password_hash: &str,
    scope: &AdminScope,
    must_change_password: bool,
) -> Result<Administrator, StoreError> {
    let id: i64 = sqlx::query(
        "INSERT INTO administrators (name, name_key, password_hash, super_user, must_change_password, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(name)
    .bind(name_key(name))
    .bind(password_hash)
    .bind(scope.is_super_user())
    .bind(must_change_password)
    .bind(now_ms())
    .fetch_one(&mut *c)
    .await
    .map_err(StoreError::classify)?
    .try_get(0)?;
    set_companies(&mut *c, id, scope).await?;
    get(c, id).await
}

pub async fn get(c: &mut AnyConnection, id: i64) -> Result<Administrator, StoreError> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM administrators WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound("administrator"))?;
    from_row(c, &r).await
}

pub async fn credentials(
    c: &mut AnyConnection,
    name: &str,
) -> Result<Option<Credentials>, StoreError> {
    let Some(r) = sqlx::query(&format!(
        "SELECT {COLUMNS}, password_hash, failed_logins, locked_until FROM administrators WHERE name_key = $1"
    ))
    .bind(name_key(name))
    .fetch_optional(&mut *c)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(Credentials {
        password_hash: r.try_get("password_hash")?,
        failed_logins: r.try_get("failed_logins")?,
        locked_until: r.try_get("locked_until")?,
        admin: from_row(c, &r).await?,
    }))
}

pub async fn list(
    c: &mut AnyConnection,
    page: &PageRequest,
) -> Result<Page<Administrator>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM administrators WHERE id > $1 ORDER BY id LIMIT $2"
    ))
    .bind(page.after_or_zero())
    .bind(page.fetch_limit())
    .fetch_all(&mut *c)
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(from_row(&mut *c, r).await?);
    }
    Ok(Page::from_rows(items, page, |a| a.id))
}

pub async fn update(
    c: &mut AnyConnection,
    id: i64,
    name: &str,
    scope: &AdminScope,
) -> Result<Administrator, StoreError> {
    let done = sqlx::query(
        "UPDATE administrators SET name = $1, name_key = $2, super_user = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(name)
    .bind(name_key(name))
    .bind(scope.is_super_user())
    .bind(now_ms())
    .bind(id)
    .execute(&mut *c)
    .await
    .map_err(StoreError::classify)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("administrator"));
    }
    set_companies(&mut *c, id, scope).await?;
    get(c, id).await
}

/// Sets a new password hash, clears the lock-out, and ends every session of
/// this administrator (a changed password must log out stolen tokens).
pub async fn set_password(
    c: &mut AnyConnection,
    id: i64,
    password_hash: &str,
    must_change_password: bool,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE administrators SET password_hash = $1, must_change_password = $2, failed_logins = 0,
             locked_until = NULL, updated_at = $3 WHERE id = $4",
    )
    .bind(password_hash)
    .bind(must_change_password)
    .bind(now_ms())
    .bind(id)
    .execute(&mut *c)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("administrator"));
    }
    sqlx::query("DELETE FROM admin_sessions WHERE admin_id = $1")
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

/// Records a failed login; returns the new count of consecutive failures.
pub async fn record_failure(
    c: &mut AnyConnection,
    id: i64,
    locked_until: Option<i64>,
) -> Result<i64, StoreError> {
    let r = sqlx::query(
        "UPDATE administrators SET failed_logins = failed_logins + 1, locked_until = $1 WHERE id = $2
         RETURNING failed_logins",
    )
    .bind(locked_until)
    .bind(id)
    .fetch_one(c)
    .await?;
    Ok(r.try_get(0)?)
}

pub async fn record_success(c: &mut AnyConnection, id: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE administrators SET failed_logins = 0, locked_until = NULL WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn count_super_users(c: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM administrators WHERE super_user = $1")
            .bind(true)
            .fetch_one(c)
            .await?
            .try_get(0)?,
    )
}

pub async fn delete(c: &mut AnyConnection, id: i64) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM administrators WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("administrator"));
    }
    Ok(())
}

// ---- sessions ----

pub async fn create_session(
    c: &mut AnyConnection,
    token_hash: &str,
    admin_id: i64,
    expires_at: i64,
    client: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO admin_sessions (token_hash, admin_id, created_at, expires_at, client) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(admin_id)
    .bind(now_ms())
    .bind(expires_at)
    .bind(client)
    .execute(c)
    .await?;
    Ok(())
}

/// The administrator owning a live session, with the session's expiry.
pub async fn session(
    c: &mut AnyConnection,
    token_hash: &str,
) -> Result<Option<(Administrator, i64)>, StoreError> {
    let Some(r) = sqlx::query(
        "SELECT a.id, a.name, a.super_user, a.must_change_password, a.created_at, a.updated_at, s.expires_at
         FROM admin_sessions s JOIN administrators a ON a.id = s.admin_id
         WHERE s.token_hash = $1 AND s.expires_at > $2"
    )
    .bind(token_hash)
    .bind(now_ms())
    .fetch_optional(&mut *c)
    .await?
    else {
        return Ok(None);
    };
    let expires: i64 = r.try_get("expires_at")?;
    Ok(Some((from_row(c, &r).await?, expires)))
}

pub async fn end_session(c: &mut AnyConnection, token_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM admin_sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(c)
        .await?;
    Ok(())
}

/// Removes expired sessions; returns how many.
pub async fn purge_sessions(c: &mut AnyConnection) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= $1")
            .bind(now_ms())
            .execute(c)
            .await?
            .rows_affected(),
    )
}
