//! Who is behind a bearer token, kept in memory between requests.
//!
//! Every request names its session; reading it from the store costs two or
//! three round trips to the database (a thread hand-off each on SQLite),
//! more than the work of a look-up or a user creation. [`SessionCache`]
//! keeps what the store said, keyed by the token's hash, and asks again
//! when it may be stale:
//!
//! * after any successful request that may end a session or change an
//!   administrator (logout, password change, administrator writes, user
//!   session revocation: `lib.rs`, `note_write`), every entry is stale;
//! * a user's entry also holds the user's devices and enabled state: it is
//!   stale after any write that may change users (the access engine's
//!   generation, bumped by the same middleware and by import runs);
//! * every entry is asked again after [`RECHECK`] at most, so that a change
//!   made by another process (`twp admin reset-password`, another node)
//!   takes effect within that time;
//! * an entry past its session's expiry is never used.
//!
//! Only sessions the store confirmed are kept: an unknown token always
//! goes to the store (and a flood of them cannot grow the map).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use twp_domain::Administrator;
use twp_store::user_sessions::{self, UserSession};
use twp_store::{admins, now_ms, users};

use crate::AppState;
use crate::error::ApiError;

/// How long a confirmed session is believed without asking the store.
pub const RECHECK: Duration = Duration::from_secs(5);

/// Entries kept at most; past it the map starts again empty.
const CAPACITY: usize = 100_000;

/// The holder of a live session.
#[derive(Debug, Clone)]
pub enum Principal {
    Admin {
        admin: Administrator,
        expires_at: i64,
    },
    User {
        session: UserSession,
        /// The numbers of the user's devices.
        numbers: Vec<String>,
    },
}

impl Principal {
    fn expires_at(&self) -> i64 {
        match self {
            Principal::Admin { expires_at, .. } => *expires_at,
            Principal::User { session, .. } => session.expires_at,
        }
    }
}

/// What an entry was confirmed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    ended: u64,
    users: u64,
}

struct Entry {
    principal: Arc<Principal>,
    stamp: Stamp,
    checked: Instant,
}

#[derive(Default)]
pub struct SessionCache {
    /// Bumped when a session may have ended or an administrator changed.
    ended: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
}

impl SessionCache {
    /// Marks every entry stale.
    pub fn sessions_may_have_ended(&self) {
        self.ended.fetch_add(1, Ordering::SeqCst);
    }

    fn stamp(&self, st: &AppState) -> Stamp {
        Stamp {
            ended: self.ended.load(Ordering::SeqCst),
            users: st.engines.generation(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // entries are inserted whole: a panic elsewhere leaves them valid
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, hash: &str, now: Stamp) -> Option<Arc<Principal>> {
        let entries = self.lock();
        let e = entries.get(hash)?;
        let current = match *e.principal {
            Principal::Admin { .. } => e.stamp.ended == now.ended,
            Principal::User { .. } => e.stamp == now,
        };
        (current && e.checked.elapsed() < RECHECK && e.principal.expires_at() > now_ms())
            .then(|| Arc::clone(&e.principal))
    }

    fn put(&self, hash: &str, stamp: Stamp, principal: Arc<Principal>) {
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            hash.to_owned(),
            Entry {
                principal,
                stamp,
                checked: Instant::now(),
            },
        );
    }
}

/// The principal behind a token hash: from memory when current, else from
/// the store (an administrator's session first, then a user's); `None`
/// when the session is unknown, expired, revoked or its user disabled.
pub async fn principal(st: &AppState, hash: &str) -> Result<Option<Arc<Principal>>, ApiError> {
    // The stamp is read before the store: a write landing in between makes
    // the new entry stale at once, never wrong.
    let stamp = st.sessions.stamp(st);
    if let Some(p) = st.sessions.get(hash, stamp) {
        return Ok(Some(p));
    }
    let mut c = st.store.read().await?;
    let found = if let Some((admin, expires_at)) = admins::session(&mut c, hash).await? {
        Principal::Admin { admin, expires_at }
    } else if let Some(session) = user_sessions::session(&mut c, hash).await? {
        let user = users::get(&mut c, session.company, session.user).await?;
        Principal::User {
            numbers: user.devices.into_iter().map(|d| d.data.number).collect(),
            session,
        }
    } else {
        return Ok(None);
    };
    let found = Arc::new(found);
    st.sessions.put(hash, stamp, Arc::clone(&found));
    Ok(Some(found))
}

/// The error for an administrator still in boot mode.
pub fn password_change_required(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "password_change_required",
        format!(
            "administrator '{name}' still has its initial password (boot mode): change it with \
             POST /api/v1/auth/password {{\"currentPassword\", \"newPassword\"}} before anything else"
        ),
    )
}
