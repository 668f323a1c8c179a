//! Synchronisation (guide 8.2.1): stream the source, map each record, build
//! a complete new generation, commit it, then swap it in. Until the swap,
//! queries see the previous generation; a failed or cancelled run leaves it
//! in place and says why. One run per directory at a time.
//!
//! [`DirectoryEngine::synchronise`] blocks (reading and indexing are CPU and
//! I/O work): an async server runs it on a blocking thread and watches
//! [`DirectoryEngine::sync_progress`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use thiserror::Error;

use std::sync::mpsc;

use crate::connector::{
    Connector, ConnectorError, Location, ReadOutcome, RecordStream, SourceRecord,
};
use crate::contact::Contact;
use crate::directory::{IgnoreReason, Mapping};
use crate::engine::{DirectoryEngine, Running};
use crate::hash::{FastMap, hash_str};
use crate::index::{Generation, Numbers};
use crate::model::DirectoryId;
use crate::persist::{ChangeSet, PersistError};

/// Ignored records kept in a report (the total is always counted).
pub const MAX_REPORTED_IGNORED: usize = 1000;

/// The phase of a running synchronisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncPhase {
    /// Streaming the source.
    Reading,
    /// Building the indexes of the new generation.
    Indexing,
    /// Committing to the store.
    Saving,
}

/// Live counters of a running synchronisation, shared with observers.
#[derive(Debug)]
pub struct SyncProgress {
    started: Instant,
    phase: AtomicU8,
    rows_read: AtomicU64,
    rows_written: AtomicU64,
    rows_ignored: AtomicU64,
    done_units: AtomicU64,
    total_units: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgressSnapshot {
    /// Current phase.
    pub phase: SyncPhase,
    /// Records read from the source.
    pub rows_read: u64,
    /// Records mapped into contacts.
    pub rows_written: u64,
    /// Records ignored so far.
    pub rows_ignored: u64,
    /// Time since the start.
    pub elapsed: Duration,
    /// Records read per second.
    pub rate: f64,
    /// Estimated records in the source, when the connector knows its size.
    pub total_rows: Option<u64>,
    /// Estimated time left reading, when the size is known.
    pub eta: Option<Duration>,
}

impl SyncProgress {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            phase: AtomicU8::new(0),
            rows_read: AtomicU64::new(0),
            rows_written: AtomicU64::new(0),
            rows_ignored: AtomicU64::new(0),
            done_units: AtomicU64::new(0),
            total_units: AtomicU64::new(0),
        }
    }

    fn set_phase(&self, phase: SyncPhase) {
        self.phase.store(phase as u8, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> ProgressSnapshot {
        let elapsed = self.started.elapsed();
        let read = self.rows_read.load(Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        let (done, total) = (
            self.done_units.load(Ordering::Relaxed),
            self.total_units.load(Ordering::Relaxed),
        );
        let fraction = (total > 0 && done > 0).then(|| (done as f64 / total as f64).min(1.0));
        ProgressSnapshot {
            phase: match self.phase.load(Ordering::Relaxed) {
                0 => SyncPhase::Reading,
                1 => SyncPhase::Indexing,
                _ => SyncPhase::Saving,
            },
            rows_read: read,
            rows_written: self.rows_written.load(Ordering::Relaxed),
            rows_ignored: self.rows_ignored.load(Ordering::Relaxed),
            elapsed,
            rate: if secs > 0.0 { read as f64 / secs } else { 0.0 },
            total_rows: fraction.map(|f| (read as f64 / f).round() as u64),
            eta: fraction.map(|f| Duration::from_secs_f64(secs * (1.0 - f) / f)),
        }
    }
}

/// A record that was not imported, with where it is and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoredRecord {
    /// Line, DN or row.
    pub location: Location,
    /// Why.
    pub reason: IgnoreReason,
}

/// The outcome of a completed synchronisation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Records read from the source (ignored ones included).
    pub rows_read: u64,
    /// New contacts.
    pub created: u64,
    /// Contacts whose values changed.
    pub updated: u64,
    /// Contacts no longer in the source.
    pub deleted: u64,
    /// Contacts unchanged.
    pub unchanged: u64,
    /// Ignored records (the first [`MAX_REPORTED_IGNORED`]).
    pub ignored: Vec<IgnoredRecord>,
    /// Number of ignored records.
    pub ignored_total: u64,
    /// Duration of the run.
    pub elapsed: Duration,
    /// Of which reading and mapping the source.
    pub reading: Duration,
    /// Of which building the new generation's indexes and comparing.
    pub indexing: Duration,
    /// Of which committing through the persistence.
    pub saving: Duration,
}

