//! User authentication (guide 6): who a login names, the user's failed
//! logins and lock-out, and user sessions. Session tokens are stored as
//! hashes only; a session of a disabled or deleted user never answers.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use twp_domain::{CompanyId, DomainId, GroupId, UserId};

use crate::{StoreError, name_key, now_ms};

fn get_bool(r: &AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    r.try_get::<bool, _>(col)
        .or_else(|_| r.try_get::<i64, _>(col).map(|v| v != 0))
}

/// A user a login names, with what authenticating it needs.
#[derive(Debug, Clone)]
pub struct LoginCandidate {
    pub user: UserId,
    pub domain: DomainId,
    pub company: CompanyId,
    pub user_name: String,
    pub enabled: bool,
    /// The argon2id hash of the TWP password, if the administrator set one.
    pub password_hash: Option<String>,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
}

/// The users called `user_name` in a domain called `domain` (names compared
/// case-insensitively), in the company called `company` when given. More
/// than one candidate means the domain name exists in several companies.
pub async fn find_login(
    c: &mut AnyConnection,
    company: Option<&str>,
    domain: &str,
    user_name: &str,
) -> Result<Vec<LoginCandidate>, StoreError> {
    let mut sql = String::from(
        "SELECT u.id, u.domain_id, u.company_id, u.user_name, u.enabled, u.password_hash,
                COALESCE(s.failed_logins, 0) AS failed_logins, s.locked_until
         FROM users u
         JOIN domains d ON d.id = u.domain_id AND d.company_id = u.company_id
         JOIN companies c ON c.id = u.company_id
         LEFT JOIN user_login_state s ON s.user_id = u.id
         WHERE u.user_name_key = $1 AND d.name_key = $2",
    );
    if company.is_some() {
        sql.push_str(" AND c.name_key = $3");
    }
    sql.push_str(" ORDER BY u.company_id LIMIT 10");
    let mut q = sqlx::query(&sql)
        .bind(name_key(user_name))
        .bind(name_key(domain));
    if let Some(co) = company {
        q = q.bind(name_key(co));
    }
    let rows = q.fetch_all(c).await?;
    rows.iter()
        .map(|r| {
            Ok(LoginCandidate {
                user: UserId(r.try_get("id")?),
                domain: DomainId(r.try_get("domain_id")?),
                company: CompanyId(r.try_get("company_id")?),
                user_name: r.try_get("user_name")?,
                enabled: get_bool(r, "enabled")?,
                password_hash: r.try_get("password_hash")?,
                failed_logins: r.try_get("failed_logins")?,
                locked_until: r.try_get("locked_until")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// Counts one more failed login; `lock` locks the user until then.
/// Returns the number of consecutive failures.
pub async fn record_failure(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
    lock: impl FnOnce(i64) -> Option<i64>,
) -> Result<(i64, Option<i64>), StoreError> {
    let failures: i64 = sqlx::query(
        "INSERT INTO user_login_state (user_id, company_id, failed_logins)
         SELECT id, company_id, 1 FROM users WHERE id = $1 AND company_id = $2
         ON CONFLICT (user_id) DO UPDATE SET failed_logins = user_login_state.failed_logins + 1
         RETURNING failed_logins",
    )
    .bind(user.0)
    .bind(company.0)
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound("user"))?
    .try_get(0)?;
    let until = lock(failures);
    if let Some(until) = until {
        sqlx::query("UPDATE user_login_state SET locked_until = $1 WHERE user_id = $2")
            .bind(until)
            .bind(user.0)
            .execute(c)
            .await?;
    }
    Ok((failures, until))
}

/// Clears failures and lock-out after a successful login.
pub async fn record_success(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM user_login_state WHERE user_id = $1 AND company_id = $2")
        .bind(user.0)
        .bind(company.0)
        .execute(c)
        .await?;
    Ok(())
}

/// A new session to store.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user: UserId,
    pub domain: DomainId,
    pub company: CompanyId,
    /// The method that authenticated the user: TWS, LDAP, None, Windows.
    pub method: &'a str,
    /// Kept longer ("save" in the guide).
    pub saved: bool,
    pub expires_at: i64,
    pub client: Option<&'a str>,
}

/// A live user session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSession {
    pub id: i64,
    pub user: UserId,
    pub domain: DomainId,
    pub company: CompanyId,
    pub user_name: String,
    pub method: String,
    pub saved: bool,
    pub created_at: i64,
    pub expires_at: i64,
    pub client: Option<String>,
}

const SESSION_COLUMNS: &str = "s.id, s.user_id, s.domain_id, s.company_id, u.user_name, s.method, \
     s.saved, s.created_at, s.expires_at, s.client";

fn session_from_row(r: &AnyRow) -> Result<UserSession, sqlx::Error> {
    Ok(UserSession {
        id: r.try_get("id")?,
        user: UserId(r.try_get("user_id")?),
        domain: DomainId(r.try_get("domain_id")?),
        company: CompanyId(r.try_get("company_id")?),
        user_name: r.try_get("user_name")?,
        method: r.try_get("method")?,
        saved: get_bool(r, "saved")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        client: r.try_get("client")?,
    })
}

pub async fn create_session(c: &mut AnyConnection, s: &NewSession<'_>) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query(
        "INSERT INTO user_sessions (token_hash, user_id, domain_id, company_id, method, saved, created_at, expires_at, client)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(s.token_hash)
    .bind(s.user.0)
    .bind(s.domain.0)
    .bind(s.company.0)
    .bind(s.method)
    .bind(s.saved)
    .bind(now_ms())
    .bind(s.expires_at)
    .bind(s.client)
    .fetch_one(c)
    .await?
    .try_get(0)?;
    Ok(id)
}

/// The session behind a token hash, if it is live and its user enabled.
pub async fn session(
    c: &mut AnyConnection,
    token_hash: &str,
) -> Result<Option<UserSession>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS}, u.enabled FROM user_sessions s
         JOIN users u ON u.id = s.user_id AND u.company_id = s.company_id
         WHERE s.token_hash = $1 AND s.expires_at > $2"
    ))
    .bind(token_hash)
    .bind(now_ms())
    .fetch_optional(c)
    .await?;
    match row {
        Some(r) if get_bool(&r, "enabled")? => Ok(Some(session_from_row(&r)?)),
        _ => Ok(None),
    }
}

