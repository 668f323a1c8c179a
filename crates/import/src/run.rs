//! One run of an import link: read the whole source on a blocking thread
//! while another plans each entry as it comes, then write the plan in ONE
//! store transaction, with its audit entries and the run's record. Any
//! failure before the commit changes nothing; the run is then recorded as
//! failed (or waiting for confirmation) on its own.
//!
//! Two ways, by backend:
//! - SQLite (one writer): the run takes the writer as reading begins,
//!   reads the domain's users in it and writes the creates and updates as
//!   they are planned, overlapping the read. It holds the writer while
//!   reading for [`RunOptions::writer_hold`] at most: a slower source makes
//!   it roll back, release the writer and go on the other way, with the
//!   plan made so far; a link whose last run took longer than the hold
//!   goes the other way from the start.
//! - PostgreSQL, or after a release: the plan is made against a snapshot
//!   of the domain's users taken as reading began, without the writer;
//!   then the transaction checks that those users are unchanged (else reads
//!   again and plans inside it), and writes the whole plan.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use twp_directory::{Connector, ConnectorError, Location, ReadOutcome, SourceRecord};
use twp_domain::UserImport;
use twp_store::user_imports::{self, ImportRun, RunStatus};
use twp_store::user_sync::{self, DomainUser, ImportActor, ImportWrite};
use twp_store::{Backend, Store, StoreError, now_ms};

use crate::mapping::{Mapper, Rejected};
use crate::plan::{Entry, Plan, Planner, Ready, plan};
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

/// How long a run may hold SQLite's writer while the source is still being
/// read: every other write waits meanwhile. A local directory of 50,000
/// users is read in half a second (the benchmark), about the time the
/// writes take anyway.
pub const WRITER_HOLD: Duration = Duration::from_secs(1);

/// How a run was started and by whom.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Go ahead even if the run removes more than the safety share.
    pub confirm: bool,
    /// `manual` or `schedule`.
    pub trigger: &'static str,
    /// Named by the audit entries.
    pub actor: ImportActor,
    /// SQLite: how long the run may write while it reads ([`WRITER_HOLD`]);
    /// zero: it reads first.
    pub writer_hold: Duration,
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
    let mut entries = Vec::new();
    read_each(connector, mapper, progress, |e| {
        entries.push(e);
        true
    })?;
    Ok(entries)
}

/// Reads the source, handing each entry to `each` until it returns false.
fn read_each(
    connector: &mut dyn Connector,
    mapper: &Mapper,
    progress: &Progress,
    mut each: impl FnMut(Entry) -> bool,
) -> Result<(), ConnectorError> {
    let mut stream = connector.open(mapper.fields())?;
    let mut record = SourceRecord::new(mapper.fields().len());
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
        progress.entries_read.fetch_add(1, Ordering::Relaxed);
        if !each(entry) {
            break;
        }
    }
    Ok(())
}

/// Entries handed from the reading thread to the planning thread at once.
const BATCH: usize = 256;

/// Creates written at once while the source is read (whole statements of
/// the store's multi-row inserts), or updates (one statement each).
const FLUSH: usize = 1000;

/// A plan made while the source was read, against `snapshot`: the domain's
/// users read when reading began.
struct Planned {
    plan: Plan,
    snapshot: Vec<DomainUser>,
}

type ReaderThread = tokio::task::JoinHandle<(Result<(), ConnectorError>, Box<dyn Connector>)>;

/// Reads the source on a blocking thread, in batches; gives the connector
/// back for a second read. Dropping the receiver stops it at its next batch.
fn spawn_reader(
    mut connector: Box<dyn Connector>,
    mapper: Mapper,
    progress: &Arc<Progress>,
) -> (ReaderThread, std::sync::mpsc::Receiver<Vec<Entry>>) {
    let (hand, take) = std::sync::mpsc::channel::<Vec<Entry>>();
    let watch = Arc::clone(progress);
    let reader = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(BATCH);
        let read = read_each(connector.as_mut(), &mapper, &watch, |e| {
            batch.push(e);
            batch.len() < BATCH
                || hand
                    .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                    .is_ok()
        });
        if !batch.is_empty() {
            // the planner gone, the error is its own
            let _ = hand.send(batch);
        }
        (read, connector)
    });
    (reader, take)
}

/// Plans the batches on a blocking thread against `snapshot`. With `out`,
/// hands out the creates and updates as they are planned (see
/// [`Planner::take_ready`]), and stops if `out` is closed (`None`).
fn spawn_planner(
    import: &UserImport,
    snapshot: Vec<DomainUser>,
    take: std::sync::mpsc::Receiver<Vec<Entry>>,
    out: Option<tokio::sync::mpsc::UnboundedSender<Ready>>,
) -> tokio::task::JoinHandle<Option<Planned>> {
    let (sync, import_id) = (import.data.sync_type, import.id);
    tokio::task::spawn_blocking(move || {
        let plan = {
            let mut planner = Planner::new(sync, import_id, &snapshot);
            for batch in take {
                for e in batch {
                    planner.add(e);
                }
                if let Some(out) = &out {
                    let ready = planner.take_ready();
                    if !ready.is_empty() && out.send(ready).is_err() {
                        return None;
                    }
                }
            }
            planner.finish()
        };
        Some(Planned { plan, snapshot })
    })
}

