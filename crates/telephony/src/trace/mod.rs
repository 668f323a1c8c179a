//! PDU traces (guide 10.6): every CSTA PDU of one device, or of all (`*`),
//! written to rotating files in the record format of
//! [`twp_csta::trace`], readable by `twp csta decode`.
//!
//! ```text
//! Link (each, its own task) ─► Tap ─► TraceSink: filter, copy, try_send
//!                                          │ bounded channel (full: dropped and counted)
//!                                          ▼
//!                          writer thread ─► RotatingFiles
//! ```
//!
//! - The links never wait for a trace: the sink filters (`filter`),
//!   copies the PDU and `try_send`s it; a full queue drops the record and
//!   counts it. The writer notes new drops in the file as a line
//!   (`… trace: N record(s) dropped (queue full), M in all`) and the total
//!   is in [`TraceStatus::records_dropped`]. With no trace running a link
//!   pays one atomic load per PDU.
//! - The writer runs on a blocking thread (file I/O), flushes whenever its
//!   queue is empty, and stops on the first write error (missing
//!   directory, full disk, permission): the tap is detached, the error is
//!   in [`TraceStatus::error`], the links carry on.
//! - One trace at a time: starting one while another runs *replaces* it
//!   (the old one is stopped and its files closed first). An
//!   administrator who starts a trace wants that one; refusing would only
//!   add a stop/start round trip.
//! - A trace of one device must name a configured device
//!   ([`TraceError::UnknownDevice`]); a typo would otherwise give an
//!   empty trace.

mod files;
mod filter;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use twp_csta::trace::Rfc3339;
use twp_csta::{Pdu, PduSink, Tap, TraceLine};

use files::{FileError, RotatingFiles};
use filter::{DeviceFilter, Target};

/// What a trace follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceTarget {
    /// `*`: every PDU, session-level ones included.
    All,
    /// One device number.
    Device(String),
}

impl FromStr for TraceTarget {
    type Err = TraceError;

    /// `*` or a device number.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "*" => Ok(TraceTarget::All),
            "" => Err(TraceError::InvalidSpec {
                field: "device",
                message: "give a device number or * for all".into(),
            }),
            n if n.chars().any(char::is_whitespace) => Err(TraceError::InvalidSpec {
                field: "device",
                message: format!("{n:?} is not a device number"),
            }),
            n => Ok(TraceTarget::Device(n.to_owned())),
        }
    }
}

impl std::fmt::Display for TraceTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TraceTarget::All => f.write_str("*"),
            TraceTarget::Device(n) => f.write_str(n),
        }
    }
}

/// A trace to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceSpec {
    pub target: TraceTarget,
    /// Where the files go; must exist and be writable.
    pub directory: PathBuf,
    /// A file is closed and the next one opened before it would exceed this.
    pub max_file_bytes: u64,
    /// Files kept; the oldest beyond are deleted.
    pub max_files: usize,
    /// The trace stops by itself after this long.
    pub duration: Option<Duration>,
    /// Records waiting for the writer; beyond, they are dropped and counted.
    pub queue_capacity: usize,
}

impl TraceSpec {
    /// A trace with 10 files of 10 MiB, no time limit and a queue of 8,192
    /// records.
    pub fn new(target: TraceTarget, directory: impl Into<PathBuf>) -> TraceSpec {
        TraceSpec {
            target,
            directory: directory.into(),
            max_file_bytes: 10 * 1024 * 1024,
            max_files: 10,
            duration: None,
            queue_capacity: 8192,
        }
    }

    fn validate(&self) -> Result<(), TraceError> {
        let invalid = |field, message: &str| {
            Err(TraceError::InvalidSpec {
                field,
                message: message.to_owned(),
            })
        };
        if self.max_file_bytes == 0 {
            return invalid("max_file_bytes", "must be at least 1");
        }
        if self.max_files == 0 {
            return invalid("max_files", "must be at least 1");
        }
        if self.queue_capacity == 0 {
            return invalid("queue_capacity", "must be at least 1");
        }
        if self.duration == Some(Duration::ZERO) {
            return invalid("duration", "must be more than zero (or none)");
        }
        if self.directory.as_os_str().is_empty() {
            return invalid("directory", "give the directory for the trace files");
        }
        Ok(())
    }
}

/// Why a trace could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    #[error("trace {field}: {message}")]
    InvalidSpec {
        field: &'static str,
        message: String,
    },
    #[error("device {device} is not configured for supervision: trace a configured device or *")]
    UnknownDevice { device: String },
    #[error("cannot write the trace file {path}: {message}")]
    Io { path: PathBuf, message: String },
}

