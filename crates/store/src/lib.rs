//! TWP's store: one API over SQLite (the default, a file in WAL mode) and
//! PostgreSQL (larger sites). The only crate that knows SQL.
//!
//! Both backends run the same SQL text through sqlx's `Any` driver: the
//! statements keep to the common dialect (`$n` parameters, `RETURNING`,
//! epoch-millisecond times) and each backend has its own migration files.
//! Every write goes through [`Store::begin`], so a request that fails half
//! way leaves nothing behind; SQLite gets a single writer connection so that
//! write transactions queue instead of failing with `SQLITE_BUSY`.

pub mod admins;
pub mod audit;
mod checkpoint;
pub mod companies;
mod creations;
pub mod dialplans;
pub mod directories;
pub mod domains;
mod error;
pub mod grants;
pub mod groups;
pub mod licenses;
mod migrate;
mod page;
pub mod parameters;
pub mod pbx_links;
mod pool;
mod rowjson;
mod script;
mod sqlbuild;
pub mod stats;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod user_imports;
pub mod user_sessions;
pub mod user_sync;
pub mod users;

pub use error::StoreError;
pub use page::{Page, PageRequest};
pub use pool::{Backend, Conn, Store, StoreOptions, Tx};
/// The connection store functions take (a [`Tx`] or a [`Conn`] derefs to it).
pub use sqlx::AnyConnection;

/// Milliseconds since the Unix epoch, the store's time unit.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The case-insensitive key that uniqueness of names is checked on.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}
