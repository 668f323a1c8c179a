//! Application parameters (guide 9, 10.2): the catalogue with search and
//! the Expert flag, values per level (the installation default, a domain, a
//! group, a user) validated by type, group ranks, and the resolution for a
//! user naming the level or group each value comes from.

use std::sync::OnceLock;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use twp_access::params::{
    CATALOGUE, Level, ParamApp, ParamDef, ParamError, ParamStore, Source, UserScope, parse_value,
};
use twp_domain::{CompanyId, DomainId, GroupId, UserId};
use twp_store::parameters::{self, StoredValue};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::audit::{Change, record};
use crate::auth::Admin;
use crate::dto::time_text;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// The catalogue with parsed defaults, built once.
fn catalogue() -> ApiResult<&'static ParamStore> {
    static STORE: OnceLock<Option<ParamStore>> = OnceLock::new();
    STORE
        .get_or_init(|| ParamStore::new().ok())
        .as_ref()
        .ok_or_else(|| ApiError::internal("the parameter catalogue has an invalid default"))
}

fn app_key(a: ParamApp) -> &'static str {
    match a {
        ParamApp::SystemSettings => "system-settings",
        ParamApp::Server => "server",
        ParamApp::Caller => "caller",
        ParamApp::Alerter => "alerter",
        ParamApp::Rules => "rules",
        ParamApp::MediaServer => "media-server",
        ParamApp::Stats => "stats",
    }
}

fn app_from(text: &str) -> ApiResult<ParamApp> {
    ParamApp::ALL
        .into_iter()
        .find(|a| app_key(*a) == text)
        .ok_or_else(|| {
            let keys: Vec<_> = ParamApp::ALL.iter().map(|a| app_key(*a)).collect();
            ApiError::bad_request(
                "app",
                "invalid_app",
                format!("app: {text:?} is not one of {}", keys.join(", ")),
            )
        })
}

/// One parameter of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParamDefDto {
    pub key: String,
    /// `caller`, `alerter`, `server`… (the *Applications parameters* menu).
    pub app: String,
    pub app_label: String,
    /// "Yes/No", "integer 0..86400", "time HH:MM"…
    #[serde(rename = "type")]
    pub ty: String,
    pub default: String,
    /// Whether the guide states the default (else TWP chose it).
    pub guide_default: bool,
    /// Shown only in Expert mode.
    pub expert: bool,
    pub chapter: String,
    pub description: String,
}

