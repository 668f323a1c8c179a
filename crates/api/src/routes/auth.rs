//! Login, logout, password change and "who am I" for administrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use twp_domain::AuditEntry;
use twp_store::{admins, audit, now_ms};

use crate::AppState;
use crate::auth::{ClientIp, Session, check_admin_password, hash_off_thread, verify_off_thread};
use crate::crypto::{hash_password, new_token};
use crate::dto::{
    AdministratorDto, LoginInput, LoginResult, PasswordChange, SessionInfo, time_text,
};
use crate::error::{ApiError, ApiResult, ErrorBody};

/// A hash to verify against when the name is unknown, so that response
/// time does not reveal which administrator names exist.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password("twp-unknown-administrator").unwrap_or_default());

fn login_event(action: &str, name: &str, admin_id: Option<i64>, detail: String) -> AuditEntry {
    AuditEntry {
        id: 0,
        at: now_ms(),
        admin_id,
        admin_name: name.to_owned(),
        company_id: None,
        action: action.to_owned(),
        object_type: "session".into(),
        object_id: None,
        object_name: Some(detail),
        before: None,
        after: None,
    }
}

fn too_many(secs: u64, message: String) -> ApiError {
    let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "locked", message);
    e.retry_after = Some(secs);
    e
}

/// Log in as an administrator.
///
/// Returns a bearer token. Repeated failures slow down; after
/// `max_failed_logins` in a row the account is locked for the lock-out
/// period (`twp admin reset-password` unlocks it). In boot mode the answer
/// says the password must be changed first.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginInput,
    responses((status = 200, body = LoginResult), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(input): Json<LoginInput>,
) -> ApiResult<Json<LoginResult>> {
    if let Some(secs) = st.limiter.blocked_for(ip) {
        return Err(too_many(
            secs,
            format!("too many failed logins from {ip}: try again in {secs} s"),
        ));
    }
    // Read and verify on a reader: argon2 takes tens of milliseconds and
    // must not hold SQLite's single writer.
    let cred = admins::credentials(&mut *st.store.read().await?, &input.name).await?;
    let now = now_ms();
    if let Some(c) = &cred
        && let Some(until) = c.locked_until
        && until > now
    {
        let secs = u64::try_from((until - now) / 1000).unwrap_or(1).max(1);
        return Err(too_many(
            secs,
            format!(
                "administrator '{}' is locked after repeated failed logins: try again in {secs} s, \
                 or run 'twp admin reset-password --name {}' on the server",
                c.admin.name, c.admin.name
            ),
        ));
    }
    let hash = cred
        .as_ref()
        .map_or_else(|| DUMMY_HASH.clone(), |c| c.password_hash.clone());
    let password = input.password.clone();
    let ok = verify_off_thread(password, hash).await?;
    let mut tx = st.store.begin().await?;
    let Some(c) = cred.filter(|_| ok) else {
        st.limiter.failed(ip);
        if let Some(c) = admins::credentials(&mut tx, &input.name).await? {
            let failures = c.failed_logins + 1;
            let lock = (failures >= i64::from(st.settings.max_failed_logins))
                .then(|| now + i64::try_from(st.settings.lockout.as_millis()).unwrap_or(i64::MAX));
            admins::record_failure(&mut tx, c.admin.id, lock).await?;
            let action = if lock.is_some() {
                "lockout"
            } else {
                "login_failed"
            };
            audit::record(
                &mut tx,
                &login_event(
                    action,
                    &c.admin.name,
                    Some(c.admin.id),
                    format!("from {ip}"),
                ),
            )
            .await?;
            tx.commit().await?;
            // Slow down guessing: 1, 2, 4 … 16 times failure_delay.
            let exp = u32::try_from(failures.clamp(1, 5) - 1).unwrap_or(0);
            tokio::time::sleep(st.settings.failure_delay * 2u32.pow(exp)).await;
        } else {
            audit::record(
                &mut tx,
                &login_event(
                    "login_failed",
                    &input.name,
                    None,
                    format!("unknown name, from {ip}"),
                ),
            )
            .await?;
            tx.commit().await?;
        }
        return Err(ApiError::unauthorized(
            "wrong administrator name or password",
        ));
    };
    st.limiter.succeeded(ip);
    admins::record_success(&mut tx, c.admin.id).await?;
    let (token, token_hash) = new_token();
    let ttl = i64::try_from(st.settings.session_ttl.as_millis()).unwrap_or(i64::MAX);
    let expires = now.saturating_add(ttl);
    admins::create_session(
        &mut tx,
        &token_hash,
        c.admin.id,
        expires,
        Some(&ip.to_string()),
    )
    .await?;
    audit::record(
        &mut tx,
        &login_event(
            "login",
            &c.admin.name,
            Some(c.admin.id),
            format!("from {ip}"),
        ),
    )
    .await?;
    tx.commit().await?;
    let must = c.admin.must_change_password;
    Ok(Json(LoginResult {
        token,
        expires_at: time_text(expires),
        administrator: c.admin.into(),
        must_change_password: must,
    }))
}

/// End the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(st): State<AppState>, s: Session) -> ApiResult<StatusCode> {
    let mut tx = st.store.begin().await?;
    admins::end_session(&mut tx, &s.token_hash).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The administrator behind the token (allowed in boot mode).
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = SessionInfo), (status = 401, body = ErrorBody)))]
pub async fn me(s: Session) -> Json<SessionInfo> {
    Json(SessionInfo {
        expires_at: time_text(s.expires_at),
        administrator: s.admin.into(),
    })
}

/// Change one's own password (the way out of boot mode).
///
/// Ends every session of this administrator, this one included: log in
/// again with the new password.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(st): State<AppState>,
    s: Session,
    Json(input): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    check_admin_password(&s.admin.name, &input.new_password)?;
    let cred = admins::credentials(&mut *st.store.read().await?, &s.admin.name)
        .await?
        .ok_or_else(|| ApiError::unauthorized("administrator no longer exists"))?;
    let (current, hash) = (input.current_password.clone(), cred.password_hash.clone());
    let ok = verify_off_thread(current, hash).await?;
    if !ok {
        return Err(ApiError::bad_request(
            "currentPassword",
            "wrong_password",
            "the current password is wrong",
        ));
    }
    let new = input.new_password.clone();
    let new_hash = hash_off_thread(new).await?;
    let mut tx = st.store.begin().await?;
    admins::set_password(&mut tx, s.admin.id, &new_hash, false).await?;
    let after = AdministratorDto::from(admins::get(&mut tx, s.admin.id).await?);
    crate::audit::record(
        &mut tx,
        &s.admin,
        crate::audit::Change::new("password_change", "administrator", s.admin.id)
            .name(&s.admin.name)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
