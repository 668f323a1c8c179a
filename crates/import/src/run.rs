//! One run of an import link: read the whole source (on a blocking thread),
//! then in ONE store transaction read the domain's users, plan, check the
//! deletion safety share, apply the changes with their audit entries and
//! record the run. Any failure before the commit changes nothing; the run
//! is then recorded as failed (or waiting for confirmation) on its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use twp_directory::{Connector, ConnectorError, Location, ReadOutcome, SourceRecord};
use twp_domain::UserImport;
use twp_store::user_imports::{self, ImportRun, RunStatus};
use twp_store::user_sync::{self, ImportActor};
use twp_store::{Store, StoreError, now_ms};

use crate::mapping::{Mapper, Rejected};
use crate::plan::{Entry, Plan, plan};
use crate::report::Report;

/// What a run is doing, for the progress view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Reading,
    Planning,
    Writing,
    Done,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reading => "reading",
            Self::Planning => "planning",
            Self::Writing => "writing",
            Self::Done => "done",
        }
    }
}

/// Progress of a running import, shared with whoever watches it.
#[derive(Debug)]
pub struct Progress {
    pub started_at: i64,
    entries_read: AtomicU64,
    phase: AtomicU8,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            started_at: now_ms(),
            entries_read: AtomicU64::new(0),
            phase: AtomicU8::new(0),
        }
    }
}

impl Progress {
    pub fn entries_read(&self) -> u64 {
        self.entries_read.load(Ordering::Relaxed)
    }

    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Relaxed) {
            0 => Phase::Reading,
            1 => Phase::Planning,
            2 => Phase::Writing,
            _ => Phase::Done,
        }
    }

    fn set(&self, p: Phase) {
        self.phase.store(p as u8, Ordering::Relaxed);
    }
}

/// How a run was started and by whom.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Go ahead even if the run removes more than the safety share.
    pub confirm: bool,
    /// `manual` or `schedule`.
    pub trigger: &'static str,
    /// Named by the audit entries.
    pub actor: ImportActor,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Source(#[from] ConnectorError),
    #[error("the import engine stopped: {0}")]
    Thread(String),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Reads every entry of the source (blocking: call it off the async workers).
pub fn read_source(
    connector: &mut dyn Connector,
    mapper: &Mapper,
    progress: &Progress,
) -> Result<Vec<Entry>, ConnectorError> {
    let mut stream = connector.open(mapper.fields())?;
    let mut record = SourceRecord::new(mapper.fields().len());
    let mut entries = Vec::new();
    let where_ = |l: Option<&Location>| match l {
        Some(Location::Dn(dn)) => dn.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    loop {
        let entry = match stream.next_record(&mut record)? {
            ReadOutcome::End => break,
            ReadOutcome::Record => Entry {
                dn: where_(record.location()),
                user: mapper.map(&record),
            },
            ReadOutcome::Skipped { location, reason } => Entry {
                dn: where_(Some(&location)),
                user: Err(Rejected {
                    field: "",
                    reason: format!("unreadable entry: {reason}"),
                    key: None,
                    user_name: None,
                }),
            },
        };
        entries.push(entry);
        progress.entries_read.fetch_add(1, Ordering::Relaxed);
    }
    Ok(entries)
}

/// Runs `import` from `connector` and records the run; returns it. `Err`
/// only when even the failed run cannot be recorded.
pub async fn run(
    store: &Store,
    import: &UserImport,
    connector: Box<dyn Connector>,
    options: &RunOptions,
    progress: Arc<Progress>,
) -> Result<ImportRun, StoreError> {
    let started = progress.started_at;
    let mut run = ImportRun {
        id: 0,
        import_id: import.id,
        company_id: import.company_id,
        trigger: options.trigger.to_owned(),
        status: RunStatus::Failed,
        started_at: started,
        ended_at: started,
        entries_read: 0,
        created: 0,
        updated: 0,
        disabled: 0,
        deleted: 0,
        ignored: 0,
        message: None,
        details_json: "{}".into(),
    };
    let outcome = attempt(store, import, connector, options, &progress, &mut run).await;
    progress.set(Phase::Done);
    run.ended_at = now_ms();
    match outcome {
        Ok(Some(id)) => {
            run.id = id;
            Ok(run)
        }
        Ok(None) => {
            let mut tx = store.begin().await?;
            run.id = user_imports::record_run(&mut tx, &run).await?;
            tx.commit().await?;
            Ok(run)
        }
        Err(e) => {
            tracing::warn!(import = import.id, error = %e, "users import failed; nothing changed");
            run.status = RunStatus::Failed;
            run.message = Some(e.to_string());
            let mut tx = store.begin().await?;
            run.id = user_imports::record_run(&mut tx, &run).await?;
            tx.commit().await?;
            Ok(run)
        }
    }
}

fn fill(run: &mut ImportRun, r: &Report) {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    run.entries_read = n(r.entries_read);
    run.created = n(r.created);
    run.updated = n(r.updated);
    run.disabled = n(r.disabled);
    run.deleted = n(r.deleted);
    run.ignored = n(r.ignored);
    run.details_json = r.details_json();
}

/// `Ok(Some(id))`: applied and recorded in the same transaction;
/// `Ok(None)`: stopped for confirmation, nothing written yet.
async fn attempt(
    store: &Store,
    import: &UserImport,
    mut connector: Box<dyn Connector>,
    options: &RunOptions,
    progress: &Arc<Progress>,
    run: &mut ImportRun,
) -> Result<Option<i64>, RunError> {
    let mapper = Mapper::new(&import.data.mapping).map_err(|f| {
        ConnectorError::Format(format!("the mapping gives no source attribute for {f}"))
    })?;
    let watch = Arc::clone(progress);
    let entries =
        tokio::task::spawn_blocking(move || read_source(connector.as_mut(), &mapper, &watch))
            .await
            .map_err(|e| RunError::Thread(e.to_string()))??;
    progress.set(Phase::Planning);
    let mut tx = store.begin().await?;
    let existing =
        user_sync::domain_users(&mut tx, import.company_id, import.data.domain_id).await?;
    let mut p: Plan = plan(import.data.sync_type, import.id, &existing, entries);
    fill(run, &p.report);
    if p.exceeds_share(import.data.delete_share_percent) && !options.confirm {
        run.status = RunStatus::ConfirmationRequired;
        run.message = Some(format!(
            "this run would delete {} and disable {} of the {} users of this import, more than \
             the safety share of {} %: nothing was changed; run it again with confirm=true to go ahead",
            p.changes.deletes.len(),
            p.changes.disables.len(),
            p.owned,
            import.data.delete_share_percent
        ));
        return Ok(None);
    }
    progress.set(Phase::Writing);
    p.changes.group = import.data.group_id;
    user_sync::apply(
        &mut tx,
        import.company_id,
        import.data.domain_id,
        import.id,
        &p.changes,
        &options.actor,
    )
    .await?;
    run.status = RunStatus::Succeeded;
    run.ended_at = now_ms();
    let id = user_imports::record_run(&mut tx, run).await?;
    tx.commit().await?;
    Ok(Some(id))
}