/// Why a synchronisation did not complete (the previous data is kept).
#[derive(Debug, Error)]
pub enum SyncError {
    /// Unknown directory.
    #[error("unknown directory {0}")]
    UnknownDirectory(DirectoryId),
    /// Sample/Draft directories are not synchronised.
    #[error("directory {0} is a sample/draft directory: it is not synchronised")]
    Disabled(DirectoryId),
    /// Another synchronisation of this directory is running.
    #[error("a synchronisation of directory {0} is already running")]
    AlreadyRunning(DirectoryId),
    /// The source failed.
    #[error("source error after {rows_read} records: {source}")]
    Connector {
        /// Records read before the failure.
        rows_read: u64,
        /// The failure.
        #[source]
        source: ConnectorError,
    },
    /// Cancelled on request.
    #[error("cancelled after {rows_read} records; the previous contacts are kept")]
    Cancelled {
        /// Records read before the cancel.
        rows_read: u64,
    },
    /// Writing the new generation failed.
    #[error("saving failed; the previous contacts are kept: {0}")]
    Persist(#[from] PersistError),
}

/// Clears the running slot when the run ends, however it ends.
struct RunGuard<'a>(&'a std::sync::Mutex<Option<Running>>);

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        match self.0.lock() {
            Ok(mut r) => *r = None,
            Err(p) => *p.into_inner() = None,
        }
    }
}

impl DirectoryEngine {
    /// Synchronises a directory from `connector` (blocking).
    pub fn synchronise(
        &self,
        id: DirectoryId,
        connector: &mut dyn Connector,
    ) -> Result<SyncReport, SyncError> {
        let slot = self.slot(id).ok_or(SyncError::UnknownDirectory(id))?;
        let directory = slot.directory();
        if !directory.kind.is_enabled() {
            return Err(SyncError::Disabled(id));
        }
        let progress = Arc::new(SyncProgress::new());
        let cancel = Arc::new(AtomicBool::new(false));
        {
            let mut running = slot
                .running
                .lock()
                .map_err(|_| SyncError::AlreadyRunning(id))?;
            if running.is_some() {
                return Err(SyncError::AlreadyRunning(id));
            }
            *running = Some(Running {
                progress: Arc::clone(&progress),
                cancel: Arc::clone(&cancel),
            });
        }
        let _guard = RunGuard(&slot.running);
        let mapping = &directory.mapping;
        let mut report = SyncReport::default();
        let mut stream =
            connector
                .open(mapping.source_fields())
                .map_err(|source| SyncError::Connector {
                    rows_read: 0,
                    source,
                })?;
        // The reverse index is built on a second thread while the source is
        // read: contacts go to it in chunks.
        let plan = self.plan();
        // The previous size is the best guess of the new one.
        let hint = slot.generation().contacts().len().max(1 << 16);
        let (tx, rx) = mpsc::sync_channel::<Arc<Vec<Contact>>>(4);
        let (read, numbers) = std::thread::scope(|s| {
            let worker = s.spawn(move || {
                let mut numbers = Numbers::new(hint);
                for chunk in rx {
                    numbers.add(&chunk, plan);
                }
                numbers
            });
            let mut accepted = Accepted::new(tx, hint);
            let read = read_all(
                &mut *stream,
                mapping,
                &mut accepted,
                &mut report,
                &progress,
                &cancel,
            );
            if read.is_ok() {
                accepted.close();
            } else {
                accepted.tx = None;
            }
            let numbers = worker.join().ok();
            (read.map(|()| accepted), numbers)
        });
        drop(stream);
        let contacts = read?.into_vec();
        if cancel.load(Ordering::Relaxed) {
            return Err(SyncError::Cancelled {
                rows_read: report.rows_read,
            });
        }

        report.reading = progress.started.elapsed();
        progress.set_phase(SyncPhase::Indexing);
        let generation = Arc::new(match numbers {
            Some(numbers) => Generation::build_with(contacts, numbers, plan),
            None => Generation::build(contacts, plan),
        });
        let old = slot.generation();
        let changes = diff(&old, &generation, &mut report);
        if cancel.load(Ordering::Relaxed) {
            return Err(SyncError::Cancelled {
                rows_read: report.rows_read,
            });
        }
        report.indexing = progress.started.elapsed() - report.reading;
        progress.set_phase(SyncPhase::Saving);
        self.persistence().commit(id, &generation, &changes)?;
        slot.swap(generation);
        report.elapsed = progress.started.elapsed();
        report.saving = report.elapsed - report.reading - report.indexing;
        Ok(report)
    }

