use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, ConnectOptions, Executor};

use crate::{StoreError, migrate};

/// The database engine behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite://PATH` (created if missing) or `postgres://USER@HOST/DB`.
    pub url: String,
    /// Connections for readers (and, on PostgreSQL, writers too).
    pub max_connections: u32,
}

/// A write transaction: commit it or drop it (rollback). Derefs to the
/// connection that the store's functions take.
pub struct Tx(sqlx::Transaction<'static, Any>);

impl Tx {
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.0.commit().await?)
    }

    /// Undoes it now (dropping it does too, once the connection is next
    /// used).
    pub async fn rollback(self) -> Result<(), StoreError> {
        Ok(self.0.rollback().await?)
    }
}

impl std::ops::Deref for Tx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}
/// A query of the `Any` driver, as the store builds them.
pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

/// A pooled connection for reads.
pub type Conn = PoolConnection<Any>;

/// The handle every part of the server shares; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    reader: AnyPool,
    writer: AnyPool,
    /// SQLite: the queue of user creations committed in groups, started
    /// at the first creation (`creations.rs`).
    creations: Arc<OnceLock<crate::creations::Queue>>,
    /// SQLite: the task that checkpoints the WAL (`checkpoint.rs`).
    checkpointer: Option<Arc<crate::checkpoint::Checkpointer>>,
}

impl Store {
    /// Connects, prepares the database (WAL on SQLite) and applies pending
    /// migrations.
    pub async fn open(opts: &StoreOptions) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(&opts.url)?;
        let url = match backend {
            Backend::Sqlite if !opts.url.contains("mode=") => {
                let sep = if opts.url.contains('?') { '&' } else { '?' };
                format!("{}{sep}mode=rwc", opts.url)
            }
            _ => opts.url.clone(),
        };
        let connect = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let store = match backend {
            Backend::Sqlite => {
                // WAL is a property of the file: set it once, before the pools.
                let mut c = connect.connect().await?;
                c.execute("PRAGMA journal_mode = WAL").await?;
                drop(c);
                let writer = sqlite_pool(1, WRITER).connect_with(connect.clone()).await?;
                let checkpointer = crate::checkpoint::Checkpointer::start(connect.clone()).await?;
                let reader = sqlite_pool(opts.max_connections.max(1), "")
                    .connect_with(connect)
                    .await?;
                Self {
                    backend,
                    reader,
                    writer,
                    creations: Arc::default(),
                    checkpointer: Some(Arc::new(checkpointer)),
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(opts.max_connections.max(2))
                    // No ping before each checkout (a network round trip per
                    // request); a connection the server closed fails its next
                    // statement instead, and the pool replaces it.
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(connect)
                    .await?;
                Self {
                    backend,
                    reader: pool.clone(),
                    writer: pool,
                    creations: Arc::default(),
                    checkpointer: None,
                }
            }
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(Tx(self.writer.begin().await?))
    }

    /// The writer connection itself, for scripts that open and commit their
    /// own transaction (`script.rs`).
    pub(crate) async fn writer(&self) -> Result<Conn, StoreError> {
        Ok(self.writer.acquire().await?)
    }

    /// The queue of SQLite user creations, its task started on first use
    /// (in the caller's runtime). The task holds a store without a queue:
    /// it ends when the last handle of this one is dropped.
    pub(crate) fn creations(&self) -> &crate::creations::Queue {
        self.creations.get_or_init(|| {
            crate::creations::start(Store {
                creations: Arc::default(),
                ..self.clone()
            })
        })
    }

    /// A connection for reads; it sees committed data only.
    pub async fn read(&self) -> Result<Conn, StoreError> {
        Ok(self.reader.acquire().await?)
    }

    /// Checks that the database answers (health probes).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut c = self.read().await?;
        sqlx::query("SELECT 1").execute(&mut *c).await?;
        Ok(())
    }

    pub async fn close(&self) {
        if let Some(c) = &self.checkpointer {
            c.stop();
        }
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// The writer's own settings:
/// - WAL checkpoints are left to the store's task (`checkpoint.rs`);
/// - a page cache of 64 MiB instead of 2: a large transaction (an import of
///   50,000 users dirties about 30 MB) no longer spills pages into the WAL
///   and reads them back (the import benchmark: 25,800 → 6,700 reads);
/// - statement journals in memory: every multi-row `INSERT` inside a
///   transaction keeps the pages it changes in one, which spilled into a
///   file under /var/tmp beyond 64 KiB (8,700 page writes a round).
const WRITER: &str =
    "PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;";

/// `extra`: pragmas of this pool's connections beside the common ones.
fn sqlite_pool(max: u32, extra: &'static str) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        // A local file cannot drop the connection: no ping round trip to the
        // connection's thread before every checkout.
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;",
                )
                .await?;
                if !extra.is_empty() {
                    conn.execute(extra).await?;
                }
                Ok(())
            })
        })
}
