//! Administrator sessions: bearer tokens checked against the store (through
//! the session cache, `sessions.rs`), and
//! boot mode — an administrator whose password must change may call nothing
//! but the password change, `me` and logout.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use twp_domain::{Administrator, CompanyId};

use crate::AppState;
use crate::crypto::token_hash;
use crate::error::ApiError;
use crate::sessions::{Principal, password_change_required};

/// A logged-in administrator, whatever the state of its password.
pub struct Session {
    pub admin: Administrator,
    pub token_hash: String,
    pub expires_at: i64,
}

/// A logged-in administrator allowed to administer (password changed).
pub struct Admin(pub Session);

impl Admin {
    pub fn who(&self) -> &Administrator {
        &self.0.admin
    }

    /// Refuses, as not found, a company outside this administrator's scope:
    /// a scoped administrator cannot even learn that it exists.
    pub fn company(&self, id: i64) -> Result<CompanyId, ApiError> {
        let c = CompanyId(id);
        if self.0.admin.scope.allows(c) {
            Ok(c)
        } else {
            Err(ApiError::not_found("company"))
        }
    }

    pub fn require_super_user(&self) -> Result<(), ApiError> {
        if self.0.admin.scope.is_super_user() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "only a super user administrator may do this",
            ))
        }
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or_else(|| {
            ApiError::unauthorized(
                "log in with POST /api/v1/auth/login and send the token as 'Authorization: Bearer <token>'",
            )
        })?;
        let hash = token_hash(token);
        match crate::sessions::principal(state, &hash).await?.as_deref() {
            Some(Principal::Admin { admin, expires_at }) => Ok(Session {
                admin: admin.clone(),
                token_hash: hash,
                expires_at: *expires_at,
            }),
            _ => Err(ApiError::unauthorized(
                "session expired or unknown: log in again",
            )),
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let s = Session::from_request_parts(parts, state).await?;
        if s.admin.must_change_password {
            return Err(password_change_required(&s.admin.name));
        }
        Ok(Admin(s))
    }
}

/// The client's address, when the server knows it.
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientIp(ip))
    }
}

/// Password rules for administrators: long enough, not the name, not the
/// factory default.
pub fn check_admin_password(name: &str, password: &str) -> Result<(), ApiError> {
    let field = "newPassword";
    if password.chars().count() < 8 {
        return Err(ApiError::bad_request(
            field,
            "weak_password",
            "must be at least 8 characters",
        ));
    }
    if password.len() > 1024 {
        return Err(ApiError::bad_request(
            field,
            "too_long",
            "must be at most 1024 bytes",
        ));
    }
    if password.eq_ignore_ascii_case(name) || password.eq_ignore_ascii_case("tws") {
        return Err(ApiError::bad_request(
            field,
            "weak_password",
            "must differ from the administrator's name and from the default 'tws'",
        ));
    }
    Ok(())
}

/// Hashes a password with argon2id on the blocking pool: it takes tens of
/// milliseconds and must not hold an async worker.
pub async fn hash_off_thread(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || crate::crypto::hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// Checks a password against an argon2 hash on the blocking pool.
pub async fn verify_off_thread(password: String, hash: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || crate::crypto::verify_password(&password, &hash))
        .await
        .map_err(ApiError::internal)
}