/// A trace's progress (the running one, or the last one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceStatus {
    pub running: bool,
    pub spec: TraceSpec,
    pub started: SystemTime,
    pub stopped: Option<SystemTime>,
    /// Why it stopped: `stopped`, `replaced by a new trace`, `duration of
    /// … elapsed`, `engine shut down`, or the write error.
    pub stop_reason: Option<String>,
    /// The write error that stopped it, if one did.
    pub error: Option<String>,
    /// Files of the trace still on disk, oldest first.
    pub files: Vec<PathBuf>,
    pub records_written: u64,
    pub records_dropped: u64,
    /// Bytes written to the files, notes and headers included.
    pub bytes_written: u64,
}

struct End {
    at: SystemTime,
    reason: String,
    error: Option<String>,
}

/// What the engine, the sink and the writer share about one trace.
struct Shared {
    spec: TraceSpec,
    started: SystemTime,
    written: AtomicU64,
    dropped: AtomicU64,
    bytes: AtomicU64,
    files: Mutex<Vec<PathBuf>>,
    end: Mutex<Option<End>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn new(spec: TraceSpec, started: SystemTime) -> Shared {
        Shared {
            spec,
            started,
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            files: Mutex::new(Vec::new()),
            end: Mutex::new(None),
        }
    }

    fn status(&self) -> TraceStatus {
        let end = lock(&self.end);
        TraceStatus {
            running: end.is_none(),
            spec: self.spec.clone(),
            started: self.started,
            stopped: end.as_ref().map(|e| e.at),
            stop_reason: end.as_ref().map(|e| e.reason.clone()),
            error: end.as_ref().and_then(|e| e.error.clone()),
            files: lock(&self.files).clone(),
            records_written: self.written.load(Ordering::Acquire),
            records_dropped: self.dropped.load(Ordering::Acquire),
            bytes_written: self.bytes.load(Ordering::Acquire),
        }
    }

    /// Records the end; the first reason wins.
    fn finish(&self, reason: String, error: Option<String>) {
        let mut end = lock(&self.end);
        if end.is_none() {
            *end = Some(End {
                at: SystemTime::now(),
                reason,
                error,
            });
        }
    }
}

enum Msg {
    Record(TraceLine),
    Stop(String),
}

/// The tap's sink: filters, copies, never waits.
struct TraceSink {
    target: Target,
    tx: mpsc::Sender<Msg>,
    shared: Arc<Shared>,
}

