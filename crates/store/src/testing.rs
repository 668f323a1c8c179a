//! Throw-away databases for tests: a SQLite file in a temporary folder, or a
//! fresh PostgreSQL database that is dropped afterwards. PostgreSQL is taken
//! from `TWP_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! when it cannot be reached the test fails: the test script starts it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{AnyConnection, Connection, Executor};

use crate::{Backend, Store, StoreOptions};

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A store on a database created for one test.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Postgres { admin_url: String, name: String },
}

fn unique_suffix() -> String {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}_{}_{}", std::process::id(), t % 1_000_000_000, n)
}

pub fn postgres_admin_url() -> String {
    std::env::var("TWP_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        sqlx::any::install_default_drivers();
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("twp-test-{}", unique_suffix()));
                std::fs::create_dir_all(&dir).expect("create temp dir");
                let url = format!("sqlite://{}/twp.db", dir.display());
                let store = Store::open(&StoreOptions {
                    url: url.clone(),
                    max_connections: 4,
                })
                .await
                .expect("open sqlite store");
                Self {
                    store,
                    url,
                    cleanup: Cleanup::Dir(dir),
                }
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let name = format!("twp_test_{}", unique_suffix());
                let mut admin = AnyConnection::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL at {admin_url} is needed by this test ({e}); run the test script, which starts it")
                });
                admin
                    .execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create test database");
                let (base, _) = admin_url.rsplit_once('/').expect("database URL has a path");
                let url = format!("{base}/{name}");
                let store = Store::open(&StoreOptions {
                    url: url.clone(),
                    max_connections: 4,
                })
                .await
                .expect("open postgres store");
                Self {
                    store,
                    url,
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
        }
    }

    /// Closes the store and removes its database.
    pub async fn drop_db(self) {
        self.store.close().await;
        match self.cleanup {
            Cleanup::Dir(d) => {
                let _ = std::fs::remove_dir_all(d);
            }
            Cleanup::Postgres { admin_url, name } => {
                if let Ok(mut admin) = AnyConnection::connect(&admin_url).await {
                    let _ = admin
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                }
            }
        }
    }
}
