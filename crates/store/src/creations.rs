//! User creations on SQLite, committed in groups.
//!
//! SQLite has one writer. A creation alone is one script (`script.rs`) —
//! `BEGIN IMMEDIATE`, the user, its devices, its audit entry, `COMMIT` — and
//! under load most of its cost is fixed: the hand-offs to and from the
//! writer connection's thread, the transaction, the pages of the user,
//! device and audit tables and their indexes appended to the WAL at each
//! commit. Creations that arrive while the writer is busy are therefore
//! queued to one task that runs each queue as one script: one transaction,
//! the same statements one creation after the other (group commit).
//!
//! Each creation still stands alone:
//! - every statement returns one row, so the rows received before a failed
//!   statement name the creation it belongs to; that creation gets its
//!   error (a duplicate name or number, an unknown domain), the group is
//!   rolled back and run again without it — which is what running the
//!   creations one by one in the same order would have given;
//! - an error no creation can be blamed for (the database itself) is given
//!   to each creation by running them alone;
//! - a creation whose caller went away is still written whole, or not at
//!   all, like a PostgreSQL creation (`users::create_recorded`).

use sqlx::Row;
use sqlx::any::AnyRow;
use tokio::sync::{mpsc, oneshot};
use twp_domain::{AuditEntry, CompanyId, DeviceData, DeviceSecrets, UserData};

use crate::users::{self, CreatedIdKeys, UserSecrets};
use crate::{Store, StoreError};

/// Creations run together at most.
const MAX_GROUP: usize = 64;

/// Bound parameters per script at most (SQLite allows 32,766).
const MAX_PARAMS: usize = 30_000;

/// One creation waiting for the writer.
pub(crate) struct Job {
    pub company: CompanyId,
    pub data: UserData,
    pub secrets: UserSecrets,
    pub devices: Vec<(DeviceData, DeviceSecrets)>,
    pub entry: AuditEntry,
    pub keys: CreatedIdKeys,
    pub now: i64,
    /// The user's id then its devices' ids, or why it was refused.
    pub reply: oneshot::Sender<Result<Vec<i64>, StoreError>>,
}

impl Job {
    /// Rows the creation's statements return: user, devices, audit entry.
    fn rows(&self) -> usize {
        2 + self.devices.len()
    }
}

/// The queue of a store's SQLite creations.
pub(crate) type Queue = mpsc::UnboundedSender<Job>;

/// Starts the task that writes the creations sent to the returned queue.
/// It holds `writer` (a store without a queue of its own, so that the
/// task ends when the last handle of the store is dropped).
pub(crate) fn start(writer: Store) -> Queue {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(run(writer, rx));
    tx
}

async fn run(store: Store, mut rx: mpsc::UnboundedReceiver<Job>) {
    // a creation that did not fit in the last group starts the next one
    let mut left: Option<Job> = None;
    loop {
        let first = match left.take() {
            Some(job) => job,
            None => match rx.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        let mut params = users::creation_params(first.devices.len());
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            let Ok(job) = rx.try_recv() else { break };
            let more = users::creation_params(job.devices.len());
            if params + more > MAX_PARAMS {
                left = Some(job);
                break;
            }
            params += more;
            group.push(job);
        }
        commit(&store, group).await;
    }
}

/// Writes `group` in one transaction, leaving out (and answering) each
/// creation that breaks a rule.
async fn commit(store: &Store, mut group: Vec<Job>) {
    while !group.is_empty() {
        let e = match script(store, &group).await {
            Ok(rows) => return answer(group, rows),
            Err(e) => e,
        };
        let Some((at, within)) = blame(&group, e.rows_before) else {
            return alone_all(store, group).await;
        };
        let devices = group[at].devices.len();
        match users::creation_error(e.error, within, devices) {
            error @ (StoreError::Conflict { .. } | StoreError::InvalidReference { .. }) => {
                let _ = group.remove(at).reply.send(Err(error));
            }
            // not a rule this creation broke: each one on its own
            _ => return alone_all(store, group).await,
        }
    }
}

/// Runs the group's creations as one script.
async fn script(store: &Store, group: &[Job]) -> Result<Vec<AnyRow>, crate::script::ScriptError> {
    let devices: Vec<usize> = group.iter().map(|j| j.devices.len()).collect();
    let sql = users::group_script(&devices);
    let mut q = sqlx::query(&sql);
    for j in group {
        q = users::bind_creation(q, j);
    }
    // Groups of small creations repeat: keep their text prepared.
    let cached = group.len() <= 16 && devices.iter().all(|&d| d <= 2);
    crate::script::run_sqlite(store, q.persistent(cached)).await
}

/// The creation a failed statement belongs to, and the statement's index
/// in it; `None` when the failure came after the last statement (the
/// commit) or the rows do not add up.
fn blame(group: &[Job], rows_before: usize) -> Option<(usize, usize)> {
    let mut start = 0;
    for (i, j) in group.iter().enumerate() {
        if rows_before < start + j.rows() {
            return Some((i, rows_before - start));
        }
        start += j.rows();
    }
    None
}

fn answer(group: Vec<Job>, rows: Vec<AnyRow>) {
    let expected: usize = group.iter().map(Job::rows).sum();
    if expected != rows.len() {
        for job in group {
            let _ = job.reply.send(Err(StoreError::Script(format!(
                "a group of user creations returned {} ids instead of {expected}",
                rows.len()
            ))));
        }
        return;
    }
    let mut rows = rows.into_iter();
    for job in group {
        let ids: Result<Vec<i64>, _> = rows
            .by_ref()
            .take(job.rows())
            .map(|r| r.try_get::<i64, _>(0))
            .collect();
        let result = ids
            .map(|mut ids| {
                ids.pop(); // the audit entry's
                ids
            })
            .map_err(StoreError::from);
        let _ = job.reply.send(result);
    }
}

/// Runs each creation alone: each gets its own outcome.
async fn alone_all(store: &Store, group: Vec<Job>) {
    for job in group {
        let result = match script(store, std::slice::from_ref(&job)).await {
            Ok(rows) if rows.len() == job.rows() => rows[..rows.len() - 1]
                .iter()
                .map(|r| r.try_get::<i64, _>(0))
                .collect::<Result<Vec<_>, _>>()
                .map_err(StoreError::from),
            Ok(rows) => Err(StoreError::Script(format!(
                "user creation returned {} ids instead of {}",
                rows.len(),
                job.rows()
            ))),
            Err(e) => Err(users::creation_error(
                e.error,
                e.rows_before,
                job.devices.len(),
            )),
        };
        let _ = job.reply.send(result);
    }
}