pub async fn end_session(c: &mut AnyConnection, token_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM user_sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(c)
        .await?;
    Ok(())
}

/// A user's live sessions, newest first.
pub async fn list_sessions(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
) -> Result<Vec<UserSession>, StoreError> {
    let exists = sqlx::query("SELECT 1 FROM users WHERE id = $1 AND company_id = $2")
        .bind(user.0)
        .bind(company.0)
        .fetch_optional(&mut *c)
        .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound("user"));
    }
    let rows = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM user_sessions s
         JOIN users u ON u.id = s.user_id AND u.company_id = s.company_id
         WHERE s.user_id = $1 AND s.company_id = $2 AND s.expires_at > $3
         ORDER BY s.id DESC"
    ))
    .bind(user.0)
    .bind(company.0)
    .bind(now_ms())
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(session_from_row)
        .collect::<Result<_, _>>()?)
}

/// Revokes one session of a user (`Some(id)`) or all of them; returns how
/// many were ended. One session that is not this user's is not found.
pub async fn revoke(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
    id: Option<i64>,
) -> Result<u64, StoreError> {
    let done = match id {
        Some(id) => {
            sqlx::query(
                "DELETE FROM user_sessions WHERE id = $1 AND user_id = $2 AND company_id = $3",
            )
            .bind(id)
            .bind(user.0)
            .bind(company.0)
            .execute(c)
            .await?
        }
        None => {
            sqlx::query("DELETE FROM user_sessions WHERE user_id = $1 AND company_id = $2")
                .bind(user.0)
                .bind(company.0)
                .execute(c)
                .await?
        }
    };
    if id.is_some() && done.rows_affected() == 0 {
        return Err(StoreError::NotFound("session"));
    }
    Ok(done.rows_affected())
}

/// Ends every session of the user but the one with `keep` (a token
/// hash); returns how many were ended.
pub async fn end_other_sessions(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
    keep: &str,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM user_sessions WHERE user_id = $1 AND company_id = $2 AND token_hash <> $3",
    )
    .bind(user.0)
    .bind(company.0)
    .bind(keep)
    .execute(c)
    .await?;
    Ok(done.rows_affected())
}

/// Removes expired sessions; returns how many.
pub async fn purge_expired(c: &mut AnyConnection) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM user_sessions WHERE expires_at <= $1")
            .bind(now_ms())
            .execute(c)
            .await?
            .rows_affected(),
    )
}

/// A user's groups with their names, by id.
pub async fn groups_of(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
) -> Result<Vec<(GroupId, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT g.id, g.name FROM group_members m JOIN user_groups g ON g.id = m.group_id
         WHERE m.user_id = $1 AND m.company_id = $2 ORDER BY g.id",
    )
    .bind(user.0)
    .bind(company.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok((GroupId(r.try_get(0)?), r.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}
