//! SQLite's WAL checkpoints, run by a background task instead of by the
//! committing writer. By default SQLite checkpoints in the commit that
//! takes the WAL past 1,000 pages: that commit then copies every page of
//! the WAL into the database and syncs the file, so a large transaction
//! (a directory's contacts: tens of megabytes) or an unlucky small one
//! pays for it. As the SQLite documentation suggests for such
//! applications, the writer's automatic checkpoint is turned off and a
//! task runs a PASSIVE checkpoint every second on a connection of its own:
//! it never blocks readers or the writer, and a commit is as durable as
//! before (`synchronous = NORMAL`: the checkpoint syncs the WAL first).
//! SQLite also checkpoints when the last connection closes, so a process
//! that exits between two rounds leaves nothing behind.

use std::time::Duration;

use sqlx::any::AnyConnectOptions;
use sqlx::{ConnectOptions, Executor};
use tokio::task::JoinHandle;

/// How often the WAL is checkpointed.
const EVERY: Duration = Duration::from_secs(1);

/// The checkpointing task; stopped when the last store handle is dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer(JoinHandle<()>);

impl Checkpointer {
    /// Starts the task (in the caller's runtime) with its own connection.
    pub(crate) async fn start(connect: AnyConnectOptions) -> Result<Self, sqlx::Error> {
        let mut conn = connect.connect().await?;
        Ok(Self(tokio::spawn(async move {
            let mut tick = tokio::time::interval(EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                // PASSIVE: copies what no reader still needs, waits for no one
                if let Err(e) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
                    tracing::debug!(error = %e, "WAL checkpoint failed; retried in a second");
                }
            }
        })))
    }
}

impl Checkpointer {
    /// Stops the task (the store is being closed).
    pub(crate) fn stop(&self) {
        self.0.abort();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}
