//! A domain's directories (guide 8.1–8.4): settings CRUD with connector
//! settings checked per server type, test connection, synchronisation
//! (start, progress, cancel, report) and the synchronised contacts.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use twp_directory::{Contact, DirectoryId};
use twp_domain::{DomainId, SecretChange};
use twp_store::directories::{self, StoredDirectory};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::audit::{Change, record};
use crate::auth::Admin;
use crate::directories::SyncInput;
use crate::directories::run::{self, ProgressDto, ReportDto};
use crate::directories::settings::{self, stored_mapping, stored_settings};
use crate::dto::time_text;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// A directory. The connector's password is never returned (`hasPassword`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryDto {
    pub id: i64,
    pub domain_id: i64,
    pub name: String,
    /// `draft` (Sample/Draft: disabled), `public` (TWP) or `private`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The lowest number wins when several directories know a caller.
    pub priority: i64,
    /// `csv`, `xlsx`, `ldap`, `ad`, `sql`, `odbc`, `twp-users`, `private`.
    pub server_type: String,
    /// The connector's settings (see `DirectoryInput.connector`), without the password.
    #[schema(value_type = Object)]
    pub connector: Value,
    pub has_password: bool,
    /// TWP field (or `redList.<phone field>`) → `source field | options`.
    /// Empty for TWP users (fixed) and Active Directory (AD's usual attributes).
    pub mapping: BTreeMap<String, String>,
    /// Names of the private fields `custom0`–`custom9` (`[VIP]` makes the VIP field).
    pub custom_names: BTreeMap<String, String>,
    pub sync: SyncInput,
    pub merge_contacts: bool,
    /// Contacts of the last completed synchronisation.
    pub contacts: i64,
    pub synced_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<StoredDirectory> for DirectoryDto {
    fn from(d: StoredDirectory) -> Self {
        let m = stored_mapping(&d);
        let every = d
            .data
            .sync_every_minutes
            .and_then(|m| u32::try_from(m).ok());
        DirectoryDto {
            id: d.id,
            domain_id: d.domain_id.0,
            connector: Value::Object(stored_settings(&d)),
            name: d.data.name,
            kind: d.data.kind,
            priority: d.data.priority,
            server_type: d.data.server_type,
            has_password: d.has_password,
            mapping: m.fields,
            custom_names: m.custom_names,
            sync: SyncInput {
                mode: d.data.sync_mode,
                every_minutes: every,
                every_hours: None,
            },
            merge_contacts: d.data.merge_contacts,
            contacts: d.contacts,
            synced_at: d.synced_at.map(time_text),
            created_at: time_text(d.created_at),
            updated_at: time_text(d.updated_at),
        }
    }
}

/// A directory as sent on create and replace: every field is written;
/// the write-only `connector.password` is kept when absent and cleared by `""`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryInput {
    pub name: String,
    /// `public` (default), `private` or `draft`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Default 100; lowest wins.
    pub priority: Option<u32>,
    /// `csv`, `xlsx`, `ldap`, `ad`, `sql`, `odbc`, `twp-users` or `private`.
    pub server_type: String,
    /// Per server type — csv: `path`, `delimiter`?, `encoding`?; xlsx:
    /// `path`, `sheet`?; ldap/ad: `host`, `port`?, `security`
    /// (none/ldaps/starttls), `bindName`, `password`, `baseDn`, `filter`?,
    /// `pageSize`?, `sizeLimit`?, `timeoutSecs`?; sql: `engine`
    /// (postgres/mysql/sqlite), `host`, `port`?, `database`, `user`,
    /// `password`, `source` (`{"table": …}` or `{"query": …}`); odbc:
    /// `connectionString` or `database` (DSN), `user`, `password`, `source`;
    /// twp-users: `importId`? (only the users that users import created,
    /// guide 7.2.4; each import makes its own); private: nothing.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub connector: Map<String, Value>,
    /// TWP field → `source field | options` (guide 8.1: a h i l m u
    /// p::prefix{0}suffix::regex); `redList.workPhone` → the red-list field.
    #[serde(default)]
    pub mapping: BTreeMap<String, String>,
    #[serde(default)]
    pub custom_names: BTreeMap<String, String>,
    /// Default manual.
    pub sync: Option<SyncInput>,
    #[serde(default)]
    pub merge_contacts: bool,
}

fn checked(i: DirectoryInput) -> ApiResult<settings::Checked> {
    settings::check(
        &i.name,
        i.kind.as_deref(),
        i.priority,
        i.server_type.trim(),
        i.connector,
        i.mapping,
        i.custom_names,
        i.sync.as_ref(),
        i.merge_contacts,
    )
}

/// The domain's directories by priority.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/directories", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path)), responses((status = 200, body = Vec<DirectoryDto>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain)): Path<(i64, i64)>,
) -> ApiResult<Json<Vec<DirectoryDto>>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    let all = directories::list(&mut c, cid, DomainId(domain)).await?;
    Ok(Json(all.into_iter().map(DirectoryDto::from).collect()))
}

