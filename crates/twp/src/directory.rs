//! `twp directory sync`: synchronises one directory from the command line,
//! with progress on the terminal and the report at the end.
//!
//! It works on the database directly, like `twp admin`, with the same
//! configuration and key file as the server: no credentials or running
//! server are needed (a nightly job, a first import before going live).
//! The run and its report land in the store; a server that is running
//! keeps its in-memory contacts until its next start or its own next
//! synchronisation of that directory (use the API's `POST …/sync` to
//! refresh a running server).

use std::io::Write;
use std::time::Duration;

use twp_api::AppState;
use twp_api::directories::run;
use twp_domain::{CompanyId, DomainId};
use twp_store::directories::{self, StoredDirectory};
use twp_store::{Store, companies, domains};

use crate::runtime::BoxError;

/// `key` names `(id, name)`: by id or by name, case-insensitive.
fn names(key: &str, id: i64, name: &str) -> bool {
    key.parse::<i64>()
        .map_or_else(|_| name.eq_ignore_ascii_case(key.trim()), |k| k == id)
}

/// Finds the directory by company, domain and directory (ids or names).
async fn find(
    store: &Store,
    company: &str,
    domain: &str,
    directory: &str,
) -> Result<StoredDirectory, BoxError> {
    let mut c = store.read().await?;
    let mut found = Vec::new();
    for d in directories::list_all(&mut c).await? {
        let co = companies::get(&mut c, d.company_id).await?;
        let dom = domains::get(&mut c, d.company_id, d.domain_id).await?;
        if names(company, co.id.0, &co.name)
            && names(domain, dom.id.0, &dom.name)
            && names(directory, d.id, &d.data.name)
        {
            found.push(d);
        }
    }
    match found.len() {
        0 => Err(
            format!("no directory {directory:?} in domain {domain:?} of company {company:?}")
                .into(),
        ),
        1 => Ok(found.remove(0)),
        n => Err(format!("{n} directories match: give ids instead of names").into()),
    }
}

/// Runs the synchronisation and prints progress, then the report; fails
/// when the run did not complete.
pub async fn sync(
    state: AppState,
    company: &str,
    domain: &str,
    directory: &str,
) -> Result<(), BoxError> {
    let d = find(&state.store, company, domain, directory).await?;
    let (cid, did): (CompanyId, DomainId) = (d.company_id, d.domain_id);
    println!(
        "Synchronising directory {} ({}, id {})…",
        d.data.name, d.data.server_type, d.id
    );
    let handle = run::start(&state, cid, did, d.id, "cli")
        .await
        .map_err(|e| e.body.message)?;
    let mut out = std::io::stdout();
    while !handle.is_finished() {
        let p = run::progress(&state, did, d.id);
        if let Some(phase) = &p.phase {
            let eta = p.eta_ms.map_or(String::new(), |e| {
                format!(", about {} s left", e / 1000 + 1)
            });
            let _ = write!(
                out,
                "\r  {phase:<9} {} read, {} written, {:.0} rows/s{eta}        ",
                p.rows_read, p.rows_written, p.rate
            );
            let _ = out.flush();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    println!();
    let r = handle.await?;
    println!(
        "{}: {} read, {} created, {} updated, {} deleted, {} unchanged, {} ignored, in {} ms \
         (reading {} ms, indexing {} ms, saving {} ms)",
        r.outcome,
        r.rows_read,
        r.created,
        r.updated,
        r.deleted,
        r.unchanged,
        r.ignored_total,
        r.elapsed_ms,
        r.reading_ms,
        r.indexing_ms,
        r.saving_ms
    );
    for i in &r.ignored {
        println!("  ignored {}: {}", i.location, i.reason);
    }
    if r.ignored_total > r.ignored.len() as u64 {
        println!("  … and {} more", r.ignored_total - r.ignored.len() as u64);
    }
    match r.error {
        None => Ok(()),
        Some(e) => Err(format!("{}: {e}", r.outcome).into()),
    }
}
