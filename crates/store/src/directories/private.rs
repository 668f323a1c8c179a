//! Each user's private contacts (`[TwsPrivate]`, guide 9.1.1 and 8.8):
//! created in Caller, through the API or pushed as vCards. A contact's
//! fields are a JSON object keyed by TWP contact field names; the API
//! validates them.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use twp_domain::{CompanyId, DomainId, UserId};

use crate::{StoreError, now_ms};

/// A stored private contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateContact {
    pub id: i64,
    pub user_id: UserId,
    /// JSON object: field name → value.
    pub fields: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn from_row(r: &AnyRow) -> Result<PrivateContact, sqlx::Error> {
    Ok(PrivateContact {
        id: r.try_get("id")?,
        user_id: UserId(r.try_get("user_id")?),
        fields: r.try_get("fields")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The user's domain; a user of another company is not found.
async fn user_domain(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
) -> Result<DomainId, StoreError> {
    let row = sqlx::query("SELECT domain_id FROM users WHERE id = $1 AND company_id = $2")
        .bind(user.0)
        .bind(company.0)
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    Ok(DomainId(row.try_get(0)?))
}

/// Adds private contacts to a user (all in the caller's transaction).
pub async fn create(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
    contacts: &[String],
) -> Result<Vec<PrivateContact>, StoreError> {
    let domain = user_domain(&mut *c, company, user).await?;
    let now = now_ms();
    let mut out = Vec::with_capacity(contacts.len());
    for fields in contacts {
        let row = sqlx::query(
            "INSERT INTO private_contacts (company_id, domain_id, user_id, fields, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id, user_id, fields, created_at, updated_at",
        )
        .bind(company.0)
        .bind(domain.0)
        .bind(user.0)
        .bind(fields)
        .bind(now)
        .fetch_one(&mut *c)
        .await
        .map_err(StoreError::classify)?;
        out.push(from_row(&row)?);
    }
    Ok(out)
}

/// A user's private contacts, oldest first.
pub async fn list(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
) -> Result<Vec<PrivateContact>, StoreError> {
    user_domain(&mut *c, company, user).await?;
    let rows = sqlx::query(
        "SELECT id, user_id, fields, created_at, updated_at FROM private_contacts
         WHERE user_id = $1 AND company_id = $2 ORDER BY id",
    )
    .bind(user.0)
    .bind(company.0)
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// One private contact of the user.
pub async fn get(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
    id: i64,
) -> Result<PrivateContact, StoreError> {
    let row = sqlx::query(
        "SELECT id, user_id, fields, created_at, updated_at FROM private_contacts
         WHERE id = $1 AND user_id = $2 AND company_id = $3",
    )
    .bind(id)
    .bind(user.0)
    .bind(company.0)
    .fetch_optional(c)
    .await?
    .ok_or(StoreError::NotFound("private contact"))?;
    Ok(from_row(&row)?)
}

/// Replaces a private contact's fields.
pub async fn update(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
    id: i64,
    fields: &str,
) -> Result<PrivateContact, StoreError> {
    let done = sqlx::query(
        "UPDATE private_contacts SET fields = $1, updated_at = $2
         WHERE id = $3 AND user_id = $4 AND company_id = $5",
    )
    .bind(fields)
    .bind(now_ms())
    .bind(id)
    .bind(user.0)
    .bind(company.0)
    .execute(&mut *c)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("private contact"));
    }
    get(c, company, user, id).await
}

/// Deletes a private contact.
pub async fn delete(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
    id: i64,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "DELETE FROM private_contacts WHERE id = $1 AND user_id = $2 AND company_id = $3",
    )
    .bind(id)
    .bind(user.0)
    .bind(company.0)
    .execute(c)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("private contact"));
    }
    Ok(())
}

/// A user of the domain as the TWP-users directory shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    pub id: UserId,
    pub user_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub gsm: Option<String>,
    /// The numbers of the user's devices, in creation order.
    pub numbers: Vec<String>,
}

/// The enabled users of a domain with their devices' numbers (the
/// TWP-users directory's source), by id; with `import`, only the users that
/// import created (the directory of an import, guide 7.2.4).
pub async fn domain_users(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    import: Option<i64>,
) -> Result<Vec<DirectoryUser>, StoreError> {
    let only_import = if import.is_some() {
        " AND u.import_id = $4"
    } else {
        ""
    };
    let sql = format!(
        "SELECT u.id, u.user_name, u.first_name, u.last_name, u.email, u.gsm, d.number
         FROM users u LEFT JOIN devices d ON d.user_id = u.id AND d.company_id = u.company_id
         WHERE u.domain_id = $1 AND u.company_id = $2 AND u.enabled = $3{only_import}
         ORDER BY u.id, d.id"
    );
    let mut q = sqlx::query(&sql).bind(domain.0).bind(company.0).bind(true);
    if let Some(i) = import {
        q = q.bind(i);
    }
    let rows = q.fetch_all(c).await?;
    let mut out: Vec<DirectoryUser> = Vec::new();
    for r in &rows {
        let id = UserId(r.try_get(0)?);
        let number: Option<String> = r.try_get(6)?;
        if out.last().is_none_or(|u| u.id != id) {
            out.push(DirectoryUser {
                id,
                user_name: r.try_get(1)?,
                first_name: r.try_get(2)?,
                last_name: r.try_get(3)?,
                email: r.try_get(4)?,
                gsm: r.try_get(5)?,
                numbers: Vec::new(),
            });
        }
        if let (Some(n), Some(u)) = (number, out.last_mut()) {
            u.numbers.push(n);
        }
    }
    Ok(out)
}
