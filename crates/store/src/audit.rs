//! The audit log of administrative changes: who, when, what, before/after.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use twp_domain::{AdminScope, AuditEntry, CompanyId};

use crate::sqlbuild::{Value, Where, company_id_list};
use crate::{Page, PageRequest, StoreError};

const COLUMNS: &str = "id, at, admin_id, admin_name, company_id, action, object_type, object_id, \
     object_name, before_json, after_json";

fn from_row(r: &AnyRow) -> Result<AuditEntry, sqlx::Error> {
    Ok(AuditEntry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        admin_id: r.try_get("admin_id")?,
        admin_name: r.try_get("admin_name")?,
        company_id: r.try_get::<Option<i64>, _>("company_id")?.map(CompanyId),
        action: r.try_get("action")?,
        object_type: r.try_get("object_type")?,
        object_id: r.try_get("object_id")?,
        object_name: r.try_get("object_name")?,
        before: r.try_get("before_json")?,
        after: r.try_get("after_json")?,
    })
}

/// Appends an entry (its `id` is ignored). Call it in the transaction of
/// the change it describes, so that both land or neither does.
pub async fn record(c: &mut AnyConnection, e: &AuditEntry) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, admin_id, admin_name, company_id, action, object_type, object_id,
             object_name, before_json, after_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(e.at)
    .bind(e.admin_id)
    .bind(&e.admin_name)
    .bind(e.company_id.map(|c| c.0))
    .bind(&e.action)
    .bind(&e.object_type)
    .bind(&e.object_id)
    .bind(&e.object_name)
    .bind(&e.before)
    .bind(&e.after)
    .execute(c)
    .await?;
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub company_id: Option<CompanyId>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub admin_name: Option<String>,
    pub action: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// Newest first; `page.after` is read as "older than this id". An
/// administrator limited to companies sees only entries of those companies.
pub async fn list(
    c: &mut AnyConnection,
    scope: &AdminScope,
    f: &AuditFilter,
    page: &PageRequest,
) -> Result<Page<AuditEntry>, StoreError> {
    let mut w = Where::default();
    if let Some(before) = page.after {
        w.and("id < ?", [Value::I64(before)]);
    }
    if let AdminScope::Companies(ids) = scope {
        w.and(&format!("company_id IN ({})", company_id_list(ids)), []);
    }
    if let Some(cid) = f.company_id {
        w.and("company_id = ?", [Value::I64(cid.0)]);
    }
    if let Some(t) = &f.object_type {
        w.and("object_type = ?", [Value::Text(t.clone())]);
    }
    if let Some(t) = &f.object_id {
        w.and("object_id = ?", [Value::Text(t.clone())]);
    }
    if let Some(t) = &f.admin_name {
        w.and("admin_name = ?", [Value::Text(t.clone())]);
    }
    if let Some(t) = &f.action {
        w.and("action = ?", [Value::Text(t.clone())]);
    }
    if let Some(t) = f.since {
        w.and("at >= ?", [Value::I64(t)]);
    }
    if let Some(t) = f.until {
        w.and("at < ?", [Value::I64(t)]);
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log WHERE {} ORDER BY id DESC LIMIT ${}",
        w.sql(),
        w.next_param()
    );
    let rows = w
        .bind(sqlx::query(&sql))
        .bind(page.fetch_limit())
        .fetch_all(c)
        .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page, |e| e.id))
}
