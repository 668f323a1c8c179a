//! Users import links, their runs and reports (guide 7.2, menu Users /
//! Import Users): CRUD, "Synchro" (a run in the background), progress and
//! the kept reports.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use twp_domain::{
    CompanyId, DomainId, FieldError, FieldErrors, GroupId, ImportMapping, ImportSchedule,
    ImportSecurity, ImportType, Name, SecretChange, SyncType, UserField, UserImport,
    UserImportData, format_time_of_day, parse_time_of_day,
};
use twp_import::RunOptions;
use twp_store::user_imports::{self, ImportRun};
use twp_store::user_sync::ImportActor;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::audit::{Change, record};
use crate::auth::Admin;
use crate::directories::imported;
use crate::dto::time_text;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::imports::open_password;

/// When an import runs by itself.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleDto {
    /// `manual` (default), `daily` or `interval`.
    pub kind: String,
    /// daily: `HH:MM` (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// interval: minutes between runs (5 to 10080; hours: multiply by 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_minutes: Option<u32>,
}

/// An import link; the bind password is never returned (`hasPassword`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserImportDto {
    pub id: i64,
    pub description: String,
    /// `ldap`, `active-directory` or `pbx`.
    #[serde(rename = "type")]
    pub import_type: String,
    pub domain_id: i64,
    pub group_id: Option<i64>,
    pub host: String,
    pub port: u16,
    /// `none`, `ldaps` or `starttls`.
    pub security: String,
    pub bind_name: String,
    pub has_password: bool,
    /// The "connection string".
    pub base_dn: String,
    pub filter: String,
    pub page_size: u32,
    /// TWP user field → source attribute.
    pub mapping: BTreeMap<String, String>,
    /// `full`, `insert-update-disable`, `insert-update` or `update-only`.
    pub sync_type: String,
    pub schedule: ScheduleDto,
    pub delete_share_percent: u8,
    /// The directory of this import's users (guide 7.2.4): grant it to
    /// show their contact cards. Made with the import, synchronised after
    /// each successful run, deleted with the import; `null` if an
    /// administrator deleted it.
    pub directory_id: Option<i64>,
    pub last_run_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn schedule_dto(s: ImportSchedule) -> ScheduleDto {
    match s {
        ImportSchedule::Manual => ScheduleDto {
            kind: "manual".into(),
            at: None,
            every_minutes: None,
        },
        ImportSchedule::Daily { minute_of_day } => ScheduleDto {
            kind: "daily".into(),
            at: Some(format_time_of_day(minute_of_day)),
            every_minutes: None,
        },
        ImportSchedule::Every { minutes } => ScheduleDto {
            kind: "interval".into(),
            at: None,
            every_minutes: Some(minutes),
        },
    }
}

impl From<UserImport> for UserImportDto {
    fn from(i: UserImport) -> Self {
        let d = i.data;
        Self {
            id: i.id,
            description: d.description,
            import_type: d.import_type.as_str().into(),
            domain_id: d.domain_id.0,
            group_id: d.group_id.map(|g| g.0),
            host: d.host,
            port: d.port,
            security: d.security.as_str().into(),
            bind_name: d.bind_name,
            has_password: i.has_password,
            base_dn: d.base_dn,
            filter: d.filter,
            page_size: d.page_size,
            mapping: d
                .mapping
                .0
                .into_iter()
                .map(|(f, a)| (f.as_str().to_owned(), a))
                .collect(),
            sync_type: d.sync_type.as_str().into(),
            schedule: schedule_dto(d.schedule),
            delete_share_percent: d.delete_share_percent,
            directory_id: None,
            last_run_at: i.last_run_at.map(time_text),
            created_at: time_text(i.created_at),
            updated_at: time_text(i.updated_at),
        }
    }
}

