//! Glue between the store and the `twp-access` engine: the installation id,
//! the license in force and the authorization engine.
//!
//! The engine is cached in `AppState` ([`EngineCache`]) and rebuilt from
//! the store only when it may be stale. A cached engine is current when
//! (1) the process's access generation has not moved — it is bumped after
//! every successful write request that may change users, groups, members,
//! domains, companies, licenses or parameters (`lib.rs`, `bump_access`);
//! (2) the store's grant version is the one it was built at — grant writes
//! bump it in their transaction on every node, and update the cached engine
//! in place, so a series of grant writes does not rebuild; the version is
//! read from the store at most once a second (another node's grant write
//! is seen within that time); (3) the day has not changed (a license
//! expires at midnight).
//!
//! Without a valid license in force every application has 0 seats.
//!
//! # Not done here
//! - Directories, intercom groups and phone queues as grant objects or
//!   subjects (no store tables yet: refused with `not_available`).
//! - Another cluster node's user, group or member changes do not reach
//!   this node's cache until its next grant write or generation bump.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use twp_access::authz::{Engine, GrantError, SeatLimits};
use twp_access::license::{Date, InstallationId, InstallationSeed, License, LicenseError, verify};
use twp_store::{AnyConnection, licenses};

use crate::AppState;
use crate::error::ApiError;

/// The installation id, creating the seed on first use.
pub async fn installation_id(c: &mut AnyConnection) -> Result<InstallationId, ApiError> {
    let fresh = InstallationSeed::generate().map_err(ApiError::internal)?;
    let seed = licenses::ensure_seed(c, &fresh.to_hex()).await?;
    let seed = InstallationSeed::from_hex(&seed).map_err(ApiError::internal)?;
    Ok(seed.installation_id())
}

/// The newest license loaded, verified again today: `Err` tells why it is
/// not in force (expired, key no longer trusted…); `None` if none loaded.
pub async fn current_license(
    st: &AppState,
    c: &mut AnyConnection,
) -> Result<Option<Result<License, LicenseError>>, ApiError> {
    let id = installation_id(&mut *c).await?;
    let Some(stored) = licenses::current(c).await? else {
        return Ok(None);
    };
    Ok(Some(verify(
        &stored.text,
        &st.trusted_keys,
        &id,
        Date::today(),
    )))
}

/// Seats per application: the license's, or none at all when no valid
/// license is in force.
pub async fn seat_limits(st: &AppState, c: &mut AnyConnection) -> Result<SeatLimits, ApiError> {
    Ok(match current_license(st, c).await? {
        Some(Ok(l)) => l.body.seat_limits(),
        _ => [Some(0); 8],
    })
}

/// Builds the engine for the whole installation from the store, with the
/// license's seat limits.
async fn build(st: &AppState, c: &mut AnyConnection) -> Result<Engine, ApiError> {
    let limits = seat_limits(st, &mut *c).await?;
    let snapshot = twp_store::grants::snapshot(c).await?;
    let mut engine = Engine::from_snapshot(snapshot).map_err(ApiError::internal)?;
    engine.set_seat_limits(limits);
    Ok(engine)
}

/// What a cached engine was built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    generation: u64,
    grant_version: i64,
    day: i64,
}

/// One engine for the installation, kept between requests (see the
/// module documentation for when it is current).
#[derive(Default)]
pub struct EngineCache {
    generation: AtomicU64,
    slot: Mutex<Option<(Stamp, Arc<Engine>)>>,
    /// The store's grant version as last read or written, and when.
    version_seen: Mutex<Option<(i64, Instant)>>,
}

/// How long the store's grant version is believed without reading it: a
/// grant write of this process updates it at once, another node's is seen
/// within this time.
const GRANT_VERSION_RECHECK: Duration = Duration::from_secs(1);

impl EngineCache {
    /// Marks every cached engine stale: called after a write that may
    /// change what the engine holds.
    pub fn bump(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The write generation: it moves after every write that may change
    /// users, groups, members, domains, companies or the license.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn stamp(&self, grant_version: i64) -> Stamp {
        Stamp {
            generation: self.generation.load(Ordering::SeqCst),
            grant_version,
            day: Date::today().days_since_epoch(),
        }
    }

    fn recent_version(&self) -> Option<i64> {
        let seen = self.version_seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.filter(|(_, at)| at.elapsed() < GRANT_VERSION_RECHECK)
            .map(|(v, _)| v)
    }

