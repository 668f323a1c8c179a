//! Reading the audit log.

use axum::Json;
use axum::extract::{Query, State};
use twp_domain::CompanyId;
use twp_store::PageRequest;
use twp_store::audit::{self, AuditFilter};

use crate::AppState;
use crate::auth::Admin;
use crate::dto::{AuditEntryDto, AuditQuery, PageOf};
use crate::error::{ApiError, ApiResult, ErrorBody};

fn parse_time(field: &str, v: Option<&str>) -> ApiResult<Option<i64>> {
    let Some(v) = v else { return Ok(None) };
    let t = time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            ApiError::bad_request(
                field,
                "invalid_time",
                format!("'{v}' is not an RFC 3339 time such as 2026-11-30T08:00:00Z"),
            )
        })?;
    Ok(Some(
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX),
    ))
}

/// Administrative changes, newest first. Scoped administrators see the
/// entries of their companies only.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])),
    params(AuditQuery), responses((status = 200, body = PageOf<AuditEntryDto>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    a: Admin,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<PageOf<AuditEntryDto>>> {
    if let Some(c) = q.company_id {
        a.company(c)?;
    }
    let f = AuditFilter {
        company_id: q.company_id.map(CompanyId),
        object_type: q.object_type,
        object_id: q.object_id,
        admin_name: q.admin_name,
        action: q.action,
        since: parse_time("since", q.since.as_deref())?,
        until: parse_time("until", q.until.as_deref())?,
    };
    let mut c = st.store.read().await?;
    let page = audit::list(
        &mut c,
        &a.who().scope,
        &f,
        &PageRequest::new(q.after, q.limit),
    )
    .await?;
    Ok(Json(PageOf::from(page, AuditEntryDto::from)))
}