/// An import link's settings. Absent fields take the guide's defaults; an
/// absent `mapping` takes the type's usual attributes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserImportInput {
    pub description: String,
    /// `ldap`, `active-directory` or `pbx`.
    #[serde(rename = "type")]
    pub import_type: String,
    pub domain_id: i64,
    pub group_id: Option<i64>,
    /// LDAP: the server. `pbx`: the host of the domain's CSTA link to read
    /// the subscriber list through; empty: the first link that is up.
    #[serde(default)]
    pub host: String,
    /// Default 389 (636 with `ldaps`; 3211 for `pbx`, used only when
    /// several links share the host).
    pub port: Option<i64>,
    /// `none` (default), `ldaps` or `starttls`.
    pub security: Option<String>,
    #[serde(default)]
    pub bind_name: String,
    /// Write-only: absent keeps it, `""` clears it; sealed, never returned.
    pub password: Option<String>,
    #[serde(default)]
    pub base_dn: String,
    /// An LDAP filter (RFC 4515); default: people of the type.
    #[serde(default)]
    pub filter: String,
    /// Entries per page, 1 to 10000 (default 500).
    pub page_size: Option<i64>,
    /// TWP user field (`userName`, `firstName`, `lastName`, `email`, `gsm`,
    /// `deviceNumber`, `deviceProtocol`, `culture`, `externalKey`) → source
    /// attribute. `externalKey`, `userName` and `deviceNumber` are required.
    pub mapping: Option<BTreeMap<String, String>>,
    /// Default `insert-update`.
    pub sync_type: Option<String>,
    pub schedule: Option<ScheduleDto>,
    /// Default 20.
    pub delete_share_percent: Option<i64>,
}

fn attribute_ok(a: &str) -> bool {
    !a.is_empty()
        && a.len() <= 100
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ';' | '.' | '_'))
}

fn validated(i: &UserImportInput) -> Result<UserImportData, ApiError> {
    let mut errs = FieldErrors::default();
    let description = errs.check(Name::parse("description", &i.description, 200));
    let import_type = errs.check(i.import_type.parse::<ImportType>());
    let security = match i.security.as_deref() {
        None | Some("") => Some(ImportSecurity::None),
        Some(s) => errs.check(s.parse::<ImportSecurity>()),
    };
    let ldap = import_type.is_some_and(|t| t != ImportType::Pbx);
    let host = i.host.trim().to_owned();
    if ldap && host.is_empty() {
        errs.push(FieldError::new(
            "host",
            "required",
            "the LDAP server's address",
        ));
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '/')
        || host.len() > 255
    {
        errs.push(FieldError::new(
            "host",
            "invalid_host",
            "a host name or IP address",
        ));
    }
    let port = match i.port {
        None => Some(if import_type == Some(ImportType::Pbx) {
            3211
        } else if security == Some(ImportSecurity::Ldaps) {
            636
        } else {
            389
        }),
        Some(p) => errs.check(twp_domain::validate_port("port", p)),
    };
    let base_dn = i.base_dn.trim().to_owned();
    if ldap && base_dn.is_empty() {
        errs.push(FieldError::new(
            "baseDn",
            "required",
            "the base DN of the search",
        ));
    }
    if base_dn.len() > 1000 || base_dn.chars().any(char::is_control) {
        errs.push(FieldError::new(
            "baseDn",
            "invalid_dn",
            "at most 1000 printable characters",
        ));
    }
    if i.bind_name.len() > 1000 || i.bind_name.chars().any(char::is_control) {
        errs.push(FieldError::new(
            "bindName",
            "invalid_dn",
            "at most 1000 printable characters",
        ));
    }
    let filter = i.filter.trim().to_owned();
    if !filter.is_empty()
        && let Err(e) = twp_connectors::validate_filter(&filter)
    {
        errs.push(FieldError::new("filter", "invalid_filter", e.to_string()));
    }
    let page_size = match i.page_size {
        None => Some(500),
        Some(p) if (1..=10_000).contains(&p) => u32::try_from(p).ok(),
        Some(_) => {
            errs.push(FieldError::new(
                "pageSize",
                "out_of_range",
                "must be 1 to 10000",
            ));
            None
        }
    };
    let mapping = match (&i.mapping, import_type) {
        (None, Some(t)) => Some(ImportMapping::preset(t)),
        (None, None) => None,
        (Some(m), _) => {
            let mut out = Vec::new();
            for (f, a) in m {
                let field = format!("mapping.{f}");
                match f.parse::<UserField>() {
                    Err(_) => errs.push(FieldError::new(
                        field,
                        "unknown_field",
                        "not a TWP user field: use userName, firstName, lastName, email, gsm, \
                         deviceNumber, deviceProtocol, culture or externalKey",
                    )),
                    Ok(_) if !attribute_ok(a.trim()) => errs.push(FieldError::new(
                        field,
                        "invalid_attribute",
                        "an attribute name: letters, digits, '-', ';', '.', '_'",
                    )),
                    Ok(uf) => out.push((uf, a.trim().to_owned())),
                }
            }
            let m = ImportMapping(out);
            if let Err(f) = twp_import::Mapper::new(&m) {
                errs.push(FieldError::new(
                    format!("mapping.{f}"),
                    "required",
                    "the mapping must give externalKey, userName and deviceNumber",
                ));
            }
            Some(m)
        }
    };
    let sync_type = match i.sync_type.as_deref() {
        None | Some("") => Some(SyncType::InsertUpdate),
        Some(s) => errs.check(s.parse::<SyncType>()),
    };
    let schedule = match &i.schedule {
        None => Some(ImportSchedule::Manual),
        Some(s) => match s.kind.as_str() {
            "manual" => Some(ImportSchedule::Manual),
            "daily" => errs
                .check(parse_time_of_day(
                    "schedule.at",
                    s.at.as_deref().unwrap_or_default(),
                ))
                .map(|m| ImportSchedule::Daily { minute_of_day: m }),
            "interval" => match s.every_minutes {
                Some(m) if (5..=ImportSchedule::MAX_INTERVAL).contains(&m) => {
                    Some(ImportSchedule::Every { minutes: m })
                }
                _ => {
                    errs.push(FieldError::new(
                        "schedule.everyMinutes",
                        "out_of_range",
                        "must be 5 to 10080 minutes",
                    ));
                    None
                }
            },
            _ => {
                errs.push(FieldError::new(
                    "schedule.kind",
                    "invalid_enum",
                    "use one of manual daily interval",
                ));
                None
            }
        },
    };
    let share = match i.delete_share_percent {
        None => Some(20),
        Some(p) if (0..=100).contains(&p) => u8::try_from(p).ok(),
        Some(_) => {
            errs.push(FieldError::new(
                "deleteSharePercent",
                "out_of_range",
                "must be 0 to 100",
            ));
            None
        }
    };
    errs.into_result()?;
    let missing = || ApiError::internal("validated import without data");
    Ok(UserImportData {
        description: description.ok_or_else(missing)?.into_string(),
        import_type: import_type.ok_or_else(missing)?,
        domain_id: DomainId(i.domain_id),
        group_id: i.group_id.map(GroupId),
        host,
        port: port.ok_or_else(missing)?,
        security: security.ok_or_else(missing)?,
        bind_name: i.bind_name.trim().to_owned(),
        base_dn,
        filter,
        page_size: page_size.ok_or_else(missing)?,
        mapping: mapping.ok_or_else(missing)?,
        sync_type: sync_type.ok_or_else(missing)?,
        schedule: schedule.ok_or_else(missing)?,
        delete_share_percent: share.ok_or_else(missing)?,
    })
}

