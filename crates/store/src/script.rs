//! Write transactions sent to SQLite's writer thread in one trip.
//!
//! sqlx runs each SQLite connection on a thread of its own and every
//! statement is a round trip to it (≈ 0.15–0.2 ms on this machine once the
//! tasks on both sides have been woken). A creation through the API was
//! five of them on the single writer connection (BEGIN, user, device, audit
//! entry, COMMIT), and the writer is what every write queues for. A script
//! is the whole transaction as one multi-statement query,
//! `BEGIN IMMEDIATE; …; COMMIT`, run by that thread from start to end.
//!
//! sqlx binds `$n` parameters by their number in every statement of a
//! multi-statement query (`sqlx-sqlite`'s `SqliteArguments::bind`; only
//! anonymous `?` are counted across statements), so a script numbers its
//! parameters once for the whole text. Only SQLite's driver runs several
//! statements with parameters in one query, and sqlx's maintainers call
//! this deprecated (launchbadge/sqlx#3108, still working in 0.8.6): the
//! store's `create_recorded` tests would fail on an upgrade that drops it.
//!
//! Atomicity does not rest on sqlx's transaction bookkeeping, which does
//! not see a `BEGIN` inside a script, so this module keeps it:
//! - a statement that fails stops the script before `COMMIT`; the
//!   connection is rolled back before it goes back to the pool;
//! - a caller that goes away while the script runs (an HTTP client hanging
//!   up drops the handler's future) drops the channel the rows come back
//!   on, which also stops the script; the connection is then closed rather
//!   than returned, and closing a SQLite connection rolls back what it had
//!   not committed.

use futures_util::TryStreamExt;
use sqlx::any::AnyRow;

use crate::pool::{AnyQuery, Conn};
use crate::{Store, StoreError};

/// A failed script: the rows it had returned before the failing statement
/// (which tells the caller which statement it was) and the error.
#[derive(Debug)]
pub(crate) struct ScriptError {
    pub rows_before: usize,
    pub error: sqlx::Error,
}

/// Runs `script` (which must begin its own transaction and end with
/// `COMMIT`) on the SQLite writer connection and returns the rows of all its
/// statements in order. Nothing of it remains when it fails or when the
/// returned future is dropped before the end.
pub(crate) async fn run_sqlite(
    store: &Store,
    script: AnyQuery<'_>,
) -> Result<Vec<AnyRow>, ScriptError> {
    let mut writer = Writer(Some(store.writer().await.map_err(|e| ScriptError {
        rows_before: 0,
        error: match e {
            StoreError::Database(e) => e,
            other => sqlx::Error::Protocol(other.to_string()),
        },
    })?));
    let mut rows = Vec::new();
    let outcome = {
        let mut stream = script.fetch(&mut **writer.conn());
        loop {
            match stream.try_next().await {
                Ok(Some(row)) => rows.push(row),
                Ok(None) => break Ok(()),
                Err(error) => {
                    break Err(ScriptError {
                        rows_before: rows.len(),
                        error,
                    });
                }
            }
        }
    };
    match outcome {
        Ok(()) => {
            writer.release();
            Ok(rows)
        }
        Err(e) => {
            // the script stopped at its first error, inside its transaction
            if sqlx::query("ROLLBACK")
                .execute(&mut **writer.conn())
                .await
                .is_ok()
            {
                writer.release();
            }
            Err(e)
        }
    }
}
/// The writer connection while a script may have left a transaction open:
/// dropped without [`Writer::release`], it is closed instead of returned to
/// the pool.
struct Writer(Option<Conn>);

impl Writer {
    fn conn(&mut self) -> &mut Conn {
        // Some until release() or drop
        self.0.as_mut().expect("writer connection held")
    }

    fn release(&mut self) {
        self.0.take();
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if let Some(conn) = self.0.as_mut() {
            conn.close_on_drop();
        }
    }
}
