//! Users and their devices (guide 3.3.4, 7.1, menu Users / Users).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use twp_domain::{CompanyId, FieldErrors, SecretChange, UserId};
use twp_store::users::{self, CreatedIdKeys, UserFilter, UserSecrets};
use twp_store::{PageRequest, Tx};

use crate::AppState;
use crate::audit::{Change, entry, record};
use crate::auth::Admin;
use crate::dto::{DeviceDto, DeviceInput, PageOf, UserDto, UserInput, UserPatch, UserQuery};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::validate;

#[utoipa::path(get, path = "/api/v1/companies/{companyId}/users", tag = "users", security(("bearer" = [])),
    params(("companyId" = i64, Path), UserQuery), responses((status = 200, body = PageOf<UserDto>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    a: Admin,
    Path(company): Path<i64>,
    Query(q): Query<UserQuery>,
) -> ApiResult<Json<PageOf<UserDto>>> {
    let cid = a.company(company)?;
    let filter = UserFilter {
        domain_id: q.domain_id.map(twp_domain::DomainId),
        q: q.q,
        enabled: q.enabled,
        number: q.number,
        group_id: q.group_id,
        not_in_group_id: q.not_in_group_id,
    };
    let mut c = st.store.read().await?;
    let page = users::list(&mut c, cid, &filter, &PageRequest::new(q.after, q.limit)).await?;
    Ok(Json(PageOf::from(page, UserDto::from)))
}

/// Where the ids go in a created user's JSON ([`UserDto`], [`DeviceDto`]).
const CREATED_IDS: CreatedIdKeys = CreatedIdKeys {
    user_id: "id",
    devices: "devices",
    device_id: "id",
};

/// Create a user, with its devices, in one step.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/users", tag = "users", security(("bearer" = [])),
    params(("companyId" = i64, Path)), request_body = UserInput,
    responses((status = 201, body = UserDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    a: Admin,
    Path(company): Path<i64>,
    Json(input): Json<UserInput>,
) -> ApiResult<(StatusCode, Json<UserDto>)> {
    let cid = a.company(company)?;
    let secrets = st.secrets.clone();
    // argon2id costs tens of milliseconds: keep it off the async workers
    let (data, user_secrets, devices) = if input.password.as_deref().is_some_and(|p| !p.is_empty())
    {
        tokio::task::spawn_blocking(move || validate::new_user(&input, &secrets))
            .await
            .map_err(ApiError::internal)??
    } else {
        validate::new_user(&input, &secrets)?
    };
    let who = a.who().clone();
    let user = users::create_recorded(
        &st.store,
        cid,
        &data,
        user_secrets,
        &devices,
        move |u| {
            entry(
                &who,
                Change::new("create", "user", u.id.0)
                    .company(cid)
                    .name(&u.data.user_name)
                    .after(&UserDto::from(u.clone())),
            )
        },
        CREATED_IDS,
    )
    .await?;
    let u = UserDto::from(user);
    Ok((StatusCode::CREATED, Json(u)))
}

#[utoipa::path(get, path = "/api/v1/companies/{companyId}/users/{userId}", tag = "users", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("userId" = i64, Path)), responses((status = 200, body = UserDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
) -> ApiResult<Json<UserDto>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    Ok(Json(users::get(&mut c, cid, UserId(id)).await?.into()))
}

fn secret_patch(
    v: &Option<Option<String>>,
    protect: impl FnOnce(&str) -> Result<String, ApiError>,
) -> Result<SecretChange, ApiError> {
    Ok(match v {
        None => SecretChange::Keep,
        Some(None) => SecretChange::Clear,
        Some(Some(s)) if s.is_empty() => SecretChange::Clear,
        Some(Some(s)) => SecretChange::Set(protect(s)?),
    })
}