#[utoipa::path(get, path = "/api/v1/companies/{companyId}/user-imports", tag = "user-imports", security(("bearer" = [])),
    params(("companyId" = i64, Path)), responses((status = 200, body = Vec<UserImportDto>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    a: Admin,
    Path(company): Path<i64>,
) -> ApiResult<Json<Vec<UserImportDto>>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    let all = user_imports::list(&mut c, cid).await?;
    let mut out = Vec::with_capacity(all.len());
    for i in all {
        out.push(with_directory(&mut c, i).await?);
    }
    Ok(Json(out))
}

/// The DTO of an import with its directory's id.
async fn with_directory(
    c: &mut twp_store::AnyConnection,
    i: UserImport,
) -> ApiResult<UserImportDto> {
    let d = imported::find(&mut *c, i.company_id, i.data.domain_id, i.id).await?;
    let mut dto = UserImportDto::from(i);
    dto.directory_id = d.map(|d| d.id);
    Ok(dto)
}

/// Create an import link, and the directory of its users (guide 7.2.4).
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/user-imports", tag = "user-imports", security(("bearer" = [])),
    params(("companyId" = i64, Path)), request_body = UserImportInput,
    responses((status = 201, body = UserImportDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    a: Admin,
    Path(company): Path<i64>,
    Json(input): Json<UserImportInput>,
) -> ApiResult<(StatusCode, Json<UserImportDto>)> {
    let cid = a.company(company)?;
    let data = validated(&input)?;
    let password = input
        .password
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| st.secrets.seal(p));
    let mut tx = st.store.begin().await?;
    let import = user_imports::create(&mut tx, cid, &data, password.as_deref()).await?;
    let directory = imported::create(&mut tx, a.who(), &import).await?;
    let mut dto = UserImportDto::from(import);
    dto.directory_id = Some(directory.id);
    record(
        &mut tx,
        a.who(),
        Change::new("create", "user_import", dto.id)
            .company(cid)
            .name(&dto.description)
            .after(&dto),
    )
    .await?;
    tx.commit().await?;
    st.directories.apply(&directory).await;
    Ok((StatusCode::CREATED, Json(dto)))
}

