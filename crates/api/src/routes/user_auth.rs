//! User login, logout and "who am I" for the web apps and API clients
//! (guide 6), and the administrator's view of a user's sessions.
//!
//! A user names itself with its user name and its domain (user names are
//! unique per domain, guide 3.3.4), plus the company when the domain name
//! exists in several. The methods of the user's resolved AuthMethods are
//! tried in order; the first that accepts wins and is recorded on the
//! session.

use std::net::IpAddr;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use twp_access::auth::{AuthMethod, BindError, ldap_bind, windows_user};
use twp_access::authz::{Application, Object};
use twp_domain::{AuditEntry, CompanyId, UserId};
use twp_store::user_sessions::{self, LoginCandidate, NewSession, UserSession};
use twp_store::{audit, companies, domains, now_ms, users};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Admin, ClientIp, verify_off_thread};
use crate::crypto::{hash_password, new_token};
use crate::dto::{UserDto, time_text};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::user_auth::{UserPrincipal, auth_params};

/// Verified against when the user is unknown or has no TWP password, so
/// that timing does not tell which user names exist.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password("twp-unknown-user").unwrap_or_default());

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserLoginInput {
    /// The company's name; needed only when the domain name exists in
    /// several companies.
    pub company: Option<String>,
    /// The user's domain (guide 3.1).
    pub domain: String,
    /// The user name (guide 3.3.4). May be left out behind a trusted
    /// Windows single sign-on proxy, which names the user.
    pub user_name: Option<String>,
    /// The TWS or LDAP password; not needed for None and Windows.
    pub password: Option<String>,
    /// "save" in the guide's login window: a longer-lived session.
    #[serde(default)]
    pub save: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserLoginResult {
    pub token: String,
    pub expires_at: String,
    pub saved: bool,
    /// The method that accepted: `TWS`, `LDAP`, `None` or `Windows`.
    pub method: String,
    /// True when no secret was checked (method None).
    pub insecure: bool,
    pub user_id: i64,
    pub user_name: String,
    pub domain_id: i64,
    pub company_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserSessionDto {
    pub id: i64,
    pub method: String,
    pub insecure: bool,
    pub saved: bool,
    pub created_at: String,
    pub expires_at: String,
    /// The client address at login.
    pub client: Option<String>,
}

impl From<&UserSession> for UserSessionDto {
    fn from(s: &UserSession) -> Self {
        Self {
            id: s.id,
            method: s.method.clone(),
            insecure: s.method == AuthMethod::None.to_string(),
            saved: s.saved,
            created_at: time_text(s.created_at),
            expires_at: time_text(s.expires_at),
            client: s.client.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamedRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmI {
    pub user: UserDto,
    pub domain: NamedRef,
    pub company: NamedRef,
    pub groups: Vec<NamedRef>,
    /// Keys of the applications granted (`caller`, `alerter`…).
    pub applications: Vec<String>,
    pub session: UserSessionDto,
    /// The user's resolved AuthMethods.
    pub auth_methods: String,
    /// Set when AuthMethods lets this user in by name alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokedDto {
    /// How many sessions were ended.
    pub revoked: u64,
}

fn too_many(secs: u64, message: String) -> ApiError {
    let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "locked", message);
    e.retry_after = Some(secs);
    e
}

fn wrong_credentials() -> ApiError {
    ApiError::unauthorized("wrong domain, user name or password")
}

/// An audit entry about a user's login (no administrator behind it).
fn user_event(
    action: &str,
    company: CompanyId,
    user: UserId,
    user_name: &str,
    object_name: String,
) -> AuditEntry {
    AuditEntry {
        id: 0,
        at: now_ms(),
        admin_id: None,
        admin_name: format!("user {user_name}"),
        company_id: Some(company),
        action: action.to_owned(),
        object_type: "user".into(),
        object_id: Some(user.0.to_string()),
        object_name: Some(object_name),
        before: None,
        after: None,
    }
}

/// Counts a wrong password of the user (login or password change) against
/// the client address's throttle and the user's lock-out; returns the
/// failures in a row and whether this one locked the user.
async fn count_wrong_password(
    st: &AppState,
    tx: &mut twp_store::Tx,
    company: CompanyId,
    user: UserId,
    ip: IpAddr,
    now: i64,
) -> ApiResult<(i64, bool)> {
    st.limiter.failed(ip);
    let max = i64::from(st.settings.max_failed_logins);
    let lockout = i64::try_from(st.settings.lockout.as_millis()).unwrap_or(i64::MAX);
    let (failures, locked) = user_sessions::record_failure(tx, company, user, |n| {
        (n >= max).then(|| now.saturating_add(lockout))
    })
    .await?;
    Ok((failures, locked.is_some()))
}

/// The Windows user a trusted proxy vouches for. A header from anywhere
/// else refuses the login: it is an attempt to impersonate.
fn sso_user(st: &AppState, ip: IpAddr, headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(raw) = headers.get(st.settings.sso_header.as_str()) else {
        return Ok(None);
    };
    let text = raw.to_str().map_err(|_| {
        ApiError::unauthorized(format!("{} header is not text", st.settings.sso_header))
    })?;
    // Whether Windows is allowed for the user is checked once it is known.
    let any = twp_access::auth::AuthMethods::parse("Windows").map_err(ApiError::internal)?;
    windows_user(ip, Some(text), &st.settings.trusted_proxies, &any).map_err(|e| {
        st.limiter.failed(ip);
        tracing::warn!(peer = %ip, error = %e, "Windows user header refused");
        ApiError::new(StatusCode::UNAUTHORIZED, "untrusted_proxy", e.to_string())
    })
}

/// How trying the user's methods ended.
enum Outcome {
    Accepted(AuthMethod),
    /// Every method refused; `ldap_down` tells why LDAP could not answer.
    Refused {
        ldap_down: Option<String>,
    },
}

async fn try_methods(
    st: &AppState,
    cand: &LoginCandidate,
    password: &str,
    windows_name: Option<&str>,
) -> ApiResult<Outcome> {
    let params = auth_params(
        &mut *st.store.read().await?,
        cand.company,
        cand.user,
        st.settings.ldap_timeout,
    )
    .await?;
    let mut ldap_down = None;
    let mut hashed = false;
    for &m in params.methods.methods() {
        let accepted = match m {
            AuthMethod::Windows => {
                windows_name.is_some_and(|n| n.to_lowercase() == cand.user_name.to_lowercase())
            }
            AuthMethod::Tws => {
                let hash = cand.password_hash.clone();
                let ok = !password.is_empty() && hash.is_some();
                let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
                hashed = true;
                verify_off_thread(password.to_owned(), hash).await? && ok
            }
            AuthMethod::Ldap => match ldap_bind(&params.ldap, &cand.user_name, password).await {
                Ok(()) => true,
                // A refusal of this name and password, not an outage.
                Err(
                    BindError::InvalidCredentials
                    | BindError::EmptyPassword
                    | BindError::Dn(_)
                    | BindError::Refused { .. },
                ) => false,
                Err(e) => {
                    tracing::warn!(user = %cand.user_name, error = %e, "LDAP authentication unavailable");
                    ldap_down = Some(e.to_string());
                    false
                }
            },
            AuthMethod::None => true,
        };
        if accepted {
            return Ok(Outcome::Accepted(m));
        }
    }
    if !hashed {
        // Same cost as a refused TWS password.
        let _ = verify_off_thread(password.to_owned(), DUMMY_HASH.clone()).await?;
    }
    Ok(Outcome::Refused { ldap_down })
}

/// Log in as a user (guide 6).
///
/// The user's AuthMethods (TWP Server parameter, resolved user → group →
/// domain → default) are tried in order: `Windows` accepts the user named
/// by a trusted reverse proxy's header, `TWS` the password set by the
/// administrator, `LDAP` a bind to AuthLdapServer:AuthLdapPort as
/// AuthLdapDn with `?` replaced by the escaped user name, `None` the user
/// name alone (insecure: flagged on the session). Returns a bearer token;
/// `save` makes it last longer. Repeated failures lock the user for a
/// while (audited); a disabled user is refused.
#[utoipa::path(post, path = "/api/v1/user-auth/login", tag = "user-auth", request_body = UserLoginInput,
    responses((status = 200, body = UserLoginResult), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn login(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(input): Json<UserLoginInput>,
) -> ApiResult<Json<UserLoginResult>> {
    if let Some(secs) = st.limiter.blocked_for(ip) {
        return Err(too_many(
            secs,
            format!("too many failed logins from {ip}: try again in {secs} s"),
        ));
    }
    let windows_name = sso_user(&st, ip, &headers)?;
    let domain = input.domain.trim();
    if domain.is_empty() {
        return Err(ApiError::bad_request(
            "domain",
            "required",
            "the user's domain is required",
        ));
    }
    let user_name = match (input.user_name.as_deref().map(str::trim), &windows_name) {
        (Some(n), _) if !n.is_empty() => n.to_owned(),
        (_, Some(w)) => w.clone(),
        _ => {
            return Err(ApiError::bad_request(
                "userName",
                "required",
                "the user name is required",
            ));
        }
    };
    let password = input.password.clone().unwrap_or_default();
    let mut found = user_sessions::find_login(
        &mut *st.store.read().await?,
        input.company.as_deref(),
        domain,
        &user_name,
    )
    .await?;
    if found.len() > 1 {
        return Err(ApiError::bad_request(
            "company",
            "ambiguous_domain",
            format!("domain '{domain}' exists in several companies: give the company's name"),
        ));
    }
    let Some(cand) = found.pop() else {
        let _ = verify_off_thread(password, DUMMY_HASH.clone()).await?;
        st.limiter.failed(ip);
        return Err(wrong_credentials());
    };
    let now = now_ms();
    if let Some(until) = cand.locked_until.filter(|u| *u > now) {
        let secs = u64::try_from((until - now) / 1000).unwrap_or(1).max(1);
        return Err(too_many(
            secs,
            format!(
                "user '{}' is locked after repeated failed logins: try again in {secs} s",
                cand.user_name
            ),
        ));
    }
    let outcome = try_methods(&st, &cand, &password, windows_name.as_deref()).await?;
    let mut tx = st.store.begin().await?;
    let method = match outcome {
        Outcome::Accepted(m) => m,
        Outcome::Refused {
            ldap_down: Some(why),
        } => {
            // The server being down is not the user's failure: no lock-out.
            st.limiter.failed(ip);
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ldap_unavailable",
                format!("the LDAP authentication could not be done: {why}"),
            ));
        }
        Outcome::Refused { ldap_down: None } => {
            let (failures, locked) =
                count_wrong_password(&st, &mut tx, cand.company, cand.user, ip, now).await?;
            if locked {
                let e = user_event(
                    "user_lockout",
                    cand.company,
                    cand.user,
                    &cand.user_name,
                    format!(
                        "{}@{domain} locked after {failures} failed logins, from {ip}",
                        cand.user_name
                    ),
                );
                audit::record(&mut tx, &e).await?;
            }
            tx.commit().await?;
            let exp = u32::try_from(failures.clamp(1, 5) - 1).unwrap_or(0);
            tokio::time::sleep(st.settings.failure_delay * 2u32.pow(exp)).await;
            return Err(wrong_credentials());
        }
    };
    if !cand.enabled {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "user_disabled",
            format!(
                "user '{}' is disabled: ask your administrator",
                cand.user_name
            ),
        ));
    }
    st.limiter.succeeded(ip);
    user_sessions::record_success(&mut tx, cand.company, cand.user).await?;
    let ttl = if input.save {
        st.settings.user_saved_session_ttl
    } else {
        st.settings.user_session_ttl
    };
    let expires = now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
    let (token, token_hash) = new_token();
    let method_text = method.to_string();
    let client = ip.to_string();
    user_sessions::create_session(
        &mut tx,
        &NewSession {
            token_hash: &token_hash,
            user: cand.user,
            domain: cand.domain,
            company: cand.company,
            method: &method_text,
            saved: input.save,
            expires_at: expires,
            client: Some(&client),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(UserLoginResult {
        token,
        expires_at: time_text(expires),
        saved: input.save,
        insecure: method == AuthMethod::None,
        method: method_text,
        user_id: cand.user.0,
        user_name: cand.user_name,
        domain_id: cand.domain.0,
        company_id: cand.company.0,
    }))
}

/// End the current user session.
#[utoipa::path(post, path = "/api/v1/user-auth/logout", tag = "user-auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(st): State<AppState>, u: UserPrincipal) -> ApiResult<StatusCode> {
    let mut tx = st.store.begin().await?;
    user_sessions::end_session(&mut tx, &u.token_hash).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's own TWS password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserPasswordChange {
    pub current_password: String,
    /// 6 to 1024 characters, as an administrator would set it.
    pub new_password: String,
}

/// Change one's own TWS password (the Caller's "change password").
///
/// Only for a user who has a TWS password (users logging in through LDAP,
/// Windows or None change it there, or have none). The current password
/// is checked like a login: wrong ones count towards the user's lock-out
/// and the client address's throttle; the user's other sessions end, this
/// one stays.
#[utoipa::path(post, path = "/api/v1/user-auth/password", tag = "user-auth", security(("bearer" = [])),
    request_body = UserPasswordChange,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn change_password(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    u: UserPrincipal,
    Json(input): Json<UserPasswordChange>,
) -> ApiResult<StatusCode> {
    if let Some(secs) = st.limiter.blocked_for(ip) {
        return Err(too_many(
            secs,
            format!("too many failed attempts from {ip}: try again in {secs} s"),
        ));
    }
    let s = &u.session;
    let Some(hash) = users::password_hash(&mut *st.store.read().await?, s.company, s.user).await?
    else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_tws_password",
            "this user has no TWS password to change: it logs in through its directory (LDAP), \
             Windows or None (AuthMethods); an administrator can give it one",
        ));
    };
    if !verify_off_thread(input.current_password.clone(), hash).await? {
        let mut tx = st.store.begin().await?;
        let (failures, locked) =
            count_wrong_password(&st, &mut tx, s.company, s.user, ip, now_ms()).await?;
        if locked {
            // whoever holds this session is guessing: it ends with the others
            user_sessions::revoke(&mut tx, s.company, s.user, None).await?;
            let e = user_event(
                "user_lockout",
                s.company,
                s.user,
                &s.user_name,
                format!(
                    "{} locked after {failures} wrong current passwords, from {ip}",
                    s.user_name
                ),
            );
            audit::record(&mut tx, &e).await?;
        }
        tx.commit().await?;
        if locked {
            // an answer that is not a success does not refresh the
            // remembered sessions (`lib.rs`): this one must end now
            st.sessions.sessions_may_have_ended();
        }
        return Err(ApiError::bad_request(
            "currentPassword",
            "wrong_password",
            "the current password is wrong",
        ));
    }
    let new = input.new_password.clone();
    let new_hash =
        tokio::task::spawn_blocking(move || crate::validate::user_password("newPassword", &new))
            .await
            .map_err(ApiError::internal)??;
    let mut tx = st.store.begin().await?;
    users::set_password_hash(&mut tx, s.company, s.user, &new_hash).await?;
    user_sessions::end_other_sessions(&mut tx, s.company, s.user, &u.token_hash).await?;
    user_sessions::record_success(&mut tx, s.company, s.user).await?;
    tx.commit().await?;
    st.limiter.succeeded(ip);
    Ok(StatusCode::NO_CONTENT)
}