fn def_dto(d: &ParamDef) -> ParamDefDto {
    ParamDefDto {
        key: d.key.into(),
        app: app_key(d.app).into(),
        app_label: d.app.label().into(),
        ty: d.ty.to_string(),
        default: d.default.into(),
        guide_default: d.guide_default,
        expert: d.expert,
        chapter: d.chapter.into(),
        description: d.description.into(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CatalogueQuery {
    /// Part of the key, any case.
    pub q: Option<String>,
    /// Only this application's parameters.
    pub app: Option<String>,
    /// Include Expert parameters (default false).
    pub expert: Option<bool>,
}

/// A value set at one level.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValueDto {
    pub key: String,
    /// `default`, `domain`, `group` or `user`.
    pub level: String,
    pub level_id: Option<i64>,
    pub value: String,
    pub updated_at: String,
}

fn level_parts(l: Level) -> (&'static str, Option<i64>) {
    match l {
        Level::Default => ("default", None),
        Level::Domain(d) => ("domain", Some(d.0)),
        Level::Group(g) => ("group", Some(g.0)),
        Level::User(u) => ("user", Some(u.0)),
    }
}

fn value_dto(v: &StoredValue) -> ValueDto {
    let (level, level_id) = level_parts(v.level);
    ValueDto {
        key: v.key.clone(),
        level: level.into(),
        level_id,
        value: v.value.clone(),
        updated_at: time_text(v.updated_at),
    }
}

/// A value to set, in the parameter's type ("Yes", "300", "08:30", "A|B").
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValueInput {
    pub value: String,
}

/// A group's rank for users in several groups (1 first; null: unranked).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RankInput {
    pub rank: Option<u32>,
}

/// A parameter's value for a user and where it comes from.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedDto {
    pub key: String,
    pub app: String,
    pub value: String,
    /// `catalogue`, `default`, `domain`, `group` or `user`.
    pub source: String,
    pub source_id: Option<i64>,
    /// Other groups of the user that set it too, shadowed by the winner.
    pub shadowed_groups: Vec<i64>,
    /// A warning the console shows beside the value: AuthMethods listing
    /// `None` lets anyone log in with this user's name alone (guide 6.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// The insecure-setting warning for a resolved value, if any.
pub(crate) fn value_warning(key: &str, value: &str) -> Option<String> {
    let none = key.eq_ignore_ascii_case("AuthMethods")
        && value
            .split('|')
            .any(|m| m.trim().eq_ignore_ascii_case("none"));
    none.then(|| {
        "insecure: AuthMethods lists None, so this user logs in with the user name alone, no password"
            .to_owned()
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ResolveQuery {
    /// Only this application's parameters.
    pub app: Option<String>,
}

fn param_error(e: ParamError) -> ApiError {
    match e {
        ParamError::UnknownKey(k) => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("unknown parameter {k:?}; GET /api/v1/parameters?q=… lists them"),
        )
        .with_field("key"),
        ParamError::Value(v) => ApiError::bad_request("value", "invalid_value", v.to_string()),
    }
}

/// Checks a value against its parameter's type; returns the canonical key
/// and value text.
fn validate(key: &str, input: &str) -> ApiResult<(&'static str, String)> {
    let def = catalogue()?.def(key).map_err(param_error)?;
    let value =
        parse_value(def.key, def.ty, input).map_err(|e| param_error(ParamError::Value(e)))?;
    Ok((def.key, value.to_string()))
}

fn company_level(kind: &str, id: i64) -> ApiResult<Level> {
    match kind {
        "domains" => Ok(Level::Domain(DomainId(id))),
        "groups" => Ok(Level::Group(GroupId(id))),
        "users" => Ok(Level::User(UserId(id))),
        other => Err(ApiError::bad_request(
            "level",
            "invalid_level",
            format!("level: {other:?} is not one of domains, groups, users"),
        )),
    }
}

/// The catalogue, searched by key; Expert parameters only on request.
#[utoipa::path(get, path = "/api/v1/parameters", tag = "parameters", security(("bearer" = [])),
    params(CatalogueQuery), responses((status = 200, body = Vec<ParamDefDto>), (status = 422, body = ErrorBody)))]
pub async fn list_catalogue(
    _a: Admin,
    Query(q): Query<CatalogueQuery>,
) -> ApiResult<Json<Vec<ParamDefDto>>> {
    let app = q.app.as_deref().map(app_from).transpose()?;
    let found = catalogue()?.search(app, q.q.as_deref().unwrap_or(""), q.expert.unwrap_or(false));
    Ok(Json(found.into_iter().map(def_dto).collect()))
}

async fn values_at(
    st: &AppState,
    company: Option<CompanyId>,
    level: Level,
) -> ApiResult<Vec<ValueDto>> {
    let mut c = st.store.read().await?;
    let found = parameters::list_level(&mut c, company, level).await?;
    Ok(found.iter().map(value_dto).collect())
}

async fn set_at(
    st: &AppState,
    a: &Admin,
    company: Option<CompanyId>,
    level: Level,
    key: &str,
    input: &ValueInput,
) -> ApiResult<ValueDto> {
    let (key, value) = validate(key, &input.value)?;
    let mut tx = st.store.begin().await?;
    let stored = parameters::set(&mut tx, company, key, level, &value).await?;
    let dto = value_dto(&stored);
    let mut change = Change::new("set", "parameter", key).after(&dto);
    if let Some(c) = company {
        change = change.company(c);
    }
    record(&mut tx, a.who(), change).await?;
    tx.commit().await?;
    Ok(dto)
}

async fn unset_at(
    st: &AppState,
    a: &Admin,
    company: Option<CompanyId>,
    level: Level,
    key: &str,
) -> ApiResult<StatusCode> {
    let def = catalogue()?.def(key).map_err(param_error)?;
    let mut tx = st.store.begin().await?;
    let Some(before) = parameters::unset(&mut tx, company, def.key, level).await? else {
        return Err(ApiError::not_found("parameter value"));
    };
    let mut change = Change::new("unset", "parameter", def.key).before(&value_dto(&before));
    if let Some(c) = company {
        change = change.company(c);
    }
    record(&mut tx, a.who(), change).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The installation defaults set by the administrator.
#[utoipa::path(get, path = "/api/v1/parameters/defaults", tag = "parameters", security(("bearer" = [])),
    responses((status = 200, body = Vec<ValueDto>)))]