#[utoipa::path(get, path = "/api/v1/companies/{companyId}/user-imports/{importId}", tag = "user-imports", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("importId" = i64, Path)), responses((status = 200, body = UserImportDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
) -> ApiResult<Json<UserImportDto>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    let i = user_imports::get(&mut c, cid, id).await?;
    Ok(Json(with_directory(&mut c, i).await?))
}

/// Replace an import link's settings; an absent password is kept, `""` clears it.
#[utoipa::path(put, path = "/api/v1/companies/{companyId}/user-imports/{importId}", tag = "user-imports", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("importId" = i64, Path)), request_body = UserImportInput,
    responses((status = 200, body = UserImportDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
    Json(input): Json<UserImportInput>,
) -> ApiResult<Json<UserImportDto>> {
    let cid = a.company(company)?;
    let data = validated(&input)?;
    let password = match input.password.as_deref() {
        None => SecretChange::Keep,
        Some("") => SecretChange::Clear,
        Some(p) => SecretChange::Set(st.secrets.seal(p)),
    };
    let mut tx = st.store.begin().await?;
    let current = user_imports::get(&mut tx, cid, id).await?;
    let before = with_directory(&mut tx, current).await?;
    let updated = user_imports::update(&mut tx, cid, id, &data, password).await?;
    // moved to another domain: its directory goes with it (a new one there)
    let mut moved = None;
    if before.domain_id != data.domain_id.0 {
        let old = imported::delete(&mut tx, a.who(), cid, DomainId(before.domain_id), id).await?;
        let new = imported::create(&mut tx, a.who(), &updated).await?;
        moved = Some((old, new));
    }
    let after = with_directory(&mut tx, updated).await?;
    record(
        &mut tx,
        a.who(),
        Change::new("update", "user_import", id)
            .company(cid)
            .name(&after.description)
            .before(&before)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    if let Some((old, new)) = moved {
        if let Some(old) = old {
            st.directories.remove(old.domain_id, old.id);
        }
        st.directories.apply(&new).await;
    }
    Ok(Json(after))
}

/// Delete an import link, its reports and its directory (with the
/// directory's grants). Its users stay (no longer owned by an import).
#[utoipa::path(delete, path = "/api/v1/companies/{companyId}/user-imports/{importId}", tag = "user-imports", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("importId" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let cid = a.company(company)?;
    let mut tx = st.store.begin().await?;
    let current = user_imports::get(&mut tx, cid, id).await?;
    let before = with_directory(&mut tx, current).await?;
    if st.imports.progress(id).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_running",
            "a run of this import is in progress: delete it once the run ends",
        ));
    }
    let directory = imported::delete(&mut tx, a.who(), cid, DomainId(before.domain_id), id).await?;
    user_imports::delete(&mut tx, cid, id).await?;
    record(
        &mut tx,
        a.who(),
        Change::new("delete", "user_import", id)
            .company(cid)
            .name(&before.description)
            .before(&before),
    )
    .await?;
    tx.commit().await?;
    if let Some(d) = directory {
        st.directories.remove(d.domain_id, d.id);
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    /// Go ahead even if the run deletes or disables more than the safety share.
    #[serde(default)]
    pub confirm: bool,
}

/// A run in progress, or the last one.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunProgressDto {
    pub running: bool,
    /// `reading`, `planning`, `writing`, `done`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries_read: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// The last finished run, when none is running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_run: Option<RunDto>,
}

/// A finished run and its report (7.2.3).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunDto {
    pub id: i64,
    pub import_id: i64,
    /// `manual` or `schedule`.
    pub trigger: String,
    /// `succeeded`, `failed` (nothing changed) or `confirmation_required`
    /// (nothing changed: run again with `confirm=true`).
    pub status: String,
    pub started_at: String,
    pub ended_at: String,
    pub duration_ms: i64,
    pub entries_read: i64,
    pub created: i64,
    pub updated: i64,
    pub disabled: i64,
    pub deleted: i64,
    pub ignored: i64,
    pub message: Option<String>,
    /// `created`, `updated`, `disabled`, `deleted`, `ignored`: lists of
    /// `{dn, userName, userId, field, reason}` (the first 1000 of each),
    /// `leftOut`: how many were not kept. Only in `…/runs/{runId}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub details: Option<serde_json::Value>,
}

