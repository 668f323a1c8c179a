//! Authorizations (guide 7.4): add, remove and list grants of a company,
//! and explain what a user may see and through which grant. Every new grant
//! is validated by the `twp-access` engine (sharing rules, license seats).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use twp_access::authz::{
    Application, Grant, GrantId, GroupId, Object, ObjectKind, Principal, Subject, UserId,
};
use twp_store::grants::{self, GrantFilter, StoredGrant, kind_from_text, kind_text};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::access::{engine, engine_for_grant_write, grant_error};
use crate::audit::{Change, record};
use crate::auth::Admin;
use crate::dto::time_text;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// A user or a group.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrincipalDto {
    /// `user` or `group`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: i64,
}

/// One authorization: `subject` may use or see the object.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantDto {
    pub id: i64,
    pub subject: PrincipalDto,
    /// `application`, `calendar`, `call_log`, `statistics` or `records`.
    pub object_type: String,
    /// For applications: `caller`, `alerter`, `stats`, `stats-admin`,
    /// `soft-phone`, `rules`, `videoshare`, `toolkit`.
    pub application: Option<String>,
    /// For user data: whose calendar, call logs, statistics or records.
    pub owner: Option<PrincipalDto>,
    /// For directories: which one.
    pub directory_id: Option<i64>,
    /// Readable: "group 3 may use application TWP Caller".
    pub description: String,
    pub created_at: Option<String>,
}

/// A grant to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantInput {
    /// Who receives the right; for statistics and records, the viewer.
    pub subject: PrincipalDto,
    pub object_type: String,
    pub application: Option<String>,
    pub owner: Option<PrincipalDto>,
    /// For `directory`: a directory of the company.
    pub directory_id: Option<i64>,
}

/// List filters; all given must match.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct GrantQuery {
    /// `user` or `group`, with `subjectId`.
    pub subject_type: Option<String>,
    pub subject_id: Option<i64>,
    pub object_type: Option<String>,
    pub application: Option<String>,
    /// `user` or `group`, with `ownerId`: grants about this owner's data.
    pub owner_type: Option<String>,
    pub owner_id: Option<i64>,
    /// With `objectType=directory`: grants of this directory.
    pub directory_id: Option<i64>,
}

/// Which objects of a type a user reaches, and how.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AccessQuery {
    /// `application`, `calendar`, `call_log`, `statistics` or `records`.
    pub object_type: String,
}

/// One right of a user and the grant it comes through.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessDto {
    pub grant_id: i64,
    /// The user itself or one of its groups.
    pub via: PrincipalDto,
    pub object_type: String,
    pub application: Option<String>,
    pub owner: Option<PrincipalDto>,
    pub description: String,
}

fn principal_dto(p: Principal) -> PrincipalDto {
    match p {
        Principal::User(u) => PrincipalDto {
            kind: "user".into(),
            id: u.0,
        },
        Principal::Group(g) => PrincipalDto {
            kind: "group".into(),
            id: g.0,
        },
    }
}

fn subject_dto(s: Subject) -> PrincipalDto {
    match s {
        Subject::User(u) => principal_dto(Principal::User(u)),
        Subject::Group(g) => principal_dto(Principal::Group(g)),
        Subject::PhoneQueue(q) => PrincipalDto {
            kind: "phone_queue".into(),
            id: q.0,
        },
        Subject::IntercomGroup(i) => PrincipalDto {
            kind: "intercom_group".into(),
            id: i.0,
        },
    }
}

fn object_parts(o: &Object) -> (String, Option<String>, Option<PrincipalDto>) {
    let app = match o {
        Object::Application(a) => Some(a.key().to_owned()),
        _ => None,
    };
    (
        kind_text(o.kind()).to_owned(),
        app,
        o.owner().map(principal_dto),
    )
}

fn grant_dto(g: &Grant, created_at: Option<i64>) -> GrantDto {
    let (object_type, application, owner) = object_parts(&g.object);
    let directory_id = match g.object {
        Object::Directory(d) => Some(d.0),
        _ => None,
    };
    GrantDto {
        directory_id,
        id: g.id.0,
        subject: subject_dto(g.subject),
        object_type,
        application,
        owner,
        description: format!("{} may use or see {}", g.subject, g.object),
        created_at: created_at.map(time_text),
    }
}

