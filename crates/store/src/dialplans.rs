//! Each domain's dialing plan, kept as its JSON plan document (the
//! `dialplan` crate owns the format and its validation).

use sqlx::{AnyConnection, Row};
use twp_domain::{CompanyId, DomainId};

use crate::{StoreError, now_ms};

/// A stored plan document and when it was last replaced.
#[derive(Debug, Clone)]
pub struct StoredPlan {
    pub document: String,
    pub updated_at: i64,
}

/// The domain's plan, `None` when it uses the default one. Fails with not
/// found when the domain is not one of the company's.
pub async fn get(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
) -> Result<Option<StoredPlan>, StoreError> {
    crate::domains::get(&mut *c, company, domain).await?;
    let row = sqlx::query(
        "SELECT document, updated_at FROM dialing_plans WHERE domain_id = $1 AND company_id = $2",
    )
    .bind(domain.0)
    .bind(company.0)
    .fetch_optional(c)
    .await?;
    Ok(match row {
        Some(r) => Some(StoredPlan {
            document: r.try_get(0)?,
            updated_at: r.try_get(1)?,
        }),
        None => None,
    })
}

/// Replaces the domain's plan with an already validated document.
pub async fn put(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    document: &str,
) -> Result<(), StoreError> {
    crate::domains::get(&mut *c, company, domain).await?;
    sqlx::query(
        "INSERT INTO dialing_plans (domain_id, company_id, document, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (domain_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
    )
    .bind(domain.0)
    .bind(company.0)
    .bind(document)
    .bind(now_ms())
    .execute(c)
    .await?;
    Ok(())
}

/// Goes back to the default plan.
pub async fn reset(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
) -> Result<(), StoreError> {
    crate::domains::get(&mut *c, company, domain).await?;
    sqlx::query("DELETE FROM dialing_plans WHERE domain_id = $1 AND company_id = $2")
        .bind(domain.0)
        .bind(company.0)
        .execute(c)
        .await?;
    Ok(())
}