/// The user behind the token: domain, company, groups, devices, the
/// applications granted, the session and the user's AuthMethods.
#[utoipa::path(get, path = "/api/v1/user-auth/whoami", tag = "user-auth", security(("bearer" = [])),
    responses((status = 200, body = WhoAmI), (status = 401, body = ErrorBody)))]
pub async fn whoami(State(st): State<AppState>, u: UserPrincipal) -> ApiResult<Json<WhoAmI>> {
    let s = &u.session;
    let mut c = st.store.read().await?;
    let user = users::get(&mut c, s.company, s.user).await?;
    let domain = domains::get(&mut c, s.company, s.domain).await?;
    let company = companies::get(&mut c, s.company).await?;
    let groups = user_sessions::groups_of(&mut c, s.company, s.user).await?;
    let params = auth_params(&mut c, s.company, s.user, st.settings.ldap_timeout).await?;
    drop(c);
    let engine = crate::access::engine(&st).await?;
    let applications = Application::ALL
        .iter()
        .filter(|a| engine.check(s.user, &Object::Application(**a)))
        .map(|a| a.key().to_owned())
        .collect();
    let methods = params.methods.to_string();
    Ok(Json(WhoAmI {
        user: user.into(),
        domain: NamedRef {
            id: domain.id.0,
            name: domain.name,
        },
        company: NamedRef {
            id: company.id.0,
            name: company.name,
        },
        groups: groups
            .into_iter()
            .map(|(id, name)| NamedRef { id: id.0, name })
            .collect(),
        applications,
        session: s.into(),
        warning: crate::routes::parameters::value_warning("AuthMethods", &methods),
        auth_methods: methods,
    }))
}

