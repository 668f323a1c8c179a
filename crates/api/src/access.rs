//! Glue between the store and the `twp-access` engine: the installation id,
//! the license in force and the authorization engine.
//!
//! The engine is rebuilt from the store for each request that needs it,
//! inside the request's transaction: it is always consistent with users,
//! groups and members changed by any other endpoint, with no cache to
//! invalidate. The cost (one scan of users, groups, members and grants per
//! grant write or explain) is not measured yet; caching the engine in
//! `AppState`, invalidated on write, is the next step when it matters.
//!
//! Without a valid license in force every application has 0 seats.
//!
//! # Not done here
//! - Directories, intercom groups and phone queues as grant objects or
//!   subjects (no store tables yet: refused with `not_available`).
//! - User login for the web apps (guide 6), the demo's key pair and
//!   license, an engine cached in `AppState` and its benchmark.

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

/// The engine for the whole installation, with the license's seat limits.
pub async fn engine(st: &AppState, c: &mut AnyConnection) -> Result<Engine, ApiError> {
    let limits = seat_limits(st, &mut *c).await?;
    let snapshot = twp_store::grants::snapshot(c).await?;
    let mut engine = Engine::from_snapshot(snapshot).map_err(ApiError::internal)?;
    engine.set_seat_limits(limits);
    Ok(engine)
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