fn thread_error(e: tokio::task::JoinError) -> RunError {
    RunError::Thread(e.to_string())
}

/// Reads and plans without the writer, against a snapshot of the domain's
/// users read meanwhile; gives the connector back for a second read.
async fn read_and_plan(
    store: &Store,
    import: &UserImport,
    connector: Box<dyn Connector>,
    mapper: Mapper,
    progress: &Arc<Progress>,
) -> Result<(Planned, Box<dyn Connector>), RunError> {
    let (reader, take) = spawn_reader(connector, mapper, progress);
    // Two queries outside a transaction: a write between them gives a
    // snapshot the transaction's check refuses, never a wrong plan.
    let snapshot = async {
        let mut c = store.read().await?;
        user_sync::domain_users(&mut c, import.company_id, import.data.domain_id).await
    }
    .await;
    let snapshot = match snapshot {
        Ok(s) => s,
        Err(e) => {
            drop(take); // stops the reader at its next batch
            let _ = reader.await;
            return Err(e.into());
        }
    };
    let planner = spawn_planner(import, snapshot, take, None);
    let (read, connector) = reader.await.map_err(thread_error)?;
    let planned = planner
        .await
        .map_err(thread_error)?
        .ok_or_else(|| RunError::Thread("the planner stopped".into()))?;
    read?;
    Ok((planned, connector))
}

/// How a run that wrote while reading ended.
enum Streamed {
    /// Committed (`Some(id)` of its record) or stopped for confirmation.
    Ended(Option<i64>),
    /// The source was slower than the writer hold: rolled back, the writer
    /// released, the source read to its end and planned.
    Released(Box<Planned>, Box<dyn Connector>),
}

/// SQLite: reads and plans with the writer held, writing the creates and
/// updates as they come, within `options.writer_hold`.
async fn read_plan_and_write(
    store: &Store,
    import: &UserImport,
    connector: Box<dyn Connector>,
    mapper: Mapper,
    options: &RunOptions,
    progress: &Arc<Progress>,
    run: &mut ImportRun,
) -> Result<Streamed, RunError> {
    let (company, domain) = (import.company_id, import.data.domain_id);
    // Reading starts at once; the writer may take a moment to come.
    let (reader, take) = spawn_reader(connector, mapper, progress);
    let mut tx = store.begin().await?;
    let deadline = tokio::time::Instant::now() + options.writer_hold;
    let snapshot = user_sync::domain_users(&mut tx, company, domain).await?;
    let mut write =
        ImportWrite::start(&mut tx, company, domain, import.id, import.data.group_id).await?;
    let (out, mut ready) = tokio::sync::mpsc::unbounded_channel();
    let planner = spawn_planner(import, snapshot, take, Some(out));
    let mut writing = Some(tx);
    // planned: `written` (or held back, once released), then `pending`
    let mut written = Ready::default();
    let mut pending = Ready::default();
    loop {
        let next = match &writing {
            Some(_) => tokio::time::timeout_at(deadline, ready.recv()).await,
            None => Ok(ready.recv().await),
        };
        match next {
            Ok(Some(r)) => pending.extend(r),
            Ok(None) => break,
            Err(_) => {
                if let Some(tx) = writing.take() {
                    tx.rollback().await?;
                }
                tracing::info!(
                    import = import.id,
                    hold_ms = options.writer_hold.as_millis() as u64,
                    "the source is slower than the writer hold: writer released, reading on"
                );
                continue;
            }
        }
        if let Some(tx) = writing.as_mut()
            && (pending.creates.len() >= FLUSH || pending.updates.len() >= FLUSH)
        {
            let now = pending.take_front(pending.creates.len() / FLUSH * FLUSH);
            write.upsert(tx, &now.updates, &now.creates).await?;
            written.extend(now);
        }
    }
    let planned = planner
        .await
        .map_err(thread_error)?
        .ok_or_else(|| RunError::Thread("the planner stopped".into()))?;
    let (read, connector) = reader.await.map_err(thread_error)?;
    read?;
    let Planned { mut plan, snapshot } = planned;
    let Some(mut tx) = writing else {
        written.extend(pending);
        written.put_before(&mut plan);
        return Ok(Streamed::Released(
            Box::new(Planned { plan, snapshot }),
            connector,
        ));
    };
    fill(run, &plan.report);
    if needs_confirmation(&plan, import, options, run) {
        return Ok(Streamed::Ended(None));
    }
    progress.set(Phase::Writing);
    write
        .remove(&mut tx, &plan.changes.disables, &plan.changes.deletes)
        .await?;
    // what was held back for the deletions comes after the rest
    pending.put_before(&mut plan);
    write
        .upsert(&mut tx, &plan.changes.updates, &plan.changes.creates)
        .await?;
    write.finish(&mut tx, &options.actor).await?;
    run.status = RunStatus::Succeeded;
    run.ended_at = now_ms();
    let id = user_imports::record_run(&mut tx, run).await?;
    tx.commit().await?;
    Ok(Streamed::Ended(Some(id)))
}