impl From<&StoredGrant> for GrantDto {
    fn from(s: &StoredGrant) -> Self {
        grant_dto(&s.grant, Some(s.created_at))
    }
}

fn principal(field: &str, kind: &str, id: i64) -> ApiResult<Principal> {
    match kind {
        "user" => Ok(Principal::User(UserId(id))),
        "group" => Ok(Principal::Group(GroupId(id))),
        other => Err(ApiError::bad_request(
            field,
            "invalid_principal",
            format!("{field}: expected \"user\" or \"group\", got {other:?}"),
        )),
    }
}

fn object_kind(text: &str) -> ApiResult<ObjectKind> {
    kind_from_text(text).ok_or_else(|| {
        ApiError::bad_request(
            "objectType",
            "invalid_object_type",
            format!(
                "objectType: {text:?} is not one of application, directory, calendar, \
                 intercom_group, phone_queue, call_log, statistics, records"
            ),
        )
    })
}

fn application(text: Option<&str>) -> ApiResult<Application> {
    let text = text.unwrap_or("");
    Application::from_key(text).ok_or_else(|| {
        let keys: Vec<_> = Application::ALL.iter().map(|a| a.key()).collect();
        ApiError::bad_request(
            "application",
            "invalid_application",
            format!("application: {text:?} is not one of {}", keys.join(", ")),
        )
    })
}

fn object(
    kind: ObjectKind,
    app: Option<&str>,
    owner: Option<Principal>,
    directory: Option<i64>,
) -> ApiResult<Object> {
    let need_owner = || {
        owner.ok_or_else(|| {
            ApiError::bad_request(
                "owner",
                "required",
                format!("owner: {} need the user or group whose data is seen", kind),
            )
        })
    };
    Ok(match kind {
        ObjectKind::Application => Object::Application(application(app)?),
        ObjectKind::Calendar => Object::Calendar(need_owner()?),
        ObjectKind::CallLog => Object::CallLog(need_owner()?),
        ObjectKind::Statistics => Object::Statistics(need_owner()?),
        ObjectKind::Records => Object::Records(need_owner()?),
        // its existence in the company is checked by the store (not found)
        ObjectKind::Directory => Object::Directory(twp_access::authz::DirectoryId(
            directory.ok_or_else(|| {
                ApiError::bad_request(
                    "directoryId",
                    "required",
                    "directoryId: a directory grant names the directory",
                )
            })?,
        )),
        ObjectKind::IntercomGroup | ObjectKind::PhoneQueue => {
            return Err(ApiError::bad_request(
                "objectType",
                "not_available",
                format!("objectType: {kind} cannot be granted yet (not stored by this version)"),
            ));
        }
    })
}

