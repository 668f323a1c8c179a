//! Application parameter values set per level (guide 9, 10.2): the
//! installation default, a domain, a group or a user; and group ranks for
//! users in several groups. Values are stored as the canonical text the
//! `twp-access` catalogue produced; validation is the caller's job.

use sqlx::{AnyConnection, Row};
use twp_access::params::Level;
use twp_domain::{CompanyId, DomainId, GroupId, UserId};

use crate::{StoreError, now_ms};

/// One stored value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredValue {
    pub key: String,
    pub level: Level,
    pub value: String,
    pub updated_at: i64,
}

fn scope_key(level: Level) -> String {
    match level {
        Level::Default => "default".into(),
        Level::Domain(d) => format!("domain:{}", d.0),
        Level::Group(g) => format!("group:{}", g.0),
        Level::User(u) => format!("user:{}", u.0),
    }
}

fn level_text(level: Level) -> &'static str {
    match level {
        Level::Default => "default",
        Level::Domain(_) => "domain",
        Level::Group(_) => "group",
        Level::User(_) => "user",
    }
}

/// Checks that a level's domain, group or user is of `company`; the
/// default level belongs to the installation (`company` is `None`).
async fn check_level(
    c: &mut AnyConnection,
    company: Option<CompanyId>,
    level: Level,
) -> Result<(), StoreError> {
    let (sql, id, what) = match level {
        Level::Default => return Ok(()),
        Level::Domain(d) => ("SELECT 1 FROM domains WHERE id = $1", d.0, "domain"),
        Level::Group(g) => ("SELECT 1 FROM user_groups WHERE id = $1", g.0, "group"),
        Level::User(u) => ("SELECT 1 FROM users WHERE id = $1", u.0, "user"),
    };
    let Some(company) = company else {
        return Err(StoreError::NotFound(what));
    };
    let sql = format!("{sql} AND company_id = $2");
    sqlx::query(&sql)
        .bind(id)
        .bind(company.0)
        .fetch_optional(c)
        .await?
        .map(|_| ())
        .ok_or(StoreError::NotFound(what))
}

fn ids(level: Level) -> (Option<i64>, Option<i64>, Option<i64>) {
    match level {
        Level::Default => (None, None, None),
        Level::Domain(d) => (Some(d.0), None, None),
        Level::Group(g) => (None, Some(g.0), None),
        Level::User(u) => (None, None, Some(u.0)),
    }
}

