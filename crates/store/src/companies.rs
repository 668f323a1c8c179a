//! Companies (guide 3.1): fully independent tenants.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use twp_domain::{AdminScope, Company, CompanyId};

use crate::page::like_pattern;
use crate::sqlbuild::company_id_list;
use crate::{Page, PageRequest, StoreError, name_key, now_ms};

const COLUMNS: &str = "id, name, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<Company, sqlx::Error> {
    Ok(Company {
        id: CompanyId(r.try_get("id")?),
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn create(c: &mut AnyConnection, name: &str) -> Result<Company, StoreError> {
    let now = now_ms();
    let row = sqlx::query(&format!(
        "INSERT INTO companies (name, name_key, created_at, updated_at)
         VALUES ($1, $2, $3, $3) RETURNING {COLUMNS}"
    ))
    .bind(name)
    .bind(name_key(name))
    .bind(now)
    .fetch_one(c)
    .await
    .map_err(StoreError::classify)?;
    Ok(from_row(&row)?)
}

pub async fn get(c: &mut AnyConnection, id: CompanyId) -> Result<Company, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM companies WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound("company"))?;
    Ok(from_row(&row)?)
}

/// Companies visible in `scope`, filtered by a name fragment.
pub async fn list(
    c: &mut AnyConnection,
    scope: &AdminScope,
    q: Option<&str>,
    page: &PageRequest,
) -> Result<Page<Company>, StoreError> {
    let mut sql = format!("SELECT {COLUMNS} FROM companies WHERE id > $1");
    if q.is_some() {
        sql.push_str(" AND name_key LIKE $3 ESCAPE '\\'");
    }
    if let AdminScope::Companies(ids) = scope {
        sql.push_str(&format!(" AND id IN ({})", company_id_list(ids)));
    }
    sql.push_str(" ORDER BY id LIMIT $2");
    let mut query = sqlx::query(&sql)
        .bind(page.after_or_zero())
        .bind(page.fetch_limit());
    if let Some(q) = q {
        query = query.bind(like_pattern(q));
    }
    let rows = query.fetch_all(c).await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page, |x| x.id.0))
}

pub async fn rename(
    c: &mut AnyConnection,
    id: CompanyId,
    name: &str,
) -> Result<Company, StoreError> {
    let row = sqlx::query(&format!(
        "UPDATE companies SET name = $1, name_key = $2, updated_at = $3 WHERE id = $4 RETURNING {COLUMNS}"
    ))
    .bind(name)
    .bind(name_key(name))
    .bind(now_ms())
    .bind(id.0)
    .fetch_optional(c)
    .await
    .map_err(StoreError::classify)?
    .ok_or(StoreError::NotFound("company"))?;
    Ok(from_row(&row)?)
}

/// Deletes a company and everything in it (domains, users, groups).
pub async fn delete(c: &mut AnyConnection, id: CompanyId) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM companies WHERE id = $1")
        .bind(id.0)
        .execute(c)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("company"));
    }
    Ok(())
}