/// Change some fields of a user. Moving a user to another domain moves its
/// devices and removes it from the groups of its old domain.
#[utoipa::path(patch, path = "/api/v1/companies/{companyId}/users/{userId}", tag = "users", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("userId" = i64, Path)), request_body = UserPatch,
    responses((status = 200, body = UserDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
    Json(p): Json<UserPatch>,
) -> ApiResult<Json<UserDto>> {
    let cid = a.company(company)?;
    let password = p.password.clone();
    let password_hash = tokio::task::spawn_blocking(move || {
        secret_patch(&password, |s| validate::user_password("password", s))
    })
    .await
    .map_err(ApiError::internal)??;
    let vm = secret_patch(&p.vm_password, |s| {
        validate::vm_password("vmPassword", s, &st.secrets)
    })?;
    let mut tx = st.store.begin().await?;
    let cur = users::get(&mut tx, cid, UserId(id)).await?;
    let pick = |new: &Option<Option<String>>, old: &Option<String>| match new {
        None => old.clone(),
        Some(v) => v.clone(),
    };
    let d = &cur.data;
    let mut errs = FieldErrors::default();
    let data = validate::user_data(
        &mut errs,
        p.domain_id.unwrap_or(d.domain_id.0),
        p.user_name.as_deref().unwrap_or(&d.user_name),
        pick(&p.first_name, &d.first_name).as_deref(),
        pick(&p.last_name, &d.last_name).as_deref(),
        pick(&p.gsm, &d.gsm).as_deref(),
        pick(&p.email, &d.email).as_deref(),
        pick(&p.ip, &d.ip).as_deref(),
        p.enabled.unwrap_or(d.enabled),
        pick(&p.culture, &d.culture).as_deref(),
        pick(&p.external_key, &d.external_key).as_deref(),
    );
    errs.into_result()?;
    let data = data.ok_or_else(|| ApiError::internal("validated user without data"))?;
    let before = UserDto::from(cur);
    let after = UserDto::from(
        users::update(
            &mut tx,
            cid,
            UserId(id),
            &data,
            UserSecrets {
                password_hash,
                vm_password: vm,
            },
        )
        .await?,
    );
    record(
        &mut tx,
        a.who(),
        Change::new("update", "user", id)
            .company(cid)
            .name(&after.user_name)
            .before(&before)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(after))
}

#[utoipa::path(delete, path = "/api/v1/companies/{companyId}/users/{userId}", tag = "users", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("userId" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let cid = a.company(company)?;
    let mut tx = st.store.begin().await?;
    let before = UserDto::from(users::get(&mut tx, cid, UserId(id)).await?);
    users::delete(&mut tx, cid, UserId(id)).await?;
    record(
        &mut tx,
        a.who(),
        Change::new("delete", "user", id)
            .company(cid)
            .name(&before.user_name)
            .before(&before),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- devices ----

fn device_input(
    d: &DeviceInput,
    st: &AppState,
) -> ApiResult<(twp_domain::DeviceData, twp_domain::DeviceSecrets)> {
    let mut errs = FieldErrors::default();
    let v = validate::device(&mut errs, None, d, &st.secrets);
    errs.into_result()?;
    v.ok_or_else(|| ApiError::internal("validated device without data"))
}

async fn audit_device(
    tx: &mut Tx,
    a: &Admin,
    cid: CompanyId,
    action: &'static str,
    user: i64,
    before: Option<&DeviceDto>,
    after: Option<&DeviceDto>,
) -> ApiResult<()> {
    let dev = after
        .or(before)
        .map(|d| (d.id, d.number.clone()))
        .unwrap_or_default();
    let mut c = Change::new(action, "device", dev.0)
        .company(cid)
        .name(&format!("{} (user {user})", dev.1));
    if let Some(b) = before {
        c = c.before(b);
    }
    if let Some(x) = after {
        c = c.after(x);
    }
    record(tx, a.who(), c).await
}

/// Add a device to a user.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/users/{userId}/devices", tag = "users", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("userId" = i64, Path)), request_body = DeviceInput,
    responses((status = 201, body = DeviceDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_device(
    State(st): State<AppState>,
    a: Admin,
    Path((company, user)): Path<(i64, i64)>,
    Json(d): Json<DeviceInput>,
) -> ApiResult<(StatusCode, Json<DeviceDto>)> {
    let cid = a.company(company)?;
    let (data, secrets) = device_input(&d, &st)?;
    let mut tx = st.store.begin().await?;
    let dev = DeviceDto::from(users::add_device(&mut tx, cid, UserId(user), &data, secrets).await?);
    audit_device(&mut tx, &a, cid, "create", user, None, Some(&dev)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(dev)))
}

/// Replace a device's settings. Write-only passwords are kept when absent
/// and cleared by an empty string.
#[utoipa::path(put, path = "/api/v1/companies/{companyId}/users/{userId}/devices/{deviceId}", tag = "users", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("userId" = i64, Path), ("deviceId" = i64, Path)), request_body = DeviceInput,
    responses((status = 200, body = DeviceDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_device(
    State(st): State<AppState>,
    a: Admin,
    Path((company, user, id)): Path<(i64, i64, i64)>,
    Json(d): Json<DeviceInput>,
) -> ApiResult<Json<DeviceDto>> {
    let cid = a.company(company)?;
    let (data, secrets) = device_input(&d, &st)?;
    let mut tx = st.store.begin().await?;
    let before = DeviceDto::from(users::get_device(&mut tx, cid, UserId(user), id).await?);
    let after = DeviceDto::from(
        users::update_device(&mut tx, cid, UserId(user), id, &data, secrets).await?,
    );
    audit_device(
        &mut tx,
        &a,
        cid,
        "update",
        user,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(after))
}

#[utoipa::path(delete, path = "/api/v1/companies/{companyId}/users/{userId}/devices/{deviceId}", tag = "users", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("userId" = i64, Path), ("deviceId" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_device(
    State(st): State<AppState>,
    a: Admin,
    Path((company, user, id)): Path<(i64, i64, i64)>,
) -> ApiResult<StatusCode> {
    let cid = a.company(company)?;
    let mut tx = st.store.begin().await?;
    let before = DeviceDto::from(users::get_device(&mut tx, cid, UserId(user), id).await?);
    users::delete_device(&mut tx, cid, UserId(user), id).await?;
    audit_device(&mut tx, &a, cid, "delete", user, Some(&before), None).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