/// Sets (or replaces) a value. `company` is `None` for the default level.
pub async fn set(
    c: &mut AnyConnection,
    company: Option<CompanyId>,
    key: &str,
    level: Level,
    value: &str,
) -> Result<StoredValue, StoreError> {
    check_level(&mut *c, company, level).await?;
    let (d, g, u) = ids(level);
    let now = now_ms();
    sqlx::query(
        "INSERT INTO parameter_values (param_key, scope_key, level, company_id, domain_id, group_id, user_id, value, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (param_key, scope_key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(key)
    .bind(scope_key(level))
    .bind(level_text(level))
    .bind(company.map(|c| c.0))
    .bind(d)
    .bind(g)
    .bind(u)
    .bind(value)
    .bind(now)
    .execute(c)
    .await
    .map_err(StoreError::classify)?;
    Ok(StoredValue {
        key: key.to_owned(),
        level,
        value: value.to_owned(),
        updated_at: now,
    })
}

/// Removes a value; returns the one removed, if any.
pub async fn unset(
    c: &mut AnyConnection,
    company: Option<CompanyId>,
    key: &str,
    level: Level,
) -> Result<Option<StoredValue>, StoreError> {
    check_level(&mut *c, company, level).await?;
    let row = sqlx::query(
        "DELETE FROM parameter_values WHERE param_key = $1 AND scope_key = $2 RETURNING value, updated_at",
    )
    .bind(key)
    .bind(scope_key(level))
    .fetch_optional(c)
    .await?;
    row.map(|r| {
        Ok(StoredValue {
            key: key.to_owned(),
            level,
            value: r.try_get(0)?,
            updated_at: r.try_get(1)?,
        })
    })
    .transpose()
}

fn value_from_row(r: &sqlx::any::AnyRow) -> Result<StoredValue, StoreError> {
    let level: String = r.try_get("level")?;
    let id = |col: &str| -> Result<i64, StoreError> {
        let v: Option<i64> = r.try_get(col)?;
        v.ok_or_else(|| sqlx::Error::Decode(format!("parameter value without {col}").into()).into())
    };
    let level = match level.as_str() {
        "default" => Level::Default,
        "domain" => Level::Domain(DomainId(id("domain_id")?)),
        "group" => Level::Group(GroupId(id("group_id")?)),
        "user" => Level::User(UserId(id("user_id")?)),
        other => {
            return Err(
                sqlx::Error::Decode(format!("stored level '{other}' is invalid").into()).into(),
            );
        }
    };
    Ok(StoredValue {
        key: r.try_get("param_key")?,
        level,
        value: r.try_get("value")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const VALUE_COLUMNS: &str = "param_key, level, domain_id, group_id, user_id, value, updated_at";

/// The values set at one level, by key.
pub async fn list_level(
    c: &mut AnyConnection,
    company: Option<CompanyId>,
    level: Level,
) -> Result<Vec<StoredValue>, StoreError> {
    check_level(&mut *c, company, level).await?;
    let rows = sqlx::query(&format!(
        "SELECT {VALUE_COLUMNS} FROM parameter_values WHERE scope_key = $1 ORDER BY param_key"
    ))
    .bind(scope_key(level))
    .fetch_all(c)
    .await?;
    rows.iter().map(value_from_row).collect()
}

/// A user as parameters see it: domain and groups (ranks included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserParamScope {
    pub user: UserId,
    pub domain: DomainId,
    pub groups: Vec<(GroupId, Option<u32>)>,
    /// Every value that can apply to this user: default, its domain, its
    /// groups and itself.
    pub values: Vec<StoredValue>,
}

/// Loads what resolving a user's parameters needs.
pub async fn user_scope(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
) -> Result<UserParamScope, StoreError> {
    let domain: i64 = sqlx::query("SELECT domain_id FROM users WHERE id = $1 AND company_id = $2")
        .bind(user.0)
        .bind(company.0)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound("user"))?
        .try_get(0)?;
    let groups = sqlx::query(
        "SELECT m.group_id, r.param_rank FROM group_members m
         LEFT JOIN group_parameter_ranks r ON r.group_id = m.group_id
         WHERE m.user_id = $1 ORDER BY m.group_id",
    )
    .bind(user.0)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
        let rank: Option<i64> = r.try_get(1)?;
        Ok((
            GroupId(r.try_get(0)?),
            rank.and_then(|v| u32::try_from(v).ok()),
        ))
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let rows = sqlx::query(&format!(
        "SELECT {VALUE_COLUMNS} FROM parameter_values
         WHERE level = 'default' OR domain_id = $1 OR user_id = $2
            OR group_id IN (SELECT group_id FROM group_members WHERE user_id = $2)"
    ))
    .bind(domain)
    .bind(user.0)
    .fetch_all(&mut *c)
    .await?;
    Ok(UserParamScope {
        user,
        domain: DomainId(domain),
        groups,
        values: rows.iter().map(value_from_row).collect::<Result<_, _>>()?,
    })
}

/// Sets or clears a group's rank (1 first) for users in several groups.
pub async fn set_group_rank(
    c: &mut AnyConnection,
    company: CompanyId,
    group: GroupId,
    rank: Option<u32>,
) -> Result<(), StoreError> {
    check_level(&mut *c, Some(company), Level::Group(group)).await?;
    match rank {
        Some(r) => {
            sqlx::query(
                "INSERT INTO group_parameter_ranks (group_id, company_id, param_rank) VALUES ($1, $2, $3)
                 ON CONFLICT (group_id) DO UPDATE SET param_rank = excluded.param_rank",
            )
            .bind(group.0)
            .bind(company.0)
            .bind(i64::from(r))
            .execute(c)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM group_parameter_ranks WHERE group_id = $1")
                .bind(group.0)
                .execute(c)
                .await?;
        }
    }
    Ok(())
}
