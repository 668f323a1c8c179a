//! One synchronisation run: read the directory and its secret from the
//! store, build its connector, run the engine's `synchronise` on a blocking
//! thread, then keep the report (completed, failed or cancelled) in the
//! store. One run per directory: a second start is refused while the first
//! is starting, running or saving its report.

use std::sync::Arc;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use twp_directory::{DirectoryId, SyncError, SyncPhase, SyncReport};
use twp_domain::{CompanyId, DomainId};
use twp_store::directories::{self, StoredReport, private};
use twp_store::now_ms;
use utoipa::ToSchema;

use crate::AppState;
use crate::dto::time_text;
use crate::error::{ApiError, ApiResult};

/// A record left out of a synchronisation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct IgnoredDto {
    /// `line 12`, `DN cn=…`, `row 4`.
    pub location: String,
    pub reason: String,
}

/// The report of the last synchronisation of a directory.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ReportDto {
    /// `completed`, `failed` or `cancelled` (the previous contacts are kept
    /// unless completed).
    pub outcome: String,
    /// Why it failed.
    pub error: Option<String>,
    /// `manual`, `daily`, `every`, `start` or `cli`.
    pub trigger: String,
    pub started_at: String,
    pub finished_at: String,
    pub rows_read: u64,
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub ignored_total: u64,
    /// The first ignored records with their line, DN or row.
    pub ignored: Vec<IgnoredDto>,
    pub elapsed_ms: u64,
    pub reading_ms: u64,
    pub indexing_ms: u64,
    pub saving_ms: u64,
}

/// The progress of a directory's synchronisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProgressDto {
    pub running: bool,
    /// `starting`, `reading`, `indexing`, `saving`; absent when not running.
    pub phase: Option<String>,
    pub rows_read: u64,
    pub rows_written: u64,
    pub rows_ignored: u64,
    pub elapsed_ms: u64,
    /// Records read per second.
    pub rate: f64,
    /// Estimated records in the source, when the connector knows its size.
    pub total_rows: Option<u64>,
    /// Estimated milliseconds left reading.
    pub eta_ms: Option<u64>,
}

fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl ProgressDto {
    pub fn idle() -> Self {
        Self {
            running: false,
            phase: None,
            rows_read: 0,
            rows_written: 0,
            rows_ignored: 0,
            elapsed_ms: 0,
            rate: 0.0,
            total_rows: None,
            eta_ms: None,
        }
    }
}

/// The progress now.
pub fn progress(st: &AppState, domain: DomainId, id: i64) -> ProgressDto {
    let snap = st
        .directories
        .get(domain)
        .and_then(|e| e.sync_progress(DirectoryId(id)));
    match snap {
        Some(s) => ProgressDto {
            running: true,
            phase: Some(
                match s.phase {
                    SyncPhase::Reading => "reading",
                    SyncPhase::Indexing => "indexing",
                    SyncPhase::Saving => "saving",
                }
                .into(),
            ),
            rows_read: s.rows_read,
            rows_written: s.rows_written,
            rows_ignored: s.rows_ignored,
            elapsed_ms: ms(s.elapsed),
            rate: (s.rate * 10.0).round() / 10.0,
            total_rows: s.total_rows,
            eta_ms: s.eta.map(ms),
        },
        None if st.directories.is_running(id) => ProgressDto {
            running: true,
            phase: Some("starting".into()),
            ..ProgressDto::idle()
        },
        None => ProgressDto::idle(),
    }
}