/// The company's grants, oldest first; filter per subject or per object.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/grants", tag = "grants", security(("bearer" = [])),
    params(("companyId" = i64, Path), GrantQuery), responses((status = 200, body = Vec<GrantDto>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    a: Admin,
    Path(company): Path<i64>,
    Query(q): Query<GrantQuery>,
) -> ApiResult<Json<Vec<GrantDto>>> {
    let cid = a.company(company)?;
    let subject = match (q.subject_type.as_deref(), q.subject_id) {
        (Some(k), Some(id)) => Some(principal("subjectType", k, id)?),
        _ => None,
    };
    let owner = match (q.owner_type.as_deref(), q.owner_id) {
        (Some(k), Some(id)) => Some(principal("ownerType", k, id)?),
        _ => None,
    };
    let kind = q.object_type.as_deref().map(object_kind).transpose()?;
    let object = match kind {
        Some(k) if q.application.is_some() || owner.is_some() || q.directory_id.is_some() => {
            Some(object(k, q.application.as_deref(), owner, q.directory_id)?)
        }
        _ => None,
    };
    let mut c = st.store.read().await?;
    let found = grants::list(
        &mut c,
        cid,
        GrantFilter {
            subject,
            object,
            kind,
        },
    )
    .await?;
    Ok(Json(found.iter().map(GrantDto::from).collect()))
}

/// Add a grant. Refused with the rule's name when it breaks a sharing rule
/// of guide 7.4, and with the numbers when an application has no seat left.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/grants", tag = "grants", security(("bearer" = [])),
    params(("companyId" = i64, Path)), request_body = GrantInput,
    responses((status = 201, body = GrantDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add(
    State(st): State<AppState>,
    a: Admin,
    Path(company): Path<i64>,
    Json(input): Json<GrantInput>,
) -> ApiResult<(StatusCode, Json<GrantDto>)> {
    let cid = a.company(company)?;
    let subject = principal("subject", &input.subject.kind, input.subject.id)?;
    let owner = input
        .owner
        .as_ref()
        .map(|o| principal("owner", &o.kind, o.id))
        .transpose()?;
    let obj = object(
        object_kind(&input.object_type)?,
        input.application.as_deref(),
        owner,
        input.directory_id,
    )?;
    let mut tx = st.store.begin().await?;
    let version = grants::lock_for_write(&mut tx).await?;
    // Unknown or other-company ids are "not found" before any rule is told.
    grants::home(&mut tx, cid, subject).await?;
    if let Some(o) = owner {
        grants::home(&mut tx, cid, o).await?;
    }
    if let Object::Directory(d) = obj
        && !twp_store::directories::exists_in_company(&mut tx, cid, d.0).await?
    {
        return Err(ApiError::not_found("directory"));
    }
    let mut write = engine_for_grant_write(&st, &mut tx, version).await?;
    // The store numbers the grant; a negative id never collides.
    let candidate = Grant {
        id: GrantId(-1),
        subject: Subject::from(subject),
        object: obj,
    };
    write.engine.validate(&candidate).map_err(grant_error)?;
    let stored = grants::insert(&mut tx, cid, subject, obj).await?;
    write.engine.add_grant(stored.grant).map_err(grant_error)?;
    let dto = GrantDto::from(&stored);
    record(
        &mut tx,
        a.who(),
        Change::new("create", "grant", dto.id)
            .company(cid)
            .name(&dto.description)
            .after(&dto),
    )
    .await?;
    tx.commit().await?;
    write.done(&st);
    Ok((StatusCode::CREATED, Json(dto)))
}

/// Remove a grant.
#[utoipa::path(delete, path = "/api/v1/companies/{companyId}/grants/{grantId}", tag = "grants", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("grantId" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let cid = a.company(company)?;
    let mut tx = st.store.begin().await?;
    let version = grants::lock_for_write(&mut tx).await?;
    let before = GrantDto::from(&grants::get(&mut tx, cid, GrantId(id)).await?);
    let mut write = engine_for_grant_write(&st, &mut tx, version).await?;
    grants::delete(&mut tx, cid, GrantId(id)).await?;
    write.engine.remove_grant(GrantId(id));
    record(
        &mut tx,
        a.who(),
        Change::new("delete", "grant", id)
            .company(cid)
            .name(&before.description)
            .before(&before),
    )
    .await?;
    tx.commit().await?;
    write.done(&st);
    Ok(StatusCode::NO_CONTENT)
}

/// What a user may use or see of one object type, and through which grant
/// (given to the user or one of its groups).
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/users/{userId}/access", tag = "grants", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("userId" = i64, Path), AccessQuery),
    responses((status = 200, body = Vec<AccessDto>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn explain(
    State(st): State<AppState>,
    a: Admin,
    Path((company, user)): Path<(i64, i64)>,
    Query(q): Query<AccessQuery>,
) -> ApiResult<Json<Vec<AccessDto>>> {
    let cid = a.company(company)?;
    let kind = object_kind(&q.object_type)?;
    grants::home(
        &mut *st.store.read().await?,
        cid,
        Principal::User(UserId(user)),
    )
    .await?;
    let engine = engine(&st).await?;
    Ok(Json(
        engine
            .visible(UserId(user), kind)
            .into_iter()
            .map(|v| {
                let (object_type, application, owner) = object_parts(&v.object);
                AccessDto {
                    grant_id: v.grant.0,
                    via: subject_dto(v.subject),
                    object_type,
                    application,
                    owner,
                    description: format!("{} through grant {} to {}", v.object, v.grant, v.subject),
                }
            })
            .collect(),
    ))
}
