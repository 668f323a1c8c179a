//! Groups and their members (guide 3.3.5–3.3.6, 7.3, menus Users / Groups
//! and Users / Groups-Users).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use twp_domain::{DomainId, FieldErrors, GroupId, Name, UserId, validate_optional_text};
use twp_store::{PageRequest, groups, users};

use crate::AppState;
use crate::audit::{Change, record};
use crate::auth::Admin;
use crate::dto::{
    GroupDto, GroupInput, GroupPatch, GroupQuery, MembersAdded, MembersInput, PageOf,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::validate::{NAME_MAX, TEXT_MAX};

fn fields(name: &str, description: Option<&str>) -> ApiResult<(String, Option<String>)> {
    let mut errs = FieldErrors::default();
    let n = errs.check(Name::parse("name", name, NAME_MAX));
    let d = errs.check(validate_optional_text("description", description, TEXT_MAX));
    errs.into_result()?;
    match (n, d) {
        (Some(n), Some(d)) => Ok((n.into_string(), d)),
        _ => Err(ApiError::internal("validated group without values")),
    }
}

#[utoipa::path(get, path = "/api/v1/companies/{companyId}/groups", tag = "groups", security(("bearer" = [])),
    params(("companyId" = i64, Path), GroupQuery), responses((status = 200, body = PageOf<GroupDto>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    a: Admin,
    Path(company): Path<i64>,
    Query(q): Query<GroupQuery>,
) -> ApiResult<Json<PageOf<GroupDto>>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    let page = groups::list(
        &mut c,
        cid,
        q.domain_id.map(DomainId),
        q.q.as_deref(),
        q.member_id.map(UserId),
        &PageRequest::new(q.after, q.limit),
    )
    .await?;
    Ok(Json(PageOf::from(page, GroupDto::from)))
}

#[utoipa::path(post, path = "/api/v1/companies/{companyId}/groups", tag = "groups", security(("bearer" = [])),
    params(("companyId" = i64, Path)), request_body = GroupInput,
    responses((status = 201, body = GroupDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    a: Admin,
    Path(company): Path<i64>,
    Json(input): Json<GroupInput>,
) -> ApiResult<(StatusCode, Json<GroupDto>)> {
    let cid = a.company(company)?;
    let (name, description) = fields(&input.name, input.description.as_deref())?;
    let mut tx = st.store.begin().await?;
    let g = GroupDto::from(
        groups::create(
            &mut tx,
            cid,
            DomainId(input.domain_id),
            &name,
            description.as_deref(),
        )
        .await?,
    );
    record(
        &mut tx,
        a.who(),
        Change::new("create", "group", g.id)
            .company(cid)
            .name(&g.name)
            .after(&g),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(g)))
}

#[utoipa::path(get, path = "/api/v1/companies/{companyId}/groups/{groupId}", tag = "groups", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("groupId" = i64, Path)), responses((status = 200, body = GroupDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
) -> ApiResult<Json<GroupDto>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    Ok(Json(groups::get(&mut c, cid, GroupId(id)).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/companies/{companyId}/groups/{groupId}", tag = "groups", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("groupId" = i64, Path)), request_body = GroupPatch,
    responses((status = 200, body = GroupDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
    Json(p): Json<GroupPatch>,
) -> ApiResult<Json<GroupDto>> {
    let cid = a.company(company)?;
    let mut tx = st.store.begin().await?;
    let cur = groups::get(&mut tx, cid, GroupId(id)).await?;
    let desc = match &p.description {
        None => cur.description.clone(),
        Some(v) => v.clone(),
    };
    let (name, description) = fields(p.name.as_deref().unwrap_or(&cur.name), desc.as_deref())?;
    let before = GroupDto::from(cur);
    let after = GroupDto::from(
        groups::update(&mut tx, cid, GroupId(id), &name, description.as_deref()).await?,
    );
    record(
        &mut tx,
        a.who(),
        Change::new("update", "group", id)
            .company(cid)
            .name(&after.name)
            .before(&before)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(after))
}

#[utoipa::path(delete, path = "/api/v1/companies/{companyId}/groups/{groupId}", tag = "groups", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("groupId" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let cid = a.company(company)?;
    let mut tx = st.store.begin().await?;
    let before = GroupDto::from(groups::get(&mut tx, cid, GroupId(id)).await?);
    groups::delete(&mut tx, cid, GroupId(id)).await?;
    record(
        &mut tx,
        a.who(),
        Change::new("delete", "group", id)
            .company(cid)
            .name(&before.name)
            .before(&before),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Members of a group (same paging and filters as the user list).
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/groups/{groupId}/members", tag = "groups", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("groupId" = i64, Path), crate::dto::PageParams),
    responses((status = 200, body = PageOf<crate::dto::UserDto>), (status = 404, body = ErrorBody)))]
pub async fn members(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
    Query(q): Query<crate::dto::PageParams>,
) -> ApiResult<Json<PageOf<crate::dto::UserDto>>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    groups::get(&mut c, cid, GroupId(id)).await?;
    let filter = users::UserFilter {
        group_id: Some(id),
        ..Default::default()
    };
    let page = users::list(&mut c, cid, &filter, &PageRequest::new(q.after, q.limit)).await?;
    Ok(Json(PageOf::from(page, crate::dto::UserDto::from)))
}

/// Add users of the group's domain to the group (all or none).
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/groups/{groupId}/members", tag = "groups", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("groupId" = i64, Path)), request_body = MembersInput,
    responses((status = 200, body = MembersAdded), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_members(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
    Json(m): Json<MembersInput>,
) -> ApiResult<Json<MembersAdded>> {
    let cid = a.company(company)?;
    if m.user_ids.len() > 10_000 {
        return Err(ApiError::bad_request(
            "userIds",
            "too_many",
            "at most 10000 users per request",
        ));
    }
    let ids: Vec<UserId> = m.user_ids.iter().copied().map(UserId).collect();
    let mut tx = st.store.begin().await?;
    let added = groups::add_members(&mut tx, cid, GroupId(id), &ids).await?;
    let g = groups::get(&mut tx, cid, GroupId(id)).await?;
    record(
        &mut tx,
        a.who(),
        Change::new("add_members", "group", id)
            .company(cid)
            .name(&g.name)
            .after(&m.user_ids),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(MembersAdded { added }))
}

#[utoipa::path(delete, path = "/api/v1/companies/{companyId}/groups/{groupId}/members/{userId}", tag = "groups", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("groupId" = i64, Path), ("userId" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove_member(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id, user)): Path<(i64, i64, i64)>,
) -> ApiResult<StatusCode> {
    let cid = a.company(company)?;
    let mut tx = st.store.begin().await?;
    groups::remove_member(&mut tx, cid, GroupId(id), UserId(user)).await?;
    let g = groups::get(&mut tx, cid, GroupId(id)).await?;
    record(
        &mut tx,
        a.who(),
        Change::new("remove_member", "group", id)
            .company(cid)
            .name(&g.name)
            .before(&[user]),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
