//! Groups of users of one domain and their members (guide 3.3.5–3.3.6, 7.3).

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use twp_domain::{CompanyId, DomainId, Group, GroupId, UserId};

use crate::page::like_pattern;
use crate::sqlbuild::{Value, Where};
use crate::{Page, PageRequest, StoreError, name_key, now_ms};

const COLUMNS: &str = "g.id, g.company_id, g.domain_id, g.name, g.description, g.created_at, g.updated_at, \
     (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS member_count";

fn from_row(r: &AnyRow) -> Result<Group, sqlx::Error> {
    Ok(Group {
        id: GroupId(r.try_get("id")?),
        company_id: CompanyId(r.try_get("company_id")?),
        domain_id: DomainId(r.try_get("domain_id")?),
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        member_count: r.try_get("member_count")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn create(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    name: &str,
    description: Option<&str>,
) -> Result<Group, StoreError> {
    crate::domains::check_in_company(&mut *c, company, domain).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO user_groups (company_id, domain_id, name, name_key, description, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(company.0)
    .bind(domain.0)
    .bind(name)
    .bind(name_key(name))
    .bind(description)
    .bind(now_ms())
    .fetch_one(&mut *c)
    .await
    .map_err(StoreError::classify)?
    .try_get(0)?;
    get(c, company, GroupId(id)).await
}

pub async fn get(
    c: &mut AnyConnection,
    company: CompanyId,
    id: GroupId,
) -> Result<Group, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM user_groups g WHERE g.id = $1 AND g.company_id = $2"
    ))
    .bind(id.0)
    .bind(company.0)
    .fetch_optional(c)
    .await?
    .ok_or(StoreError::NotFound("group"))?;
    Ok(from_row(&row)?)
}

pub async fn list(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: Option<DomainId>,
    q: Option<&str>,
    member: Option<UserId>,
    page: &PageRequest,
) -> Result<Page<Group>, StoreError> {
    let mut w = Where::default();
    w.and("g.company_id = ?", [Value::I64(company.0)]);
    w.and("g.id > ?", [Value::I64(page.after_or_zero())]);
    if let Some(d) = domain {
        w.and("g.domain_id = ?", [Value::I64(d.0)]);
    }
    if let Some(q) = q.filter(|q| !q.trim().is_empty()) {
        w.and(
            "g.name_key LIKE ? ESCAPE '\\'",
            [Value::Text(like_pattern(q.trim()))],
        );
    }
    if let Some(u) = member {
        w.and(
            "EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = g.id AND m.user_id = ?)",
            [Value::I64(u.0)],
        );
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM user_groups g WHERE {} ORDER BY g.id LIMIT ${}",
        w.sql(),
        w.next_param()
    );
    let rows = w
        .bind(sqlx::query(&sql))
        .bind(page.fetch_limit())
        .fetch_all(c)
        .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page, |g| g.id.0))
}

pub async fn update(
    c: &mut AnyConnection,
    company: CompanyId,
    id: GroupId,
    name: &str,
    description: Option<&str>,
) -> Result<Group, StoreError> {
    let done = sqlx::query(
        "UPDATE user_groups SET name = $1, name_key = $2, description = $3, updated_at = $4
         WHERE id = $5 AND company_id = $6",
    )
    .bind(name)
    .bind(name_key(name))
    .bind(description)
    .bind(now_ms())
    .bind(id.0)
    .bind(company.0)
    .execute(&mut *c)
    .await
    .map_err(StoreError::classify)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("group"));
    }
    get(c, company, id).await
}

pub async fn delete(
    c: &mut AnyConnection,
    company: CompanyId,
    id: GroupId,
) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM user_groups WHERE id = $1 AND company_id = $2")
        .bind(id.0)
        .bind(company.0)
        .execute(c)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("group"));
    }
    Ok(())
}

/// Adds users to a group; all must be users of the group's domain. Users
/// already in the group are left as they are. Returns how many were added.
pub async fn add_members(
    c: &mut AnyConnection,
    company: CompanyId,
    group: GroupId,
    users: &[UserId],
) -> Result<u64, StoreError> {
    let g = get(&mut *c, company, group).await?;
    let now = now_ms();
    let mut added = 0;
    for u in users {
        let ok = sqlx::query(
            "SELECT id FROM users WHERE id = $1 AND domain_id = $2 AND company_id = $3",
        )
        .bind(u.0)
        .bind(g.domain_id.0)
        .bind(company.0)
        .fetch_optional(&mut *c)
        .await?;
        if ok.is_none() {
            return Err(StoreError::InvalidReference {
                field: "userIds",
                message: format!("user {u} is not a user of the group's domain"),
            });
        }
        let done = sqlx::query(
            "INSERT INTO group_members (group_id, user_id, domain_id, company_id, added_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (group_id, user_id) DO NOTHING",
        )
        .bind(group.0)
        .bind(u.0)
        .bind(g.domain_id.0)
        .bind(company.0)
        .bind(now)
        .execute(&mut *c)
        .await?;
        added += done.rows_affected();
    }
    Ok(added)
}

pub async fn remove_member(
    c: &mut AnyConnection,
    company: CompanyId,
    group: GroupId,
    user: UserId,
) -> Result<(), StoreError> {
    get(&mut *c, company, group).await?;
    let done = sqlx::query(
        "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2 AND company_id = $3",
    )
    .bind(group.0)
    .bind(user.0)
    .bind(company.0)
    .execute(c)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("group member"));
    }
    Ok(())
}