pub async fn list_defaults(
    State(st): State<AppState>,
    _a: Admin,
) -> ApiResult<Json<Vec<ValueDto>>> {
    Ok(Json(values_at(&st, None, Level::Default).await?))
}

/// Override a parameter's default for the whole installation (super users).
#[utoipa::path(put, path = "/api/v1/parameters/defaults/{key}", tag = "parameters", security(("bearer" = [])),
    params(("key" = String, Path)), request_body = ValueInput,
    responses((status = 200, body = ValueDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_default(
    State(st): State<AppState>,
    a: Admin,
    Path(key): Path<String>,
    Json(input): Json<ValueInput>,
) -> ApiResult<Json<ValueDto>> {
    a.require_super_user()?;
    Ok(Json(
        set_at(&st, &a, None, Level::Default, &key, &input).await?,
    ))
}

/// Back to the catalogue's default.
#[utoipa::path(delete, path = "/api/v1/parameters/defaults/{key}", tag = "parameters", security(("bearer" = [])),
    params(("key" = String, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unset_default(
    State(st): State<AppState>,
    a: Admin,
    Path(key): Path<String>,
) -> ApiResult<StatusCode> {
    a.require_super_user()?;
    unset_at(&st, &a, None, Level::Default, &key).await
}

/// The values set on a domain, group or user.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/parameters/{level}/{levelId}", tag = "parameters", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("level" = String, Path, description = "domains, groups or users"), ("levelId" = i64, Path)),
    responses((status = 200, body = Vec<ValueDto>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_values(
    State(st): State<AppState>,
    a: Admin,
    Path((company, level, id)): Path<(i64, String, i64)>,
) -> ApiResult<Json<Vec<ValueDto>>> {
    let cid = a.company(company)?;
    let level = company_level(&level, id)?;
    Ok(Json(values_at(&st, Some(cid), level).await?))
}

/// Set a parameter on a domain, group or user; the value is checked
/// against the parameter's type.
#[utoipa::path(put, path = "/api/v1/companies/{companyId}/parameters/{level}/{levelId}/{key}", tag = "parameters", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("level" = String, Path, description = "domains, groups or users"), ("levelId" = i64, Path), ("key" = String, Path)),
    request_body = ValueInput,
    responses((status = 200, body = ValueDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_value(
    State(st): State<AppState>,
    a: Admin,
    Path((company, level, id, key)): Path<(i64, String, i64, String)>,
    Json(input): Json<ValueInput>,
) -> ApiResult<Json<ValueDto>> {
    let cid = a.company(company)?;
    let level = company_level(&level, id)?;
    Ok(Json(set_at(&st, &a, Some(cid), level, &key, &input).await?))
}

/// Remove a parameter's value from a domain, group or user.
#[utoipa::path(delete, path = "/api/v1/companies/{companyId}/parameters/{level}/{levelId}/{key}", tag = "parameters", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("level" = String, Path, description = "domains, groups or users"), ("levelId" = i64, Path), ("key" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn unset_value(
    State(st): State<AppState>,
    a: Admin,
    Path((company, level, id, key)): Path<(i64, String, i64, String)>,
) -> ApiResult<StatusCode> {
    let cid = a.company(company)?;
    let level = company_level(&level, id)?;
    unset_at(&st, &a, Some(cid), level, &key).await
}

/// Set a group's rank: when a user is in several groups setting the same
/// parameter, the best-ranked group wins, then unranked groups oldest first.
#[utoipa::path(put, path = "/api/v1/companies/{companyId}/groups/{groupId}/parameter-rank", tag = "parameters", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("groupId" = i64, Path)), request_body = RankInput,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn set_rank(
    State(st): State<AppState>,
    a: Admin,
    Path((company, group)): Path<(i64, i64)>,
    Json(input): Json<RankInput>,
) -> ApiResult<StatusCode> {
    let cid = a.company(company)?;
    let mut tx = st.store.begin().await?;
    parameters::set_group_rank(&mut tx, cid, GroupId(group), input.rank).await?;
    record(
        &mut tx,
        a.who(),
        Change::new("set_rank", "group", group)
            .company(cid)
            .after(&input),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The catalogue with every value that can apply to one user, ready to
/// resolve for that user (`scope.groups` gives its groups in order).
pub(crate) fn param_store_for(scope: &parameters::UserParamScope) -> ApiResult<ParamStore> {
    let mut store = catalogue()?.clone();
    for v in &scope.values {
        // A value stored by an older catalogue that no longer parses is
        // skipped (and logged), not fatal: the user still gets the rest.
        if let Err(e) = store.set(&v.key, v.level, &v.value) {
            tracing::warn!(key = %v.key, error = %e, "stored parameter value ignored");
        }
    }
    for (g, rank) in &scope.groups {
        store.set_group_rank(*g, *rank);
    }
    Ok(store)
}

/// Every parameter's value for a user, with the level (or group) it comes
/// from.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/users/{userId}/parameters", tag = "parameters", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("userId" = i64, Path), ResolveQuery),
    responses((status = 200, body = Vec<ResolvedDto>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn resolve(
    State(st): State<AppState>,
    a: Admin,
    Path((company, user)): Path<(i64, i64)>,
    Query(q): Query<ResolveQuery>,
) -> ApiResult<Json<Vec<ResolvedDto>>> {
    let cid = a.company(company)?;
    let app = q.app.as_deref().map(app_from).transpose()?;
    let mut c = st.store.read().await?;
    let scope = parameters::user_scope(&mut c, cid, UserId(user)).await?;
    drop(c);
    let store = param_store_for(&scope)?;
    let groups: Vec<GroupId> = scope.groups.iter().map(|(g, _)| *g).collect();
    let us = UserScope {
        user: scope.user,
        domain: scope.domain,
        groups: &groups,
    };
    let apps: Vec<ParamApp> = match app {
        Some(a) => vec![a],
        None => ParamApp::ALL.to_vec(),
    };
    let mut out = Vec::with_capacity(CATALOGUE.len());
    for app in apps {
        for r in store.resolve_all(app, &us) {
            let (source, source_id, shadowed) = match &r.source {
                Source::Catalogue => ("catalogue", None, Vec::new()),
                Source::Default => ("default", None, Vec::new()),
                Source::Domain(d) => ("domain", Some(d.0), Vec::new()),
                Source::Group { group, shadowed } => (
                    "group",
                    Some(group.0),
                    shadowed.iter().map(|g| g.0).collect(),
                ),
                Source::User(u) => ("user", Some(u.0), Vec::new()),
            };
            let value = r.value.to_string();
            out.push(ResolvedDto {
                key: r.def.key.into(),
                app: app_key(app).into(),
                value: value.clone(),
                source: source.into(),
                source_id,
                shadowed_groups: shadowed,
                warning: value_warning(r.def.key, &value),
            });
        }
    }
    Ok(Json(out))
}
