//! Domains (guide 3.1): users of one company sharing one technical
//! environment. Every query is scoped by company.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use twp_domain::{CompanyId, Domain, DomainId};

use crate::page::like_pattern;
use crate::{Page, PageRequest, StoreError, name_key, now_ms};

const COLUMNS: &str = "id, company_id, name, numbering_plan_length, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<Domain, sqlx::Error> {
    Ok(Domain {
        id: DomainId(r.try_get("id")?),
        company_id: CompanyId(r.try_get("company_id")?),
        name: r.try_get("name")?,
        numbering_plan_length: r.try_get("numbering_plan_length")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn create(
    c: &mut AnyConnection,
    company: CompanyId,
    name: &str,
    numbering_plan_length: i64,
) -> Result<Domain, StoreError> {
    let row = sqlx::query(&format!(
        "INSERT INTO domains (company_id, name, name_key, numbering_plan_length, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING {COLUMNS}"
    ))
    .bind(company.0)
    .bind(name)
    .bind(name_key(name))
    .bind(numbering_plan_length)
    .bind(now_ms())
    .fetch_one(c)
    .await
    .map_err(StoreError::classify)?;
    Ok(from_row(&row)?)
}

/// Checks that `domain` is a domain of `company`: a domain id of another
/// company in a request body is refused as an invalid `domainId`.
pub(crate) async fn check_in_company(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
) -> Result<(), StoreError> {
    sqlx::query("SELECT id FROM domains WHERE id = $1 AND company_id = $2")
        .bind(domain.0)
        .bind(company.0)
        .fetch_optional(c)
        .await?
        .map(|_| ())
        .ok_or(StoreError::InvalidReference {
            field: "domainId",
            message: "no such domain in this company".into(),
        })
}

pub async fn get(
    c: &mut AnyConnection,
    company: CompanyId,
    id: DomainId,
) -> Result<Domain, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM domains WHERE id = $1 AND company_id = $2"
    ))
    .bind(id.0)
    .bind(company.0)
    .fetch_optional(c)
    .await?
    .ok_or(StoreError::NotFound("domain"))?;
    Ok(from_row(&row)?)
}

pub async fn list(
    c: &mut AnyConnection,
    company: CompanyId,
    q: Option<&str>,
    page: &PageRequest,
) -> Result<Page<Domain>, StoreError> {
    let mut sql = format!("SELECT {COLUMNS} FROM domains WHERE company_id = $1 AND id > $2");
    if q.is_some() {
        sql.push_str(" AND name_key LIKE $4 ESCAPE '\\'");
    }
    sql.push_str(" ORDER BY id LIMIT $3");
    let mut query = sqlx::query(&sql)
        .bind(company.0)
        .bind(page.after_or_zero())
        .bind(page.fetch_limit());
    if let Some(q) = q {
        query = query.bind(like_pattern(q));
    }
    let rows = query.fetch_all(c).await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page, |x| x.id.0))
}

pub async fn update(
    c: &mut AnyConnection,
    company: CompanyId,
    id: DomainId,
    name: &str,
    numbering_plan_length: i64,
) -> Result<Domain, StoreError> {
    let row = sqlx::query(&format!(
        "UPDATE domains SET name = $1, name_key = $2, numbering_plan_length = $3, updated_at = $4
         WHERE id = $5 AND company_id = $6 RETURNING {COLUMNS}"
    ))
    .bind(name)
    .bind(name_key(name))
    .bind(numbering_plan_length)
    .bind(now_ms())
    .bind(id.0)
    .bind(company.0)
    .fetch_optional(c)
    .await
    .map_err(StoreError::classify)?
    .ok_or(StoreError::NotFound("domain"))?;
    Ok(from_row(&row)?)
}

/// Deletes a domain with its users, devices and groups.
pub async fn delete(
    c: &mut AnyConnection,
    company: CompanyId,
    id: DomainId,
) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM domains WHERE id = $1 AND company_id = $2")
        .bind(id.0)
        .bind(company.0)
        .execute(c)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("domain"));
    }
    Ok(())
}
