//! Administrator accounts (guide 10.1, menu Global / Admin users). Only
//! super users manage administrators: a scoped administrator could
//! otherwise widen its own scope.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use twp_domain::{AdminScope, CompanyId, Name};
use twp_store::{PageRequest, admins};

use crate::AppState;
use crate::audit::{Change, record};
use crate::auth::{Admin, check_admin_password, hash_off_thread};
use crate::dto::{AdministratorDto, AdministratorInput, AdministratorPatch, PageOf, PageParams};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::validate::NAME_MAX;

fn scope(super_user: bool, companies: &[i64]) -> AdminScope {
    if super_user {
        AdminScope::SuperUser
    } else {
        let mut ids: Vec<CompanyId> = companies.iter().copied().map(CompanyId).collect();
        ids.sort();
        ids.dedup();
        AdminScope::Companies(ids)
    }
}

fn last_super_user() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "last_super_user",
        "this is the last super user: make another administrator super user first",
    )
}

#[utoipa::path(get, path = "/api/v1/admins", tag = "administrators", security(("bearer" = [])),
    params(PageParams), responses((status = 200, body = PageOf<AdministratorDto>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    a: Admin,
    Query(q): Query<PageParams>,
) -> ApiResult<Json<PageOf<AdministratorDto>>> {
    a.require_super_user()?;
    let mut c = st.store.read().await?;
    let page = admins::list(&mut c, &PageRequest::new(q.after, q.limit)).await?;
    Ok(Json(PageOf::from(page, AdministratorDto::from)))
}

/// Create an administrator, super user or limited to a list of companies.
#[utoipa::path(post, path = "/api/v1/admins", tag = "administrators", security(("bearer" = [])),
    request_body = AdministratorInput,
    responses((status = 201, body = AdministratorDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    a: Admin,
    Json(input): Json<AdministratorInput>,
) -> ApiResult<(StatusCode, Json<AdministratorDto>)> {
    a.require_super_user()?;
    let name = Name::parse("name", &input.name, NAME_MAX)?;
    check_admin_password(name.as_str(), &input.password).map_err(|e| e.with_field("password"))?;
    let h = hash_off_thread(input.password.clone()).await?;
    let mut tx = st.store.begin().await?;
    let s = scope(input.super_user, &input.company_ids);
    let created = AdministratorDto::from(
        admins::create(
            &mut tx,
            name.as_str(),
            &h,
            &s,
            input.must_change_password.unwrap_or(true),
        )
        .await?,
    );
    record(
        &mut tx,
        a.who(),
        Change::new("create", "administrator", created.id)
            .name(&created.name)
            .after(&created),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/api/v1/admins/{adminId}", tag = "administrators", security(("bearer" = [])),
    params(("adminId" = i64, Path)), responses((status = 200, body = AdministratorDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    a: Admin,
    Path(id): Path<i64>,
) -> ApiResult<Json<AdministratorDto>> {
    a.require_super_user()?;
    let mut c = st.store.read().await?;
    Ok(Json(admins::get(&mut c, id).await?.into()))
}

/// Rename, change the scope of, or set a new password for an administrator.
/// A new password set here must be changed by its owner at next login.
#[utoipa::path(patch, path = "/api/v1/admins/{adminId}", tag = "administrators", security(("bearer" = [])),
    params(("adminId" = i64, Path)), request_body = AdministratorPatch,
    responses((status = 200, body = AdministratorDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    a: Admin,
    Path(id): Path<i64>,
    Json(p): Json<AdministratorPatch>,
) -> ApiResult<Json<AdministratorDto>> {
    a.require_super_user()?;
    let mut tx = st.store.begin().await?;
    let cur = admins::get(&mut tx, id).await?;
    let name = Name::parse("name", p.name.as_deref().unwrap_or(&cur.name), NAME_MAX)?;
    let cur_companies: Vec<i64> = match &cur.scope {
        AdminScope::SuperUser => Vec::new(),
        AdminScope::Companies(c) => c.iter().map(|c| c.0).collect(),
    };
    let s = scope(
        p.super_user.unwrap_or(cur.scope.is_super_user()),
        p.company_ids.as_deref().unwrap_or(&cur_companies),
    );
    if cur.scope.is_super_user()
        && !s.is_super_user()
        && admins::count_super_users(&mut tx).await? <= 1
    {
        return Err(last_super_user());
    }
    let before = AdministratorDto::from(cur);
    admins::update(&mut tx, id, name.as_str(), &s).await?;
    if let Some(pw) = p.password {
        check_admin_password(name.as_str(), &pw).map_err(|e| e.with_field("password"))?;
        let h = hash_off_thread(pw).await?;
        admins::set_password(&mut tx, id, &h, true).await?;
    }
    let after = AdministratorDto::from(admins::get(&mut tx, id).await?);
    record(
        &mut tx,
        a.who(),
        Change::new("update", "administrator", id)
            .name(&after.name)
            .before(&before)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(after))
}

#[utoipa::path(delete, path = "/api/v1/admins/{adminId}", tag = "administrators", security(("bearer" = [])),
    params(("adminId" = i64, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(st): State<AppState>,
    a: Admin,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    a.require_super_user()?;
    let mut tx = st.store.begin().await?;
    let cur = admins::get(&mut tx, id).await?;
    if cur.scope.is_super_user() && admins::count_super_users(&mut tx).await? <= 1 {
        return Err(last_super_user());
    }
    let before = AdministratorDto::from(cur);
    admins::delete(&mut tx, id).await?;
    record(
        &mut tx,
        a.who(),
        Change::new("delete", "administrator", id)
            .name(&before.name)
            .before(&before),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
