//! Versioned migrations, one list per backend, embedded in the binary.
//! A released migration is never edited: its checksum is recorded when it
//! is applied and checked at every start.

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Backend, Store, StoreError, now_ms};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "dialing_plans",
        sqlite: include_str!("../migrations/sqlite/0002_dialing_plans.sql"),
        postgres: include_str!("../migrations/postgres/0002_dialing_plans.sql"),
    },
    Migration {
        version: 3,
        name: "pbx_links",
        sqlite: include_str!("../migrations/sqlite/0003_pbx_links.sql"),
        postgres: include_str!("../migrations/postgres/0003_pbx_links.sql"),
    },
    Migration {
        version: 4,
        name: "access",
        sqlite: include_str!("../migrations/sqlite/0004_access.sql"),
        postgres: include_str!("../migrations/postgres/0004_access.sql"),
    },
    Migration {
        version: 5,
        name: "user_sessions",
        sqlite: include_str!("../migrations/sqlite/0005_user_sessions.sql"),
        postgres: include_str!("../migrations/postgres/0005_user_sessions.sql"),
    },
    Migration {
        version: 6,
        name: "directories",
        sqlite: include_str!("../migrations/sqlite/0006_directories.sql"),
        postgres: include_str!("../migrations/postgres/0006_directories.sql"),
    },
    Migration {
        version: 7,
        name: "user_imports",
        sqlite: include_str!("../migrations/sqlite/0007_user_imports.sql"),
        postgres: include_str!("../migrations/postgres/0007_user_imports.sql"),
    },
];

/// Any fixed number: the PostgreSQL advisory lock that serialises migrations
/// when several nodes start at once.
const PG_MIGRATION_LOCK: i64 = 0x7477_7000_0001;

fn checksum(sql: &str) -> String {
    let digest = Sha256::digest(sql.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) async fn run(store: &Store) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS twp_schema_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let applied: Vec<(i64, String)> =
        sqlx::query("SELECT version, checksum FROM twp_schema_migrations ORDER BY version")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?;
    if let Some((v, _)) = applied
        .iter()
        .find(|(v, _)| MIGRATIONS.iter().all(|m| m.version != *v))
    {
        return Err(StoreError::Migration {
            version: *v,
            name: "unknown",
            problem: "is applied in the database but unknown to this binary: \
                      this database was upgraded by a newer TWP"
                .into(),
        });
    }
    for m in MIGRATIONS {
        let sql = match store.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        let sum = checksum(sql);
        match applied.iter().find(|(v, _)| *v == m.version) {
            Some((_, recorded)) if *recorded == sum => continue,
            Some(_) => {
                return Err(StoreError::Migration {
                    version: m.version,
                    name: m.name,
                    problem: "differs from the one applied to this database \
                              (released migrations must never be edited)"
                        .into(),
                });
            }
            None => {}
        }
        tracing::info!(
            version = m.version,
            name = m.name,
            "applying database migration"
        );
        sqlx::raw_sql(sql)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::Migration {
                version: m.version,
                name: m.name,
                problem: format!("failed: {e}"),
            })?;
        sqlx::query(
            "INSERT INTO twp_schema_migrations (version, name, checksum, applied_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(sum)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
