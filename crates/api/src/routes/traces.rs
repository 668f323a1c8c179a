//! PDU traces of a domain's links (guide 10.6): for one device or `*`,
//! started and stopped through the API, written to rotating files in the
//! server's trace folder (`<data>/traces/<domainId>/`), and downloaded from
//! here. `twp csta decode FILE` pretty-prints a file. The folder is the
//! server's: a client never chooses a path.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use twp_domain::DomainId;
use twp_telephony::{TraceError, TraceSpec, TraceStatus, TraceTarget};
use utoipa::ToSchema;

use crate::AppState;
use crate::audit::{Change, record};
use crate::auth::Admin;
use crate::dto::time_text;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::hub::DomainTelephony;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TraceInput {
    /// A supervised device number, or `*` for every PDU of the domain's
    /// links (session and heartbeat traffic included).
    pub device: String,
    /// Size of one file before the next is opened; default 10 MiB.
    pub max_file_bytes: Option<u64>,
    /// Files kept, the oldest deleted; default 10.
    pub max_files: Option<usize>,
    /// Stop by itself after this many seconds; default: until stopped.
    pub duration_seconds: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraceDto {
    pub running: bool,
    /// The device traced, or `*`.
    pub device: String,
    pub started_at: String,
    pub stopped_at: Option<String>,
    pub stop_reason: Option<String>,
    /// A write error that stopped the trace (the links are not affected).
    pub error: Option<String>,
    /// File names, oldest first; download them from `…/traces/files/{name}`.
    pub files: Vec<String>,
    pub records_written: u64,
    /// Records dropped because the writer could not keep up.
    pub records_dropped: u64,
    pub bytes_written: u64,
    pub max_file_bytes: u64,
    pub max_files: usize,
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn dto(s: TraceStatus) -> TraceDto {
    TraceDto {
        running: s.running,
        device: s.spec.target.to_string(),
        started_at: time_text(millis(s.started)),
        stopped_at: s.stopped.map(|t| time_text(millis(t))),
        stop_reason: s.stop_reason,
        error: s.error,
        files: s
            .files
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect(),
        records_written: s.records_written,
        records_dropped: s.records_dropped,
        bytes_written: s.bytes_written,
        max_file_bytes: s.spec.max_file_bytes,
        max_files: s.spec.max_files,
    }
}

fn engine(
    st: &AppState,
    a: &Admin,
    company: i64,
    domain: i64,
) -> ApiResult<std::sync::Arc<DomainTelephony>> {
    let cid = a.company(company)?;
    st.telephony
        .domain(DomainId(domain))
        .filter(|d| d.company == cid)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "telephony_not_running",
                "this domain's telephony is not running: check its links and restart it",
            )
        })
}

fn folder(st: &AppState, domain: i64) -> ApiResult<PathBuf> {
    st.settings
        .trace_dir
        .as_ref()
        .map(|d| d.join(domain.to_string()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "traces_not_configured",
                "this server has no trace folder",
            )
        })
}

fn trace_error(e: TraceError) -> ApiError {
    match &e {
        TraceError::InvalidSpec { field, .. } => {
            let f = match *field {
                "max_file_bytes" => "maxFileBytes",
                "max_files" => "maxFiles",
                "duration" => "durationSeconds",
                other => other,
            };
            ApiError::bad_request(f, "invalid_trace", e.to_string())
        }
        TraceError::UnknownDevice { .. } => {
            ApiError::bad_request("device", "device_not_supervised", e.to_string())
        }
        TraceError::Io { .. } => ApiError::internal(e),
    }
}

/// Start a PDU trace (replaces a running one).
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains/{domainId}/telephony/traces", tag = "telephony", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path)), request_body = TraceInput,
    responses((status = 200, body = TraceDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn start(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain)): Path<(i64, i64)>,
    Json(i): Json<TraceInput>,
) -> ApiResult<Json<TraceDto>> {
    let e = engine(&st, &a, company, domain)?;
    let dir = folder(&st, domain)?;
    std::fs::create_dir_all(&dir)
        .map_err(|err| ApiError::internal(format!("cannot create {}: {err}", dir.display())))?;
    let target: TraceTarget = i.device.parse().map_err(trace_error)?;
    let mut spec = TraceSpec::new(target, dir);
    if let Some(b) = i.max_file_bytes {
        spec.max_file_bytes = b.min(1 << 30);
    }
    if let Some(n) = i.max_files {
        spec.max_files = n.min(1000);
    }
    spec.duration = i.duration_seconds.map(Duration::from_secs);
    let status = e.engine.start_trace(spec).await.map_err(trace_error)?;
    let mut tx = st.store.begin().await?;
    record(
        &mut tx,
        a.who(),
        Change::new("start", "trace", domain)
            .company(e.company)
            .name(&i.device),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(dto(status)))
}

/// The running trace, or the last one.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/telephony/traces", tag = "telephony", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path)),
    responses((status = 200, body = TraceDto), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn status(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain)): Path<(i64, i64)>,
) -> ApiResult<Json<TraceDto>> {
    let e = engine(&st, &a, company, domain)?;
    e.engine
        .trace_status()
        .map(|s| Json(dto(s)))
        .ok_or_else(|| ApiError::not_found("trace"))
}

/// Stop the trace; returns its final state once the files are complete.
#[utoipa::path(delete, path = "/api/v1/companies/{companyId}/domains/{domainId}/telephony/traces", tag = "telephony", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path)),
    responses((status = 200, body = TraceDto), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn stop(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain)): Path<(i64, i64)>,
) -> ApiResult<Json<TraceDto>> {
    let e = engine(&st, &a, company, domain)?;
    let s = e
        .engine
        .stop_trace()
        .await
        .ok_or_else(|| ApiError::not_found("trace"))?;
    let mut tx = st.store.begin().await?;
    record(
        &mut tx,
        a.who(),
        Change::new("stop", "trace", domain).company(e.company),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(dto(s)))
}

/// Download one trace file (text, one PDU per line).
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/telephony/traces/files/{name}", tag = "telephony", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("name" = String, Path)),
    responses((status = 200, description = "the trace file", content_type = "text/plain"), (status = 404, body = ErrorBody)))]
pub async fn file(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain, name)): Path<(i64, i64, String)>,
) -> ApiResult<Response> {
    let e = engine(&st, &a, company, domain)?;
    // only a file the current or last trace wrote: never a path
    let known = e
        .engine
        .trace_status()
        .map(|s| {
            s.files
                .iter()
                .any(|p| p.file_name().is_some_and(|n| n.to_string_lossy() == name))
        })
        .unwrap_or(false);
    if !known || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(ApiError::not_found("trace file"));
    }
    let path = folder(&st, domain)?.join(&name);
    let body = tokio::fs::read(&path)
        .await
        .map_err(|_| ApiError::not_found("trace file"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}