    fn saw_version(&self, version: i64) {
        let mut seen = self.version_seen.lock().unwrap_or_else(|p| p.into_inner());
        *seen = Some((version, Instant::now()));
    }

    fn get(&self, want: Stamp) -> Option<Arc<Engine>> {
        let slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref()
            .filter(|(s, _)| *s == want)
            .map(|(_, e)| Arc::clone(e))
    }

    fn take(&self, want: Stamp) -> Option<Arc<Engine>> {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        match slot.take() {
            Some((s, e)) if s == want => Some(e),
            other => {
                *slot = other;
                None
            }
        }
    }

    fn put(&self, stamp: Stamp, engine: Arc<Engine>) {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        // A stamp read before the last bump can only be stale.
        if stamp.generation == self.generation.load(Ordering::SeqCst) {
            *slot = Some((stamp, engine));
        }
    }
}

/// The engine for reading (checks, explain, usage): the cached one when
/// current, else rebuilt and cached. Touches the store only to read the
/// grant version (at most once per [`GRANT_VERSION_RECHECK`]) or to
/// rebuild.
pub async fn engine(st: &AppState) -> Result<Arc<Engine>, ApiError> {
    // The stamp is read before the data: a write landing in between makes
    // the stamp stale, never the cache wrong.
    let (version, conn) = match st.engines.recent_version() {
        Some(v) => (v, None),
        None => {
            let mut c = st.store.read().await?;
            let v = twp_store::grants::version(&mut c).await?;
            st.engines.saw_version(v);
            (v, Some(c))
        }
    };
    let stamp = st.engines.stamp(version);
    if let Some(e) = st.engines.get(stamp) {
        return Ok(e);
    }
    let mut c = match conn {
        Some(c) => c,
        None => st.store.read().await?,
    };
    let e = Arc::new(build(st, &mut c).await?);
    st.engines.put(stamp, Arc::clone(&e));
    Ok(e)
}

/// The engine for a grant write, inside its transaction after
/// `grants::lock_for_write` returned `version`: the cached engine when it
/// is the state just before this write, else rebuilt. The caller updates
/// it and hands it back with [`GrantWrite::done`] after committing.
pub async fn engine_for_grant_write(
    st: &AppState,
    c: &mut AnyConnection,
    version: i64,
) -> Result<GrantWrite, ApiError> {
    let before = st.engines.stamp(version - 1);
    let engine = match st.engines.take(before) {
        Some(e) => Arc::unwrap_or_clone(e),
        None => build(st, c).await?,
    };
    Ok(GrantWrite {
        engine,
        after: Stamp {
            grant_version: version,
            ..before
        },
    })
}

/// An engine being updated by one grant write.
pub struct GrantWrite {
    pub engine: Engine,
    after: Stamp,
}

impl GrantWrite {
    /// Caches the updated engine once the write is committed.
    pub fn done(self, st: &AppState) {
        st.engines.saw_version(self.after.grant_version);
        st.engines.put(self.after, Arc::new(self.engine));
    }
}

/// A refused grant, with the engine's message naming the rule or numbers.
pub fn grant_error(e: GrantError) -> ApiError {
    let (status, code, field) = match &e {
        GrantError::Unknown { .. } => (StatusCode::NOT_FOUND, "not_found", ""),
        GrantError::SeatsExceeded { .. } => (StatusCode::CONFLICT, "seats_exceeded", "object"),
        GrantError::Duplicate { .. } | GrantError::DuplicateId(_) => {
            (StatusCode::CONFLICT, "conflict", "object")
        }
        GrantError::CrossCompany { .. } | GrantError::CrossDomain { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "sharing_rule", "subject")
        }
        GrantError::SubjectNotAllowed { .. } | GrantError::ViewerMustBeUser { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "sharing_rule", "subject")
        }
        GrantError::MemberOtherDomain { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "sharing_rule", "userId")
        }
    };
    ApiError::new(status, code, e.to_string()).with_field(field)
}

/// A refused license file.
pub fn license_error(e: LicenseError) -> ApiError {
    let code = match &e {
        LicenseError::Parse { .. } | LicenseError::Missing(_) | LicenseError::Key(_) => {
            "invalid_license"
        }
        LicenseError::NoSignature | LicenseError::BadSignature => "bad_signature",
        LicenseError::ForeignInstallation { .. } => "foreign_installation",
        LicenseError::Expired { .. } => "license_expired",
    };
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string()).with_field("text")
}
