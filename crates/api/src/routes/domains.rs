//! Domains of a company (guide 3.1, menu Global / Domains).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use twp_domain::{DomainId, FieldError, NUMBERING_PLAN_MAX, Name};
use twp_store::{PageRequest, domains};

use crate::AppState;
use crate::audit::{Change, record};
use crate::auth::Admin;
use crate::dto::{DomainDto, DomainInput, DomainPatch, NameQuery, PageOf};
use crate::error::{ApiResult, ErrorBody};
use crate::validate::NAME_MAX;

fn plan_length(v: i64) -> Result<i64, FieldError> {
    if (1..=NUMBERING_PLAN_MAX).contains(&v) {
        Ok(v)
    } else {
        Err(FieldError::new(
            "numberingPlanLength",
            "out_of_range",
            format!("must be 1 to {NUMBERING_PLAN_MAX}: the length of the longest internal number"),
        ))
    }
}

#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains", tag = "domains", security(("bearer" = [])),
    params(("companyId" = i64, Path), NameQuery), responses((status = 200, body = PageOf<DomainDto>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    a: Admin,
    Path(company): Path<i64>,
    Query(q): Query<NameQuery>,
) -> ApiResult<Json<PageOf<DomainDto>>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    let page = domains::list(
        &mut c,
        cid,
        q.q.as_deref(),
        &PageRequest::new(q.after, q.limit),
    )
    .await?;
    Ok(Json(PageOf::from(page, DomainDto::from)))
}

#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains", tag = "domains", security(("bearer" = [])),
    params(("companyId" = i64, Path)), request_body = DomainInput,
    responses((status = 201, body = DomainDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    a: Admin,
    Path(company): Path<i64>,
    Json(input): Json<DomainInput>,
) -> ApiResult<(StatusCode, Json<DomainDto>)> {
    let cid = a.company(company)?;
    let mut errs = twp_domain::FieldErrors::default();
    let name = errs.check(Name::parse("name", &input.name, NAME_MAX));
    let len = errs.check(plan_length(input.numbering_plan_length));
    errs.into_result()?;
    let (Some(name), Some(len)) = (name, len) else {
        return Err(crate::error::ApiError::internal(
            "validated domain without values",
        ));
    };
    let mut tx = st.store.begin().await?;
    twp_store::companies::get(&mut tx, cid).await?;
    let d = DomainDto::from(domains::create(&mut tx, cid, name.as_str(), len).await?);
    record(
        &mut tx,
        a.who(),
        Change::new("create", "domain", d.id)
            .company(cid)
            .name(&d.name)
            .after(&d),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(d)))
}

#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}", tag = "domains", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path)), responses((status = 200, body = DomainDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
) -> ApiResult<Json<DomainDto>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    Ok(Json(domains::get(&mut c, cid, DomainId(id)).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/companies/{companyId}/domains/{domainId}", tag = "domains", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path)), request_body = DomainPatch,
    responses((status = 200, body = DomainDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
    Json(p): Json<DomainPatch>,
) -> ApiResult<Json<DomainDto>> {
    let cid = a.company(company)?;
    let mut tx = st.store.begin().await?;
    let cur = domains::get(&mut tx, cid, DomainId(id)).await?;
    let mut errs = twp_domain::FieldErrors::default();
    let name = errs.check(Name::parse(
        "name",
        p.name.as_deref().unwrap_or(&cur.name),
        NAME_MAX,
    ));
    let len = errs.check(plan_length(
        p.numbering_plan_length.unwrap_or(cur.numbering_plan_length),
    ));
    errs.into_result()?;
    let (Some(name), Some(len)) = (name, len) else {
        return Err(crate::error::ApiError::internal(
            "validated domain without values",
        ));
    };
    let before = DomainDto::from(cur);
    let after =
        DomainDto::from(domains::update(&mut tx, cid, DomainId(id), name.as_str(), len).await?);
    record(
        &mut tx,
        a.who(),
        Change::new("update", "domain", id)
            .company(cid)
            .name(&after.name)
            .before(&before)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    // the default dialing plan follows the numbering plan length
    st.telephony.forget_plan(DomainId(id));
    st.directories.forget(DomainId(id));
    Ok(Json(after))
}

/// Delete a domain with its users, devices and groups.
#[utoipa::path(delete, path = "/api/v1/companies/{companyId}/domains/{domainId}", tag = "domains", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let cid = a.company(company)?;
    let mut tx = st.store.begin().await?;
    let before = DomainDto::from(domains::get(&mut tx, cid, DomainId(id)).await?);
    domains::delete(&mut tx, cid, DomainId(id)).await?;
    record(
        &mut tx,
        a.who(),
        Change::new("delete", "domain", id)
            .company(cid)
            .name(&before.name)
            .before(&before),
    )
    .await?;
    tx.commit().await?;
    st.telephony
        .stop_where(|d| d == DomainId(id), |_| false)
        .await;
    st.telephony.forget_plan(DomainId(id));
    st.directories.forget(DomainId(id));
    Ok(StatusCode::NO_CONTENT)
}