/// A user's live sessions (newest first), for the administrator.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/users/{userId}/sessions", tag = "user-auth",
    security(("bearer" = [])), params(("companyId" = i64, Path), ("userId" = i64, Path)),
    responses((status = 200, body = Vec<UserSessionDto>), (status = 404, body = ErrorBody)))]
pub async fn list_sessions(
    State(st): State<AppState>,
    a: Admin,
    Path((company, user)): Path<(i64, i64)>,
) -> ApiResult<Json<Vec<UserSessionDto>>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    let list = user_sessions::list_sessions(&mut c, cid, UserId(user)).await?;
    Ok(Json(list.iter().map(UserSessionDto::from).collect()))
}

async fn revoke(
    st: &AppState,
    a: &Admin,
    cid: CompanyId,
    user: UserId,
    session: Option<i64>,
) -> ApiResult<Json<RevokedDto>> {
    let mut tx = st.store.begin().await?;
    let u = users::get(&mut tx, cid, user).await?;
    let revoked = user_sessions::revoke(&mut tx, cid, user, session).await?;
    let what = session.map_or_else(
        || format!("all sessions ({revoked})"),
        |s| format!("session {s}"),
    );
    crate::audit::record(
        &mut tx,
        a.who(),
        crate::audit::Change::new("revoke_sessions", "user", user.0)
            .company(cid)
            .name(&format!("{}: {what}", u.data.user_name)),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(RevokedDto { revoked }))
}