    /// Progress of the running synchronisation of a directory, if any.
    pub fn sync_progress(&self, id: DirectoryId) -> Option<ProgressSnapshot> {
        let slot = self.slot(id)?;
        let running = slot.running.lock().ok()?;
        running.as_ref().map(|r| r.progress.snapshot())
    }

    /// Asks the running synchronisation of a directory to stop; the
    /// previous contacts stay. Returns whether one was running.
    pub fn cancel_sync(&self, id: DirectoryId) -> bool {
        let Some(slot) = self.slot(id) else {
            return false;
        };
        let Ok(running) = slot.running.lock() else {
            return false;
        };
        running
            .as_ref()
            .map(|r| r.cancel.store(true, Ordering::SeqCst))
            .is_some()
    }
}

/// Contacts per chunk sent to the reverse-index thread.
const CHUNK: usize = 8192;

/// The contacts accepted so far: full chunks (shared with the
/// reverse-index thread) and the chunk being filled.
struct Accepted {
    chunks: Vec<Arc<Vec<Contact>>>,
    current: Vec<Contact>,
    tx: Option<mpsc::SyncSender<Arc<Vec<Contact>>>>,
    /// Where each accepted record was (for duplicate-id reports).
    locations: Vec<Location>,
    /// Id hash → index; ids whose hash is taken by another id go to `collided`.
    seen: FastMap<u64, u32>,
    collided: FastMap<Box<str>, u32>,
}

impl Accepted {
    /// `hint`: the expected number of contacts (sizes the id map once
    /// instead of rehashing it as it grows).
    fn new(tx: mpsc::SyncSender<Arc<Vec<Contact>>>, hint: usize) -> Self {
        Self {
            chunks: Vec::with_capacity(hint / CHUNK + 1),
            current: Vec::with_capacity(CHUNK),
            tx: Some(tx),
            locations: Vec::with_capacity(hint),
            seen: FastMap::with_capacity_and_hasher(hint, Default::default()),
            collided: FastMap::default(),
        }
    }

    fn len(&self) -> usize {
        self.chunks.len() * CHUNK + self.current.len()
    }

    fn get(&self, i: u32) -> Option<&Contact> {
        let (chunk, at) = (i as usize / CHUNK, i as usize % CHUNK);
        match self.chunks.get(chunk) {
            Some(c) => c.get(at),
            None => self.current.get(at),
        }
    }

    /// The location of the first contact with this id, if one was accepted.
    fn duplicate_of(&mut self, id: &str) -> Option<String> {
        let h = hash_str(id);
        let index = self.len() as u32;
        let first = match self.seen.get(&h) {
            None => {
                self.seen.insert(h, index);
                return None;
            }
            Some(&first) if self.get(first).is_some_and(|c| c.id() == id) => first,
            Some(_) => match self.collided.get(id) {
                Some(&first) => first,
                None => {
                    self.collided.insert(id.into(), index);
                    return None;
                }
            },
        };
        Some(
            self.locations
                .get(first as usize)
                .map_or_else(String::new, ToString::to_string),
        )
    }

    fn push(&mut self, contact: Contact, location: Location) {
        self.current.push(contact);
        self.locations.push(location);
        if self.current.len() == CHUNK {
            let full = Arc::new(std::mem::replace(
                &mut self.current,
                Vec::with_capacity(CHUNK),
            ));
            if let Some(tx) = &self.tx {
                if tx.send(Arc::clone(&full)).is_err() {
                    self.tx = None;
                }
            }
            self.chunks.push(full);
        }
    }

    /// Sends the last chunk and closes the channel.
    fn close(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Arc::new(self.current.clone()));
        }
    }

    fn into_vec(self) -> Vec<Contact> {
        let mut all = Vec::with_capacity(self.len());
        for chunk in self.chunks {
            match Arc::try_unwrap(chunk) {
                Ok(v) => all.extend(v),
                Err(shared) => all.extend(shared.iter().cloned()),
            }
        }
        all.extend(self.current);
        all
    }
}

