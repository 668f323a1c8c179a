//! Companies (guide 3.1, menu Global / Companies).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use twp_domain::Name;
use twp_store::{PageRequest, companies};

use crate::AppState;
use crate::audit::{Change, record};
use crate::auth::Admin;
use crate::dto::{CompanyDto, CompanyInput, NameQuery, PageOf};
use crate::error::{ApiResult, ErrorBody};
use crate::validate::NAME_MAX;

/// List the companies this administrator manages.
#[utoipa::path(get, path = "/api/v1/companies", tag = "companies", security(("bearer" = [])),
    params(NameQuery), responses((status = 200, body = PageOf<CompanyDto>)))]
pub async fn list(
    State(st): State<AppState>,
    a: Admin,
    Query(q): Query<NameQuery>,
) -> ApiResult<Json<PageOf<CompanyDto>>> {
    let mut c = st.store.read().await?;
    let page = companies::list(
        &mut c,
        &a.who().scope,
        q.q.as_deref(),
        &PageRequest::new(q.after, q.limit),
    )
    .await?;
    Ok(Json(PageOf::from(page, CompanyDto::from)))
}

/// Create a company (super users only).
#[utoipa::path(post, path = "/api/v1/companies", tag = "companies", security(("bearer" = [])),
    request_body = CompanyInput,
    responses((status = 201, body = CompanyDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    a: Admin,
    Json(input): Json<CompanyInput>,
) -> ApiResult<(StatusCode, Json<CompanyDto>)> {
    a.require_super_user()?;
    let name = Name::parse("name", &input.name, NAME_MAX)?;
    let mut tx = st.store.begin().await?;
    let created = CompanyDto::from(companies::create(&mut tx, name.as_str()).await?);
    let change = Change::new("create", "company", created.id)
        .name(&created.name)
        .after(&created);
    record(
        &mut tx,
        a.who(),
        change.company(twp_domain::CompanyId(created.id)),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/api/v1/companies/{companyId}", tag = "companies", security(("bearer" = [])),
    params(("companyId" = i64, Path)), responses((status = 200, body = CompanyDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    a: Admin,
    Path(id): Path<i64>,
) -> ApiResult<Json<CompanyDto>> {
    let cid = a.company(id)?;
    let mut c = st.store.read().await?;
    Ok(Json(companies::get(&mut c, cid).await?.into()))
}

/// Rename a company.
#[utoipa::path(patch, path = "/api/v1/companies/{companyId}", tag = "companies", security(("bearer" = [])),
    params(("companyId" = i64, Path)), request_body = CompanyInput,
    responses((status = 200, body = CompanyDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    a: Admin,
    Path(id): Path<i64>,
    Json(input): Json<CompanyInput>,
) -> ApiResult<Json<CompanyDto>> {
    let cid = a.company(id)?;
    let name = Name::parse("name", &input.name, NAME_MAX)?;
    let mut tx = st.store.begin().await?;
    let before = CompanyDto::from(companies::get(&mut tx, cid).await?);
    let after = CompanyDto::from(companies::rename(&mut tx, cid, name.as_str()).await?);
    record(
        &mut tx,
        a.who(),
        Change::new("update", "company", id)
            .company(cid)
            .name(&after.name)
            .before(&before)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(after))
}

/// Delete a company with all its domains, users and groups (super users only).
#[utoipa::path(delete, path = "/api/v1/companies/{companyId}", tag = "companies", security(("bearer" = [])),
    params(("companyId" = i64, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(st): State<AppState>,
    a: Admin,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let cid = a.company(id)?;
    a.require_super_user()?;
    let mut tx = st.store.begin().await?;
    let before = CompanyDto::from(companies::get(&mut tx, cid).await?);
    companies::delete(&mut tx, cid).await?;
    record(
        &mut tx,
        a.who(),
        Change::new("delete", "company", id)
            .company(cid)
            .name(&before.name)
            .before(&before),
    )
    .await?;
    tx.commit().await?;
    st.telephony.stop_where(|_| false, |c| c == cid).await;
    st.directories.forget_company(cid);
    Ok(StatusCode::NO_CONTENT)
}