/// Add a directory. It is empty until its first synchronisation.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains/{domainId}/directories", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path)), request_body = DirectoryInput,
    responses((status = 201, body = DirectoryDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain)): Path<(i64, i64)>,
    Json(input): Json<DirectoryInput>,
) -> ApiResult<(StatusCode, Json<DirectoryDto>)> {
    let cid = a.company(company)?;
    let ok = checked(input)?;
    let password = ok
        .password
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| st.secrets.seal(p));
    let mut tx = st.store.begin().await?;
    let d = directories::create(
        &mut tx,
        cid,
        DomainId(domain),
        &ok.data,
        password.as_deref(),
    )
    .await?;
    let dto = DirectoryDto::from(d.clone());
    record(
        &mut tx,
        a.who(),
        Change::new("create", "directory", dto.id)
            .company(cid)
            .name(&dto.name)
            .after(&dto),
    )
    .await?;
    tx.commit().await?;
    st.directories.apply(&d).await;
    Ok((StatusCode::CREATED, Json(dto)))
}

#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/directories/{directoryId}", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("directoryId" = i64, Path)), responses((status = 200, body = DirectoryDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain, id)): Path<(i64, i64, i64)>,
) -> ApiResult<Json<DirectoryDto>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    Ok(Json(
        directories::get(&mut c, cid, DomainId(domain), id)
            .await?
            .into(),
    ))
}

/// Replace a directory's settings; its contacts stay until the next synchronisation.
#[utoipa::path(put, path = "/api/v1/companies/{companyId}/domains/{domainId}/directories/{directoryId}", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("directoryId" = i64, Path)), request_body = DirectoryInput,
    responses((status = 200, body = DirectoryDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain, id)): Path<(i64, i64, i64)>,
    Json(input): Json<DirectoryInput>,
) -> ApiResult<Json<DirectoryDto>> {
    let cid = a.company(company)?;
    let ok = checked(input)?;
    let password = match ok.password.as_deref() {
        None => SecretChange::Keep,
        Some("") => SecretChange::Clear,
        Some(p) => SecretChange::Set(st.secrets.seal(p)),
    };
    let mut tx = st.store.begin().await?;
    let before = DirectoryDto::from(directories::get(&mut tx, cid, DomainId(domain), id).await?);
    let d = directories::update(&mut tx, cid, DomainId(domain), id, &ok.data, password).await?;
    let after = DirectoryDto::from(d.clone());
    record(
        &mut tx,
        a.who(),
        Change::new("update", "directory", id)
            .company(cid)
            .name(&after.name)
            .before(&before)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    st.directories.apply(&d).await;
    Ok(Json(after))
}

/// Delete a directory and its contacts (a running synchronisation is cancelled).
#[utoipa::path(delete, path = "/api/v1/companies/{companyId}/domains/{domainId}/directories/{directoryId}", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("directoryId" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain, id)): Path<(i64, i64, i64)>,
) -> ApiResult<StatusCode> {
    let cid = a.company(company)?;
    let mut tx = st.store.begin().await?;
    let before = DirectoryDto::from(directories::get(&mut tx, cid, DomainId(domain), id).await?);
    directories::delete(&mut tx, cid, DomainId(domain), id).await?;
    record(
        &mut tx,
        a.who(),
        Change::new("delete", "directory", id)
            .company(cid)
            .name(&before.name)
            .before(&before),
    )
    .await?;
    tx.commit().await?;
    st.directories.remove(DomainId(domain), id);
    Ok(StatusCode::NO_CONTENT)
}

/// What a connection test found.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionTestDto {
    /// The source's fields (CSV header, columns, LDAP attributes seen), if known.
    pub fields: Vec<String>,
    /// Server, encoding, delimiter, entries seen…
    pub detail: String,
}

/// Test the connection with the stored settings, importing nothing. An
/// unreachable server, a wrong password or a bad filter is a 422
/// `connection_failed` naming the setting to fix.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains/{domainId}/directories/{directoryId}/test", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("directoryId" = i64, Path)),
    responses((status = 200, body = ConnectionTestDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 501, body = ErrorBody)))]
pub async fn test(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain, id)): Path<(i64, i64, i64)>,
) -> ApiResult<Json<ConnectionTestDto>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    let d = directories::get(&mut c, cid, DomainId(domain), id).await?;
    let password = directories::sealed_password(&mut c, cid, id)
        .await?
        .map(|s| st.secrets.open(&s))
        .transpose()
        .map_err(ApiError::internal)?;
    let users = if d.data.server_type == "twp-users" {
        directories::private::domain_users(&mut c, cid, DomainId(domain), settings::import_of(&d))
            .await?
    } else {
        Vec::new()
    };
    drop(c);
    let mut connector = settings::connector(&d, password, users)?;
    let tested = tokio::task::spawn_blocking(move || connector.test_connection())
        .await
        .map_err(ApiError::internal)?;
    match tested {
        Ok(t) => Ok(Json(ConnectionTestDto {
            fields: t.fields,
            detail: t.detail,
        })),
        Err(e) => Err(ApiError::bad_request(
            "connector",
            "connection_failed",
            e.to_string(),
        )),
    }
}