fn ignore(
    report: &mut SyncReport,
    progress: &SyncProgress,
    location: Location,
    reason: IgnoreReason,
) {
    report.ignored_total += 1;
    progress.rows_ignored.fetch_add(1, Ordering::Relaxed);
    if report.ignored.len() < MAX_REPORTED_IGNORED {
        report.ignored.push(IgnoredRecord { location, reason });
    }
}

/// Reads and maps every record of the stream.
fn read_all(
    stream: &mut dyn RecordStream,
    mapping: &Mapping,
    accepted: &mut Accepted,
    report: &mut SyncReport,
    progress: &SyncProgress,
    cancel: &AtomicBool,
) -> Result<(), SyncError> {
    let mut record = SourceRecord::new(mapping.source_fields().len());
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(SyncError::Cancelled {
                rows_read: report.rows_read,
            });
        }
        let outcome = stream
            .next_record(&mut record)
            .map_err(|source| SyncError::Connector {
                rows_read: report.rows_read,
                source,
            })?;
        report.rows_read += 1;
        progress.rows_read.fetch_add(1, Ordering::Relaxed);
        let location = match outcome {
            ReadOutcome::End => {
                report.rows_read -= 1;
                progress.rows_read.fetch_sub(1, Ordering::Relaxed);
                return Ok(());
            }
            ReadOutcome::Skipped { location, reason } => {
                ignore(report, progress, location, IgnoreReason::Unreadable(reason));
                continue;
            }
            ReadOutcome::Record => record
                .location()
                .cloned()
                .unwrap_or(Location::Row(report.rows_read)),
        };
        if report.rows_read % 1024 == 0 {
            if let Some((done, total)) = stream.progress() {
                progress.done_units.store(done, Ordering::Relaxed);
                progress.total_units.store(total, Ordering::Relaxed);
            }
        }
        let contact = match mapping.apply(&record) {
            Ok(c) => c,
            Err(reason) => {
                ignore(report, progress, location, reason);
                continue;
            }
        };
        // Duplicate ids: the first record wins.
        if let Some(first) = accepted.duplicate_of(contact.id()) {
            let id = contact.id().to_owned();
            ignore(
                report,
                progress,
                location,
                IgnoreReason::DuplicateId { id, first },
            );
            continue;
        }
        accepted.push(contact, location);
        progress.rows_written.fetch_add(1, Ordering::Relaxed);
    }
}

/// Compares the new generation with the old one by source id.
fn diff(old: &Generation, new: &Generation, report: &mut SyncReport) -> ChangeSet {
    let mut changes = ChangeSet::default();
    let mut kept = vec![false; old.contacts().len()];
    for (i, c) in new.contacts().iter().enumerate() {
        let i = i as u32;
        match old.find_id(c.id()) {
            Some(j) => {
                kept[j as usize] = true;
                if old.contact(j) == Some(c) {
                    report.unchanged += 1;
                } else {
                    report.updated += 1;
                    changes.updated.push(i);
                }
            }
            None => {
                report.created += 1;
                changes.created.push(i);
            }
        }
    }
    for (c, kept) in old.contacts().iter().zip(kept) {
        if !kept {
            report.deleted += 1;
            changes.deleted.push(c.id().to_owned());
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_rate_and_eta_from_the_source_size() {
        let p = SyncProgress::new();
        let s = p.snapshot();
        assert_eq!((s.rows_read, s.total_rows, s.eta), (0, None, None));
        std::thread::sleep(Duration::from_millis(20));
        p.rows_read.store(250, Ordering::Relaxed);
        p.done_units.store(1_000, Ordering::Relaxed);
        p.total_units.store(4_000, Ordering::Relaxed);
        p.set_phase(SyncPhase::Indexing);
        let s = p.snapshot();
        assert_eq!(s.phase, SyncPhase::Indexing);
        assert_eq!(s.total_rows, Some(1_000));
        assert!(s.rate > 0.0);
        // A quarter done: three times the elapsed time left.
        let eta = s.eta.unwrap().as_secs_f64();
        assert!((eta / s.elapsed.as_secs_f64() - 3.0).abs() < 0.01, "{eta}");
    }
}