/// End every session of a user (audited).
#[utoipa::path(delete, path = "/api/v1/companies/{companyId}/users/{userId}/sessions", tag = "user-auth",
    security(("bearer" = [])), params(("companyId" = i64, Path), ("userId" = i64, Path)),
    responses((status = 200, body = RevokedDto), (status = 404, body = ErrorBody)))]
pub async fn revoke_all(
    State(st): State<AppState>,
    a: Admin,
    Path((company, user)): Path<(i64, i64)>,
) -> ApiResult<Json<RevokedDto>> {
    let cid = a.company(company)?;
    revoke(&st, &a, cid, UserId(user), None).await
}

/// End one session of a user (audited).
#[utoipa::path(delete, path = "/api/v1/companies/{companyId}/users/{userId}/sessions/{sessionId}", tag = "user-auth",
    security(("bearer" = [])), params(("companyId" = i64, Path), ("userId" = i64, Path), ("sessionId" = i64, Path)),
    responses((status = 200, body = RevokedDto), (status = 404, body = ErrorBody)))]
pub async fn revoke_one(
    State(st): State<AppState>,
    a: Admin,
    Path((company, user, session)): Path<(i64, i64, i64)>,
) -> ApiResult<Json<RevokedDto>> {
    let cid = a.company(company)?;
    revoke(&st, &a, cid, UserId(user), Some(session)).await
}
