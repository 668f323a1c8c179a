//! Who may reach a phone or an event stream: an administrator (the domains
//! of its companies) or a logged-in user (its own devices only). The call
//! control and event handlers take a [`Reach`], so administrators and users
//! go through the same code; the only difference is what `Reach` lets by.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use twp_access::authz::{Application, Object};
use twp_domain::{CompanyId, DomainId};
use twp_store::user_sessions::UserSession;

use crate::AppState;
use crate::auth::{Admin, Session};
use crate::crypto::token_hash;
use crate::error::ApiError;
use crate::sessions::{Principal, password_change_required};

/// The applications whose users drive their phone through TWP: TWP
/// Caller (guide 9.1), TWP Alerter (pop-up card and shared call queues,
/// 9.2) and TWP Toolkit (the company's own web applications, 1).
pub const TELEPHONY_APPLICATIONS: [Application; 3] = [
    Application::Caller,
    Application::Alerter,
    Application::Toolkit,
];

pub enum Reach {
    Admin(Admin),
    /// A user and the numbers of its devices.
    User {
        session: UserSession,
        token_hash: String,
        numbers: Vec<String>,
    },
}

impl Reach {
    /// The session behind a token hash: an administrator's (out of boot
    /// mode) or a user's.
    pub async fn from_token_hash(st: &AppState, hash: &str) -> Result<Reach, ApiError> {
        let found = crate::sessions::principal(st, hash)
            .await?
            .ok_or_else(|| ApiError::unauthorized("session expired or unknown: log in again"))?;
        Ok(match &*found {
            Principal::Admin { admin, .. } if admin.must_change_password => {
                return Err(password_change_required(&admin.name));
            }
            Principal::Admin { admin, expires_at } => Reach::Admin(Admin(Session {
                admin: admin.clone(),
                token_hash: hash.to_owned(),
                expires_at: *expires_at,
            })),
            Principal::User { session, numbers } => Reach::User {
                session: session.clone(),
                numbers: numbers.clone(),
                token_hash: hash.to_owned(),
            },
        })
    }

    pub fn token_hash(&self) -> &str {
        match self {
            Reach::Admin(a) => &a.0.token_hash,
            Reach::User { token_hash, .. } => token_hash,
        }
    }

    /// The company, if this caller may reach it (else *not found*).
    pub fn company(&self, id: i64) -> Result<CompanyId, ApiError> {
        match self {
            Reach::Admin(a) => a.company(id),
            Reach::User { session, .. } if session.company.0 == id => Ok(session.company),
            Reach::User { .. } => Err(ApiError::not_found("company")),
        }
    }

    /// Checks that a user may drive its phone through TWP: an authorization
    /// for one of [`TELEPHONY_APPLICATIONS`] (guide 7.4.1: each consumes a
    /// seat of that application's license). Administrators always may.
    /// Read from the access engine at each request, so a grant or its
    /// removal counts at once.
    pub async fn telephony(&self, st: &AppState) -> Result<(), ApiError> {
        let Reach::User { session, .. } = self else {
            return Ok(());
        };
        let engine = crate::access::engine(st).await?;
        if TELEPHONY_APPLICATIONS
            .iter()
            .any(|a| engine.check(session.user, &Object::Application(*a)))
        {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "application_not_authorized",
            "this user is authorized for none of TWP Caller, TWP Alerter and TWP Toolkit, \
             which give the telephony: an administrator grants one under Users / Authorizations \
             (POST /api/v1/companies/{companyId}/grants, objectType \"application\"); \
             GET /api/v1/user-auth/whoami lists the user's applications",
        ))
    }

    /// Checks the domain and the device: a user reaches only its own
    /// domain and devices; another user's phone is *not found*.
    pub fn phone(&self, domain: DomainId, number: &str) -> Result<(), ApiError> {
        let Reach::User {
            session, numbers, ..
        } = self
        else {
            return Ok(());
        };
        if session.domain != domain {
            return Err(ApiError::not_found("domain"));
        }
        if !numbers.iter().any(|n| n == number) {
            return Err(ApiError::not_found("device"));
        }
        Ok(())
    }

    /// A user's device numbers in `domain`; `None` for an administrator
    /// (every device of the domain).
    pub fn own_numbers(&self, domain: DomainId) -> Option<Result<&[String], ApiError>> {
        match self {
            Reach::Admin(_) => None,
            Reach::User {
                session, numbers, ..
            } => Some(if session.domain == domain {
                Ok(numbers)
            } else {
                Err(ApiError::not_found("domain"))
            }),
        }
    }
}

impl FromRequestParts<AppState> for Reach {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "log in (administrators: POST /api/v1/auth/login, users: POST /api/v1/user-auth/login) \
                     and send the token as 'Authorization: Bearer <token>'",
                )
            })?;
        Reach::from_token_hash(st, &token_hash(token)).await
    }
}