/// Whether a run writes while it reads: on SQLite with a writer hold,
/// unless the link's last run took longer than the hold. A source that
/// slow would keep every other writer waiting for the whole hold, at every
/// run, before the run gave the writer up.
async fn writes_while_reading(
    store: &Store,
    import: &UserImport,
    options: &RunOptions,
) -> Result<bool, RunError> {
    if store.backend() != Backend::Sqlite || options.writer_hold.is_zero() {
        return Ok(false);
    }
    let mut c = store.read().await?;
    let last = user_imports::runs(&mut c, import.company_id, import.id, 1).await?;
    let took_ms = last.first().map(|r| r.ended_at - r.started_at);
    Ok(quick_enough(took_ms, options.writer_hold))
}

/// True unless the link's last run took longer than `hold` (`last_ms`).
fn quick_enough(last_ms: Option<i64>, hold: Duration) -> bool {
    last_ms.is_none_or(|ms| u128::try_from(ms).is_ok_and(|ms| ms <= hold.as_millis()))
}

/// True (and the run says why) when the plan removes more than the safety
/// share and the run was not confirmed.
fn needs_confirmation(
    p: &Plan,
    import: &UserImport,
    options: &RunOptions,
    run: &mut ImportRun,
) -> bool {
    if !p.exceeds_share(import.data.delete_share_percent) || options.confirm {
        return false;
    }
    run.status = RunStatus::ConfirmationRequired;
    run.message = Some(format!(
        "this run would delete {} and disable {} of the {} users of this import, more than \
         the safety share of {} %: nothing was changed; run it again with confirm=true to go ahead",
        p.changes.deletes.len(),
        p.changes.disables.len(),
        p.owned,
        import.data.delete_share_percent
    ));
    true
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
    connector: Box<dyn Connector>,
    options: &RunOptions,
    progress: &Arc<Progress>,
    run: &mut ImportRun,
) -> Result<Option<i64>, RunError> {
    let mapper = Mapper::new(&import.data.mapping).map_err(|f| {
        ConnectorError::Format(format!("the mapping gives no source attribute for {f}"))
    })?;
    let (planned, mut connector) = if writes_while_reading(store, import, options).await? {
        match read_plan_and_write(
            store,
            import,
            connector,
            mapper.clone(),
            options,
            progress,
            run,
        )
        .await?
        {
            Streamed::Ended(id) => return Ok(id),
            Streamed::Released(planned, connector) => (*planned, connector),
        }
    } else {
        read_and_plan(store, import, connector, mapper.clone(), progress).await?
    };
    progress.set(Phase::Planning);
    let (company, domain) = (import.company_id, import.data.domain_id);
    let mut tx = store.begin().await?;
    let existing = user_sync::domain_users(&mut tx, company, domain).await?;
    let mut p = if existing == planned.snapshot {
        planned.plan
    } else {
        // Someone changed the domain's users while the source was read.
        // Read it again, then plan inside the transaction, as the writer
        // must not wait for the source.
        tracing::info!(
            import = import.id,
            "the domain's users changed during the read; reading the source again"
        );
        drop(tx);
        progress.set(Phase::Reading);
        progress.entries_read.store(0, Ordering::Relaxed);
        let watch = Arc::clone(progress);
        let entries =
            tokio::task::spawn_blocking(move || read_source(connector.as_mut(), &mapper, &watch))
                .await
                .map_err(|e| RunError::Thread(e.to_string()))??;
        progress.set(Phase::Planning);
        tx = store.begin().await?;
        let existing = user_sync::domain_users(&mut tx, company, domain).await?;
        plan(import.data.sync_type, import.id, &existing, entries)
    };
    fill(run, &p.report);
    if needs_confirmation(&p, import, options, run) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_whose_last_run_was_slow_reads_first() {
        let hold = Duration::from_secs(1);
        assert!(quick_enough(None, hold));
        assert!(quick_enough(Some(1000), hold));
        assert!(!quick_enough(Some(1001), hold));
        // a clock that went back: not known to be quick, so it reads first
        assert!(!quick_enough(Some(-5), hold));
    }
}
