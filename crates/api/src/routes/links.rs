//! A domain's links to its PBX (guide 3.3.3, 4.1–4.3): the CSTA link and the
//! supervision links; and the restart that applies them, as the guide asks
//! ("You must restart the CSTA service if you have made changes").

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use twp_domain::{
    DomainId, FieldErrors, LinkRole, LinkSession, PbxLink, PbxLinkData, SecretChange,
};
use twp_store::{domains, pbx_links};
use utoipa::ToSchema;

use crate::AppState;
use crate::audit::{Change, record};
use crate::auth::Admin;
use crate::dto::time_text;
use crate::error::{ApiResult, ErrorBody};

/// A link to the PBX. Its password is never returned.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkDto {
    pub id: i64,
    pub domain_id: i64,
    /// `csta` (the domain's one CSTA link) or `supervision`.
    pub role: String,
    /// `csta`, or `vti-xml` (not available: no public specification).
    pub protocol: String,
    pub host: String,
    pub port: u16,
    /// Most devices the link supervises ("Count").
    pub capacity: u32,
    /// Site.Cluster patterns served explicitly (`1.1`, `3.*`).
    pub sites: Vec<String>,
    /// `application-session` (ECMA-354), `system-register` or `none`.
    pub session: String,
    pub pbx_type: Option<String>,
    pub user_name: Option<String>,
    /// CSTA link only: the device that places callback calls.
    pub callback_device: Option<String>,
    pub has_password: bool,
    pub enabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<PbxLink> for LinkDto {
    fn from(l: PbxLink) -> Self {
        LinkDto {
            id: l.id,
            domain_id: l.domain_id.0,
            role: l.data.role.as_str().into(),
            protocol: l.data.protocol.as_str().into(),
            host: l.data.host,
            port: l.data.port,
            capacity: l.data.capacity,
            sites: l.data.sites,
            session: l.data.session.as_str().into(),
            pbx_type: l.data.pbx_type,
            user_name: l.data.user_name,
            callback_device: l.data.callback_device,
            has_password: l.has_password,
            enabled: l.data.enabled,
            created_at: time_text(l.created_at),
            updated_at: time_text(l.updated_at),
        }
    }
}

/// A link as sent on create and replace: every field is written; the
/// write-only password is kept when absent and cleared by `""`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkInput {
    /// `supervision` (default) or `csta`.
    pub role: Option<String>,
    /// `csta` (default) or `vti-xml`.
    pub protocol: Option<String>,
    pub host: String,
    pub port: u16,
    pub capacity: u32,
    #[serde(default)]
    pub sites: Vec<String>,
    /// `application-session` (default), `system-register` or `none`.
    pub session: Option<String>,
    pub pbx_type: Option<String>,
    pub user_name: Option<String>,
    /// Write-only; kept sealed, never returned.
    pub password: Option<String>,
    /// CSTA link only: a device of the PBX (e.g. a virtual extension) that
    /// places callback ("double call") calls; it is supervised too.
    pub callback_device: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// What a domain's telephony is doing.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainTelephonyDto {
    pub domain_id: i64,
    /// `running`, `failed` (see `error`) or `stopped` (no enabled link).
    pub state: String,
    pub error: Option<String>,
    pub started_at: Option<String>,
    /// Devices configured for supervision.
    pub devices: usize,
}

fn parse(errs: &mut FieldErrors, i: &LinkInput) -> Option<PbxLinkData> {
    let role = match i.role.as_deref() {
        None | Some("") => Some(LinkRole::Supervision),
        Some(r) => errs.check(r.parse()),
    };
    let protocol = match i.protocol.as_deref() {
        None | Some("") => Some(twp_domain::LinkProtocol::Csta),
        Some(p) => errs.check(p.parse()),
    };
    let session = match i.session.as_deref() {
        None | Some("") => Some(LinkSession::ApplicationSession),
        Some(s) => errs.check(s.parse()),
    };
    let trim = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let data = PbxLinkData {
        role: role?,
        protocol: protocol?,
        host: i.host.trim().to_owned(),
        port: i.port,
        capacity: i.capacity,
        sites: i.sites.iter().map(|s| s.trim().to_owned()).collect(),
        session: session?,
        pbx_type: trim(&i.pbx_type),
        user_name: trim(&i.user_name),
        callback_device: trim(&i.callback_device),
        enabled: i.enabled.unwrap_or(true),
    };
    if let Err(e) = data.validate() {
        errs.0.extend(e.0);
        return None;
    }
    Some(data)
}

fn validated(i: &LinkInput) -> ApiResult<PbxLinkData> {
    let mut errs = FieldErrors::default();
    match parse(&mut errs, i) {
        Some(d) if errs.is_empty() => Ok(d),
        _ => Err(errs.into()),
    }
}

/// The domain's links, CSTA link first.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/links", tag = "links", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path)), responses((status = 200, body = Vec<LinkDto>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain)): Path<(i64, i64)>,
) -> ApiResult<Json<Vec<LinkDto>>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    let links = pbx_links::list(&mut c, cid, DomainId(domain)).await?;
    Ok(Json(links.into_iter().map(LinkDto::from).collect()))
}