fn report(
    result: Result<SyncReport, String>,
    trigger: &str,
    started: i64,
    cancelled: bool,
) -> ReportDto {
    let finished = now_ms();
    let (outcome, error, r) = match result {
        Ok(r) => ("completed", None, r),
        Err(e) => (
            if cancelled { "cancelled" } else { "failed" },
            Some(e),
            SyncReport::default(),
        ),
    };
    ReportDto {
        outcome: outcome.into(),
        error,
        trigger: trigger.into(),
        started_at: time_text(started),
        finished_at: time_text(finished),
        rows_read: r.rows_read,
        created: r.created,
        updated: r.updated,
        deleted: r.deleted,
        unchanged: r.unchanged,
        ignored_total: r.ignored_total,
        ignored: r
            .ignored
            .iter()
            .map(|i| IgnoredDto {
                location: i.location.to_string(),
                reason: i.reason.to_string(),
            })
            .collect(),
        elapsed_ms: if r.elapsed.is_zero() {
            u64::try_from(finished - started).unwrap_or(0)
        } else {
            ms(r.elapsed)
        },
        reading_ms: ms(r.reading),
        indexing_ms: ms(r.indexing),
        saving_ms: ms(r.saving),
    }
}

/// Starts a synchronisation in the background; the handle gives its report
/// once saved. 409 when one is already in flight, 501 for a private
/// directory, 409 for a sample/draft one.
pub async fn start(
    st: &AppState,
    company: CompanyId,
    domain: DomainId,
    id: i64,
    trigger: &'static str,
) -> ApiResult<tokio::task::JoinHandle<ReportDto>> {
    let mut conn = st.store.read().await?;
    let d = directories::get(&mut conn, company, domain, id).await?;
    if d.data.kind == "draft" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "disabled",
            "this is a sample/draft directory: it is not synchronised (set its type to public or private)",
        ));
    }
    let password = directories::sealed_password(&mut conn, company, id)
        .await?
        .map(|s| st.secrets.open(&s))
        .transpose()
        .map_err(ApiError::internal)?;
    let users = if d.data.server_type == "twp-users" {
        private::domain_users(&mut conn, company, domain, super::settings::import_of(&d)).await?
    } else {
        Vec::new()
    };
    drop(conn);
    let mut connector = super::settings::connector(&d, password, users)?;
    let dir = super::settings::engine_directory(&d)?;
    let engine = st.directories.engine(st, company, domain).await?;
    if !st.directories.reserve(id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "sync_running",
            "a synchronisation of this directory is already running",
        ));
    }
    let st = st.clone();
    let started = now_ms();
    Ok(tokio::spawn(async move {
        let e = Arc::clone(&engine);
        // Err((cancelled, why))
        let result = tokio::task::spawn_blocking(move || {
            e.upsert_directory(dir)
                .map_err(|e| (false, e.to_string()))?;
            e.synchronise(DirectoryId(id), &mut *connector)
                .map_err(|e| (matches!(e, SyncError::Cancelled { .. }), e.to_string()))
        })
        .await
        .unwrap_or_else(|e| Err((false, format!("the synchronisation stopped: {e}"))));
        let cancelled = matches!(&result, Err((true, _)));
        let result = result.map_err(|(_, m)| m);
        let dto = report(result, trigger, started, cancelled);
        match &dto.error {
            None => tracing::info!(
                directory = id,
                rows = dto.rows_read,
                created = dto.created,
                updated = dto.updated,
                deleted = dto.deleted,
                ignored = dto.ignored_total,
                ms = dto.elapsed_ms,
                trigger,
                "directory synchronised"
            ),
            Some(e) => {
                tracing::warn!(directory = id, outcome = %dto.outcome, error = %e, trigger, "directory not synchronised")
            }
        }
        if let Err(e) = save(&st, company, id, &dto, started).await {
            tracing::error!(directory = id, error = %e.body.message, "synchronisation report not saved");
        }
        st.directories.release(id);
        dto
    }))
}

async fn save(
    st: &AppState,
    company: CompanyId,
    id: i64,
    dto: &ReportDto,
    started: i64,
) -> ApiResult<()> {
    let stored = StoredReport {
        outcome: dto.outcome.clone(),
        report: serde_json::to_string(dto).map_err(ApiError::internal)?,
        started_at: started,
        finished_at: now_ms(),
    };
    let mut tx = st.store.begin().await?;
    match directories::save_report(&mut tx, company, id, &stored).await {
        // deleted while it ran: nothing to report on
        Err(twp_store::StoreError::NotFound(_)) => return Ok(()),
        other => other?,
    }
    tx.commit().await?;
    Ok(())
}