impl From<ImportRun> for RunDto {
    fn from(r: ImportRun) -> Self {
        let details = (!r.details_json.is_empty())
            .then(|| serde_json::from_str(&r.details_json).ok())
            .flatten();
        Self {
            id: r.id,
            import_id: r.import_id,
            trigger: r.trigger,
            status: r.status.as_str().into(),
            started_at: time_text(r.started_at),
            ended_at: time_text(r.ended_at),
            duration_ms: r.ended_at - r.started_at,
            entries_read: r.entries_read,
            created: r.created,
            updated: r.updated,
            disabled: r.disabled,
            deleted: r.deleted,
            ignored: r.ignored,
            message: r.message,
            details,
        }
    }
}

fn progress_dto(p: &twp_import::Progress) -> RunProgressDto {
    RunProgressDto {
        running: true,
        phase: Some(p.phase().as_str().into()),
        entries_read: Some(p.entries_read()),
        started_at: Some(time_text(p.started_at)),
        last_run: None,
    }
}

/// "Synchro": start a run in the background; follow it with `GET …/run`.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/user-imports/{importId}/run", tag = "user-imports", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("importId" = i64, Path), RunQuery),
    responses((status = 202, body = RunProgressDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn start_run(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
    Query(q): Query<RunQuery>,
) -> ApiResult<(StatusCode, Json<RunProgressDto>)> {
    let cid = a.company(company)?;
    let (import, sealed) = {
        let mut c = st.store.read().await?;
        let import = user_imports::get(&mut c, cid, id).await?;
        (
            import,
            user_imports::sealed_password(&mut c, cid, id).await?,
        )
    };
    let password = open_password(&st, sealed)?;
    let options = RunOptions {
        confirm: q.confirm,
        trigger: "manual",
        actor: ImportActor {
            admin_id: Some(a.who().id),
            admin_name: a.who().name.clone(),
        },
        writer_hold: twp_import::WRITER_HOLD,
    };
    let progress = st.imports.start(&st, import, password, options)?;
    Ok((StatusCode::ACCEPTED, Json(progress_dto(&progress))))
}

async fn last_run(st: &AppState, cid: CompanyId, id: i64) -> ApiResult<Option<ImportRun>> {
    let mut c = st.store.read().await?;
    Ok(user_imports::runs(&mut c, cid, id, 1)
        .await?
        .into_iter()
        .next())
}

/// The run in progress (phase, entries read), or the last run.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/user-imports/{importId}/run", tag = "user-imports", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("importId" = i64, Path)),
    responses((status = 200, body = RunProgressDto), (status = 404, body = ErrorBody)))]
pub async fn run_progress(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
) -> ApiResult<Json<RunProgressDto>> {
    let cid = a.company(company)?;
    // the link is looked up first: another company's id is not found
    let last = last_run(&st, cid, id).await?;
    if let Some(p) = st.imports.progress(id) {
        return Ok(Json(progress_dto(&p)));
    }
    Ok(Json(RunProgressDto {
        running: false,
        phase: None,
        entries_read: None,
        started_at: None,
        last_run: last.map(RunDto::from),
    }))
}

/// The runs of an import link, newest first (at most 100), without details.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/user-imports/{importId}/runs", tag = "user-imports", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("importId" = i64, Path)),
    responses((status = 200, body = Vec<RunDto>), (status = 404, body = ErrorBody)))]
pub async fn runs(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id)): Path<(i64, i64)>,
) -> ApiResult<Json<Vec<RunDto>>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    let all = user_imports::runs(&mut c, cid, id, 100).await?;
    Ok(Json(all.into_iter().map(RunDto::from).collect()))
}

/// One run's report with its details (DN, user name, reason).
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/user-imports/{importId}/runs/{runId}", tag = "user-imports", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("importId" = i64, Path), ("runId" = i64, Path)),
    responses((status = 200, body = RunDto), (status = 404, body = ErrorBody)))]
pub async fn run(
    State(st): State<AppState>,
    a: Admin,
    Path((company, id, run)): Path<(i64, i64, i64)>,
) -> ApiResult<Json<RunDto>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    Ok(Json(user_imports::run(&mut c, cid, id, run).await?.into()))
}