impl PduSink for TraceSink {
    fn pdu(&self, pdu: &Pdu<'_>) {
        if !self.target.concerns(pdu) {
            return;
        }
        if self.tx.try_send(Msg::Record(TraceLine::of(pdu))).is_err() {
            self.shared.dropped.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// The writer thread's side: files, counters, drops already noted.
struct Writer {
    files: RotatingFiles,
    shared: Arc<Shared>,
    noted_drops: u64,
    /// The file number last published in the status.
    published: u32,
}

impl Writer {
    fn line(&mut self, line: &str) -> Result<(), FileError> {
        let n = self.files.write_line(line)?;
        self.shared.bytes.fetch_add(n, Ordering::AcqRel);
        Ok(())
    }

    /// Writes a note line if records were dropped since the last one.
    fn note_drops(&mut self) -> Result<(), FileError> {
        let total = self.shared.dropped.load(Ordering::Acquire);
        if total > self.noted_drops {
            let line = format!(
                "{} trace: {} record(s) dropped (queue full), {total} in all",
                Rfc3339(SystemTime::now()),
                total - self.noted_drops
            );
            self.noted_drops = total;
            self.line(&line)?;
        }
        Ok(())
    }

    /// Writes until stopped or the queue closes; returns why it stopped.
    fn run(&mut self, rx: &mut mpsc::Receiver<Msg>) -> Result<String, FileError> {
        let spec = &self.shared.spec;
        let header = format!(
            "# TWP PDU trace of {} started {}: files of at most {} bytes, {} kept",
            spec.target,
            Rfc3339(self.shared.started),
            spec.max_file_bytes,
            spec.max_files
        );
        self.line(&header)?;
        let closed = "engine shut down".to_owned();
        let reason = loop {
            let msg = match rx.try_recv() {
                Ok(m) => m,
                Err(mpsc::error::TryRecvError::Empty) => {
                    // Idle: the file is complete up to here.
                    self.note_drops()?;
                    self.files.flush()?;
                    if self.files.current_number() != self.published {
                        self.published = self.files.current_number();
                        *lock(&self.shared.files) = self.files.files();
                    }
                    match rx.blocking_recv() {
                        Some(m) => m,
                        None => break closed,
                    }
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break closed,
            };
            match msg {
                Msg::Record(record) => {
                    self.note_drops()?;
                    self.line(&record.to_string())?;
                    self.shared.written.fetch_add(1, Ordering::AcqRel);
                }
                Msg::Stop(reason) => break reason,
            }
        };
        self.note_drops()?;
        let footer = format!(
            "# {} trace stopped ({reason}): {} record(s) written, {} dropped",
            Rfc3339(SystemTime::now()),
            self.shared.written.load(Ordering::Acquire),
            self.shared.dropped.load(Ordering::Acquire)
        );
        self.line(&footer)?;
        self.files.flush()?;
        Ok(reason)
    }
}

/// The writer thread: records to files until stopped, the queue closes,
/// or a write fails (then the tap is detached and the error recorded).
fn write_records(
    files: RotatingFiles,
    mut rx: mpsc::Receiver<Msg>,
    shared: Arc<Shared>,
    tap: Tap,
    attachment: u64,
) {
    let mut w = Writer {
        published: files.current_number(),
        files,
        shared,
        noted_drops: 0,
    };
    let outcome = w.run(&mut rx);
    *lock(&w.shared.files) = w.files.files();
    match outcome {
        Ok(reason) => w.shared.finish(reason, None),
        Err(e) => {
            tap.detach(attachment);
            let error = format!("write failed: {e}");
            tracing::warn!(%error, "PDU trace stopped");
            w.shared.finish(error.clone(), Some(error));
        }
    }
}

/// The running trace.
struct Running {
    id: u64,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Msg>,
    attachment: u64,
    writer: JoinHandle<()>,
    timer: Option<JoinHandle<()>>,
}

struct TracerInner {
    tap: Tap,
    /// Start and stop, one at a time.
    running: tokio::sync::Mutex<Option<Running>>,
    /// The running or last trace, for status reads.
    last: Mutex<Option<Arc<Shared>>>,
    next_id: AtomicU64,
}

/// The engine's trace control; cheap to clone.
#[derive(Clone)]
pub(crate) struct Tracer {
    inner: Arc<TracerInner>,
}

/// What the engine knows for a device trace: is the device configured, and
/// its monitors now (link label, cross reference id).
pub(crate) struct DeviceLookup {
    pub configured: bool,
    pub monitors: Vec<(String, String)>,
}

impl Tracer {
    pub fn new() -> Tracer {
        Tracer {
            inner: Arc::new(TracerInner {
                tap: Tap::new(),
                running: tokio::sync::Mutex::new(None),
                last: Mutex::new(None),
                next_id: AtomicU64::new(1),
            }),
        }
    }

    /// The tap the links of the engine report to (labelled per link).
    pub fn tap(&self) -> &Tap {
        &self.inner.tap
    }

    pub fn status(&self) -> Option<TraceStatus> {
        lock(&self.inner.last).as_ref().map(|s| s.status())
    }

    pub async fn start(
        &self,
        spec: TraceSpec,
        lookup: impl FnOnce(&str) -> DeviceLookup,
    ) -> Result<TraceStatus, TraceError> {
        spec.validate()?;
        let target = match &spec.target {
            TraceTarget::All => Target::All,
            TraceTarget::Device(n) => {
                let found = lookup(n);
                if !found.configured {
                    return Err(TraceError::UnknownDevice { device: n.clone() });
                }
                let f = DeviceFilter::new(n);
                for (link, xref) in &found.monitors {
                    f.seed_monitor(link, xref);
                }
                Target::Device(Box::new(f))
            }
        };
        let mut running = self.inner.running.lock().await;
        if let Some(old) = running.take() {
            self.end(old, "replaced by a new trace".into(), false).await;
        }
        let started = SystemTime::now();
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        // pdu-20261130T234000123Z-t1: the trace id tells apart traces
        // started within the same millisecond.
        let stamp = Rfc3339(started).to_string().replace([':', '-', '.'], "");
        let stem = format!("pdu-{stamp}-t{id}");
        let shared = Arc::new(Shared::new(spec.clone(), started));
        let opened =
            RotatingFiles::open(&spec.directory, &stem, spec.max_file_bytes, spec.max_files);
        let files = match opened {
            Ok(f) => f,
            Err(e) => {
                let message = e.error.to_string();
                shared.finish(
                    format!("write failed: {e}"),
                    Some(format!("write failed: {e}")),
                );
                *lock(&self.inner.last) = Some(shared);
                return Err(TraceError::Io {
                    path: e.path,
                    message,
                });
            }
        };
        *lock(&shared.files) = files.files();
        let (tx, rx) = mpsc::channel(spec.queue_capacity);
        let sink = Arc::new(TraceSink {
            target,
            tx: tx.clone(),
            shared: shared.clone(),
        });
        let attachment = self.inner.tap.attach(sink);
        let writer = {
            let (shared, tap) = (shared.clone(), self.inner.tap.clone());
            tokio::task::spawn_blocking(move || write_records(files, rx, shared, tap, attachment))
        };
        let timer = spec.duration.map(|after| {
            let weak: Weak<TracerInner> = Arc::downgrade(&self.inner);
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                if let Some(inner) = weak.upgrade() {
                    Tracer { inner }
                        .stop_if(id, format!("duration of {after:?} elapsed"))
                        .await;
                }
            })
        });
        *lock(&self.inner.last) = Some(shared.clone());
        let status = shared.status();
        *running = Some(Running {
            id,
            shared,
            tx,
            attachment,
            writer,
            timer,
        });
        Ok(status)
    }

    /// Stops the running trace; its final status, or the last trace's.
    pub async fn stop(&self, reason: &str) -> Option<TraceStatus> {
        let mut running = self.inner.running.lock().await;
        if let Some(r) = running.take() {
            self.end(r, reason.to_owned(), false).await;
        }
        drop(running);
        self.status()
    }

    /// Stops trace `id` if it is still the running one (the duration timer).
    async fn stop_if(&self, id: u64, reason: String) {
        let mut running = self.inner.running.lock().await;
        if running.as_ref().is_some_and(|r| r.id == id)
            && let Some(r) = running.take()
        {
            self.end(r, reason, true).await;
        }
    }

    async fn end(&self, r: Running, reason: String, from_timer: bool) {
        self.inner.tap.detach(r.attachment);
        if let (Some(t), false) = (&r.timer, from_timer) {
            t.abort();
        }
        // The writer may be gone already (write error): then this fails.
        let _ = r.tx.send(Msg::Stop(reason.clone())).await;
        drop(r.tx);
        if r.writer.await.is_err() {
            r.shared
                .finish(reason, Some("the trace writer panicked".into()));
        }
    }

    /// Detaches the tap without waiting (the engine is being dropped): the
    /// writer finishes when its queue closes.
    pub fn detach_now(&self) {
        if let Ok(mut running) = self.inner.running.try_lock()
            && let Some(r) = running.take()
        {
            self.inner.tap.detach(r.attachment);
            if let Some(t) = &r.timer {
                t.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::files::tests::scratch;
    use super::*;
    use twp_csta::{Direction, InvokeId};

    /// Hands the sink a MonitorStart PDU, as a link does.
    fn emit(sink: &TraceSink, i: u16) {
        let body = format!(
            "<MonitorStart><monitorObject><deviceObject>{}</deviceObject></monitorObject></MonitorStart>",
            1000 + i
        );
        let msg = twp_csta::decode(body.as_bytes()).unwrap();
        sink.pdu(&Pdu {
            time: SystemTime::now(),
            link: "0",
            peer: "127.0.0.1:1",
            direction: Direction::Sent,
            invoke_id: InvokeId::new(i),
            body: body.as_bytes(),
            message: Some(&msg),
            error: None,
        });
    }

    #[test]
    fn a_full_queue_drops_and_counts_and_the_file_says_so() {
        let dir = scratch("drops");
        let spec = TraceSpec {
            queue_capacity: 2,
            ..TraceSpec::new(TraceTarget::All, &dir)
        };
        let shared = Arc::new(Shared::new(spec.clone(), SystemTime::now()));
        let (tx, rx) = mpsc::channel(spec.queue_capacity);
        let sink = TraceSink {
            target: Target::All,
            tx,
            shared: shared.clone(),
        };
        // No writer yet: two records fit, five are dropped.
        for i in 1..=7 {
            emit(&sink, i);
        }
        assert_eq!(shared.dropped.load(Ordering::Acquire), 5);
        drop(sink);
        let tap = Tap::new();
        let files = RotatingFiles::open(&dir, "pdu-t", 1 << 20, 2).unwrap();
        write_records(files, rx, shared.clone(), tap, 0);
        let status = shared.status();
        assert!(!status.running);
        assert_eq!((status.records_written, status.records_dropped), (2, 5));
        let text = std::fs::read_to_string(&status.files[0]).unwrap();
        assert!(
            text.contains("trace: 5 record(s) dropped (queue full), 5 in all"),
            "{text}"
        );
        assert_eq!(status.bytes_written, text.len() as u64);
        let report = twp_csta::decode_report(text.as_bytes());
        assert_eq!(report.messages(), 2, "{report}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