/// Start a synchronisation in the background; follow it with GET …/sync.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains/{domainId}/directories/{directoryId}/sync", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("directoryId" = i64, Path)),
    responses((status = 202, body = ProgressDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 501, body = ErrorBody)))]
pub async fn start_sync(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain, id)): Path<(i64, i64, i64)>,
) -> ApiResult<(StatusCode, Json<ProgressDto>)> {
    let cid = a.company(company)?;
    run::start(&st, cid, DomainId(domain), id, "manual").await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(run::progress(&st, DomainId(domain), id)),
    ))
}

/// The running synchronisation: phase, rows read and written, rate, ETA.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/directories/{directoryId}/sync", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("directoryId" = i64, Path)),
    responses((status = 200, body = ProgressDto), (status = 404, body = ErrorBody)))]
pub async fn sync_progress(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain, id)): Path<(i64, i64, i64)>,
) -> ApiResult<Json<ProgressDto>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    directories::get(&mut c, cid, DomainId(domain), id).await?;
    Ok(Json(run::progress(&st, DomainId(domain), id)))
}

/// Cancel the running synchronisation; the previous contacts are kept.
#[utoipa::path(delete, path = "/api/v1/companies/{companyId}/domains/{domainId}/directories/{directoryId}/sync", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("directoryId" = i64, Path)),
    responses((status = 202), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_sync(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain, id)): Path<(i64, i64, i64)>,
) -> ApiResult<StatusCode> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    directories::get(&mut c, cid, DomainId(domain), id).await?;
    let cancelled = st
        .directories
        .get(DomainId(domain))
        .is_some_and(|e| e.cancel_sync(DirectoryId(id)));
    if !cancelled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_running",
            "no synchronisation of this directory is reading or indexing",
        ));
    }
    Ok(StatusCode::ACCEPTED)
}

/// The report of the last synchronisation: counts and the ignored records
/// with their line, DN or row.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/directories/{directoryId}/report", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("directoryId" = i64, Path)),
    responses((status = 200, body = ReportDto), (status = 404, body = ErrorBody)))]
pub async fn report(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain, id)): Path<(i64, i64, i64)>,
) -> ApiResult<Json<ReportDto>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    let r = directories::report(&mut c, cid, DomainId(domain), id)
        .await?
        .ok_or_else(|| ApiError::not_found("report (the directory was never synchronised)"))?;
    Ok(Json(
        serde_json::from_str(&r.report).map_err(ApiError::internal)?,
    ))
}

/// A synchronised contact, as the administrator sees it (red-listed
/// numbers included, flagged).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactDto {
    /// The contact's id in its source.
    pub id: String,
    /// TWP field → value.
    pub fields: BTreeMap<String, String>,
    /// Phone fields on the red list (hidden from users).
    pub red_list: Vec<String>,
}

impl From<&Contact> for ContactDto {
    fn from(c: &Contact) -> Self {
        ContactDto {
            id: c.id().to_owned(),
            fields: c
                .fields()
                .map(|(f, v)| (f.name().to_owned(), v.to_owned()))
                .collect(),
            red_list: twp_directory::ContactField::PHONES
                .iter()
                .filter(|f| c.is_red_listed(**f))
                .map(|f| f.name().to_owned())
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactsQuery {
    /// Page size, 1–500 (default 50).
    pub limit: Option<usize>,
    /// The `next` of the previous page.
    pub after: Option<usize>,
}

/// A page of contacts.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactPage {
    pub items: Vec<ContactDto>,
    pub total: usize,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<usize>,
}

/// The directory's contacts as last synchronised, by last and first name.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/directories/{directoryId}/contacts", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("directoryId" = i64, Path), ContactsQuery),
    responses((status = 200, body = ContactPage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn contacts(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain, id)): Path<(i64, i64, i64)>,
    Query(q): Query<ContactsQuery>,
) -> ApiResult<Json<ContactPage>> {
    let cid = a.company(company)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(
            "limit",
            "invalid_limit",
            "limit: 1 to 500",
        ));
    }
    let mut c = st.store.read().await?;
    directories::get(&mut c, cid, DomainId(domain), id).await?;
    drop(c);
    let engine = st.directories.engine(&st, cid, DomainId(domain)).await?;
    let Some(g) = engine.generation(DirectoryId(id)) else {
        return Ok(Json(ContactPage {
            items: Vec::new(),
            total: 0,
            next: None,
        }));
    };
    let all = g.contacts();
    let from = q.after.unwrap_or(0).min(all.len());
    let to = (from + limit).min(all.len());
    Ok(Json(ContactPage {
        items: all[from..to].iter().map(ContactDto::from).collect(),
        total: all.len(),
        next: (to < all.len()).then_some(to),
    }))
}
