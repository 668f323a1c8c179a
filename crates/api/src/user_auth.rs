//! Users' sessions (guide 6): the bearer token of a user logged in through
//! `/api/v1/user-auth/login`, checked against `user_sessions`. A user token
//! opens only the user's own endpoints (`/user-auth/…`, `/me/…`); an
//! administrator token is not a user token and the other way round.
//!
//! The methods themselves (TWS, LDAP, None, Windows) are tried in
//! `routes::user_auth`, which owns the HTTP shapes; this module holds what
//! they share: the extractor and the user's resolved authentication
//! parameters.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use twp_access::auth::{AuthMethods, LdapBindSettings, LdapSecurity};
use twp_access::params::{UserScope, Value};
use twp_domain::{CompanyId, GroupId, UserId};
use twp_store::user_sessions::UserSession;
use twp_store::{AnyConnection, parameters};

use crate::AppState;
use crate::crypto::token_hash;
use crate::error::{ApiError, ApiResult};
use crate::routes::parameters::param_store_for;
use crate::sessions::Principal;

/// A logged-in user (live session, user enabled).
pub struct UserPrincipal {
    pub session: UserSession,
    pub token_hash: String,
}

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

impl FromRequestParts<AppState> for UserPrincipal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or_else(|| {
            ApiError::unauthorized(
                "log in with POST /api/v1/user-auth/login and send the token as 'Authorization: Bearer <token>'",
            )
        })?;
        let hash = token_hash(token);
        match crate::sessions::principal(state, &hash).await?.as_deref() {
            Some(Principal::User { session, .. }) => Ok(UserPrincipal {
                session: session.clone(),
                token_hash: hash,
            }),
            _ => Err(ApiError::unauthorized(
                "user session expired, revoked or unknown (or the user is disabled): log in again",
            )),
        }
    }
}

/// What authenticating one user needs from its parameters (TWP Server,
/// resolved user → group → domain → default).
#[derive(Debug, Clone)]
pub struct AuthParams {
    pub methods: AuthMethods,
    pub ldap: LdapBindSettings,
}

/// A user's parameters, each resolved user → group → domain → default.
pub struct UserParams {
    store: twp_access::params::ParamStore,
    user: UserId,
    domain: twp_domain::DomainId,
    groups: Vec<GroupId>,
}

impl UserParams {
    pub async fn load(c: &mut AnyConnection, company: CompanyId, user: UserId) -> ApiResult<Self> {
        let scope = parameters::user_scope(c, company, user).await?;
        Ok(Self {
            store: param_store_for(&scope)?,
            user: scope.user,
            domain: scope.domain,
            groups: scope.groups.iter().map(|(g, _)| *g).collect(),
        })
    }

    /// The value in force for the user.
    pub fn get(&self, key: &str) -> ApiResult<Value> {
        let us = UserScope {
            user: self.user,
            domain: self.domain,
            groups: &self.groups,
        };
        self.store
            .resolve(key, &us)
            .map(|r| r.value.clone())
            .map_err(ApiError::internal)
    }
}

/// Resolves AuthMethods and the AuthLdap… parameters for a user.
pub async fn auth_params(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
    ldap_timeout: Duration,
) -> Result<AuthParams, ApiError> {
    let params = UserParams::load(c, company, user).await?;
    let get = |key: &str| params.get(key);
    let methods = AuthMethods::parse(&get("AuthMethods")?.to_string())
        .map_err(|e| ApiError::internal(format!("stored AuthMethods: {e}")))?;
    let port = match get("AuthLdapPort")? {
        Value::Integer(p) => u16::try_from(p).unwrap_or(389),
        _ => 389,
    };
    let security =
        LdapSecurity::parse(&get("AuthLdapSecurity")?.to_string()).unwrap_or(LdapSecurity::None);
    let check_certificate = !matches!(get("AuthLdapCheckCertificate")?, Value::YesNo(false));
    Ok(AuthParams {
        methods,
        ldap: LdapBindSettings {
            server: get("AuthLdapServer")?.to_string(),
            port,
            dn_template: get("AuthLdapDn")?.to_string(),
            security,
            check_certificate,
            timeout: ldap_timeout,
        },
    })
}