/// Add a link. A domain has one CSTA link at most; takes effect at the
/// next restart of the domain's telephony.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains/{domainId}/links", tag = "links", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path)), request_body = LinkInput,
    responses((status = 201, body = LinkDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain)): Path<(i64, i64)>,
    Json(input): Json<LinkInput>,
) -> ApiResult<(StatusCode, Json<LinkDto>)> {
    let cid = a.company(company)?;
    let data = validated(&input)?;
    let password = input
        .password
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| st.secrets.seal(p));
    let mut tx = st.store.begin().await?;
    let link =
        pbx_links::create(&mut tx, cid, DomainId(domain), &data, password.as_deref()).await?;
    let dto = LinkDto::from(link);
    record(
        &mut tx,
        a.who(),
        Change::new("create", "link", dto.id)
            .company(cid)
            .name(&format!("{}:{}", dto.host, dto.port))
            .after(&dto),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(dto)))
}

#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/links/{linkId}", tag = "links", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("linkId" = i64, Path)), responses((status = 200, body = LinkDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain, id)): Path<(i64, i64, i64)>,
) -> ApiResult<Json<LinkDto>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    Ok(Json(
        pbx_links::get(&mut c, cid, DomainId(domain), id)
            .await?
            .into(),
    ))
}

/// Replace a link's settings.
#[utoipa::path(put, path = "/api/v1/companies/{companyId}/domains/{domainId}/links/{linkId}", tag = "links", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("linkId" = i64, Path)), request_body = LinkInput,
    responses((status = 200, body = LinkDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain, id)): Path<(i64, i64, i64)>,
    Json(input): Json<LinkInput>,
) -> ApiResult<Json<LinkDto>> {
    let cid = a.company(company)?;
    let data = validated(&input)?;
    let password = match input.password.as_deref() {
        None => SecretChange::Keep,
        Some("") => SecretChange::Clear,
        Some(p) => SecretChange::Set(st.secrets.seal(p)),
    };
    let mut tx = st.store.begin().await?;
    let before = LinkDto::from(pbx_links::get(&mut tx, cid, DomainId(domain), id).await?);
    let after = LinkDto::from(
        pbx_links::update(&mut tx, cid, DomainId(domain), id, &data, password).await?,
    );
    record(
        &mut tx,
        a.who(),
        Change::new("update", "link", id)
            .company(cid)
            .name(&format!("{}:{}", after.host, after.port))
            .before(&before)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(after))
}

#[utoipa::path(delete, path = "/api/v1/companies/{companyId}/domains/{domainId}/links/{linkId}", tag = "links", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("linkId" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain, id)): Path<(i64, i64, i64)>,
) -> ApiResult<StatusCode> {
    let cid = a.company(company)?;
    let mut tx = st.store.begin().await?;
    let before = LinkDto::from(pbx_links::get(&mut tx, cid, DomainId(domain), id).await?);
    pbx_links::delete(&mut tx, cid, DomainId(domain), id).await?;
    record(
        &mut tx,
        a.who(),
        Change::new("delete", "link", id)
            .company(cid)
            .name(&format!("{}:{}", before.host, before.port))
            .before(&before),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

fn status(st: &AppState, domain: DomainId) -> DomainTelephonyDto {
    if let Some(d) = st.telephony.domain(domain) {
        let started = d
            .started_at
            .duration_since(std::time::UNIX_EPOCH)
            .map(|t| i64::try_from(t.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        return DomainTelephonyDto {
            domain_id: domain.0,
            state: "running".into(),
            error: None,
            started_at: Some(time_text(started)),
            devices: d.engine.placements().len(),
        };
    }
    let failure = st
        .telephony
        .failures()
        .into_iter()
        .find(|f| f.domain == domain);
    DomainTelephonyDto {
        domain_id: domain.0,
        state: if failure.is_some() {
            "failed"
        } else {
            "stopped"
        }
        .into(),
        error: failure.map(|f| f.message),
        started_at: None,
        devices: 0,
    }
}

/// Whether the domain's telephony runs, and why not.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/telephony", tag = "links", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path)), responses((status = 200, body = DomainTelephonyDto), (status = 404, body = ErrorBody)))]
pub async fn telephony_status(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain)): Path<(i64, i64)>,
) -> ApiResult<Json<DomainTelephonyDto>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    domains::get(&mut c, cid, DomainId(domain)).await?;
    Ok(Json(status(&st, DomainId(domain))))
}

/// Restart the domain's telephony with its current links and devices
/// (the guide's "restart the CSTA service"). Calls in progress are not
/// affected on the PBX; event subscribers of the domain are disconnected
/// and reconnect.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains/{domainId}/telephony/restart", tag = "links", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path)), responses((status = 200, body = DomainTelephonyDto), (status = 404, body = ErrorBody)))]
pub async fn restart(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain)): Path<(i64, i64)>,
) -> ApiResult<Json<DomainTelephonyDto>> {
    let cid = a.company(company)?;
    let did = DomainId(domain);
    let mut tx = st.store.begin().await?;
    let name = domains::get(&mut tx, cid, did).await?.name;
    record(
        &mut tx,
        a.who(),
        Change::new("restart", "telephony", domain)
            .company(cid)
            .name(&name),
    )
    .await?;
    tx.commit().await?;
    st.telephony.restart_domain(&st.store, cid, did).await?;
    Ok(Json(status(&st, did)))
}
