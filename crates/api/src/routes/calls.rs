//! Call control web services (guide 1.3, 9.1): make, answer, hang up, hold,
//! retrieve, consult, transfer, conference, divert, intercept, DTMF,
//! forwarding and do-not-disturb, on a supervised device of a domain.
//! Numbers typed by people go through the domain's dialing plan first.
//!
//! Administrators reach the devices of their companies' domains; a user
//! logged in with `/api/v1/user-auth/login` reaches the same endpoints for
//! its own devices only (`crate::reach::Reach`): another user's phone is
//! *not found*.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use twp_domain::DomainId;
use twp_telephony::{ControlError, ForwardingType};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::hub::DomainTelephony;
use crate::reach::Reach;
use crate::routes::telephony::{DeviceStateDto, device_dto};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DialInput {
    /// The number as the user typed it; the dialing plan turns it into
    /// what the PBX dials (e.g. `+33 1 23 45 67 89` → `00123456789`).
    pub to: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallResult {
    /// The call the request created or joined, when the PBX tells it.
    pub call_id: Option<String>,
    /// The number sent to the PBX after the dialing plan.
    pub dialed: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DigitsInput {
    /// DTMF: digits, `*`, `#`, `A`–`D`; at most 64.
    pub digits: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallPair {
    /// The held call; with `activeCall`, or both absent to take them from
    /// the device's state.
    pub held_call: Option<String>,
    pub active_call: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsultInput {
    pub to: String,
    /// The call to hold; default: the connected one.
    pub call_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PickupInput {
    /// The device where the call rings (interception); absent: group pickup.
    pub from: Option<String>,
    pub call_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForwardingRule {
    /// ECMA-269 type: `forwardImmediate`, `forwardBusy`, `forwardNoAns`,
    /// their `…Int`/`…Ext` variants, `forwardDND`…
    #[serde(rename = "type")]
    pub kind: String,
    /// Destination; absent or empty on a PUT cancels that forwarding.
    pub destination: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DndInput {
    pub on: bool,
}

/// The path of a supervised device.
type DevicePath = Path<(i64, i64, String)>;
type CallPath = Path<(i64, i64, String, String)>;

/// A control error as the client should see it: what failed and what to do.
pub fn control_error(e: ControlError) -> ApiError {
    let (status, code) = match &e {
        ControlError::UnknownDevice { .. } => (StatusCode::NOT_FOUND, "device_not_supervised"),
        ControlError::NotSupervised { .. } => (StatusCode::CONFLICT, "not_supervised"),
        ControlError::LinkDown { .. } | ControlError::Link { .. } => {
            (StatusCode::SERVICE_UNAVAILABLE, "link_down")
        }
        ControlError::NoSuchCall { .. } => (StatusCode::CONFLICT, "no_such_call"),
        ControlError::Refused { .. } => (StatusCode::CONFLICT, "pbx_refused"),
        ControlError::Timeout { .. } => (StatusCode::GATEWAY_TIMEOUT, "pbx_timeout"),
        ControlError::Unexpected { .. } => (StatusCode::BAD_GATEWAY, "pbx_unexpected"),
        ControlError::InvalidNumber { .. } => {
            return ApiError::bad_request("to", "invalid_number", e.to_string());
        }
        ControlError::CallbackNotConfigured => (StatusCode::CONFLICT, "callback_not_configured"),
        ControlError::CallbackNoAnswer { .. } | ControlError::CallbackDropped { .. } => {
            (StatusCode::CONFLICT, "callback_failed")
        }
        ControlError::ShuttingDown => (StatusCode::SERVICE_UNAVAILABLE, "shutting_down"),
    };
    ApiError::new(status, code, e.to_string())
}

/// The running engine of a domain the caller may reach, and the device,
/// which must be supervised by it (and, for a user, be its own, with an
/// application that gives the telephony).
pub(crate) async fn engine_for(
    st: &AppState,
    a: &Reach,
    company: i64,
    domain: i64,
    number: &str,
) -> ApiResult<Arc<DomainTelephony>> {
    let cid = a.company(company)?;
    a.phone(DomainId(domain), number)?;
    a.telephony(st).await?;
    let d = st
        .telephony
        .domain(DomainId(domain))
        .filter(|d| d.company == cid)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "telephony_not_running",
                "this domain's telephony is not running: check its links \
                 (GET …/domains/{domainId}/telephony) and restart it",
            )
        })?;
    if d.engine.device(number).is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "device_not_supervised",
            format!(
                "device {number} is not supervised in this domain: give it to a user \
                 (non-SIP device) and restart the domain's telephony"
            ),
        ));
    }
    Ok(d)
}

/// The number the PBX must dial for what a person typed.
async fn dial(st: &AppState, d: &DomainTelephony, typed: &str, field: &str) -> ApiResult<String> {
    let plan = st.telephony.plan(&st.store, d.company, d.domain).await?;
    plan.dial(typed)
        .map_err(|e| ApiError::bad_request(field, "invalid_number", e.to_string()))
}

/// `current` (or `-`) in a call path means "the call in the right state".
fn call_ref(id: &str) -> Option<&str> {
    (!matches!(id, "current" | "-")).then_some(id)
}

fn result(call_id: Option<String>, dialed: Option<String>) -> Json<CallResult> {
    Json(CallResult { call_id, dialed })
}

/// The device's state: calls, features, supervision.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/phones/{number}", tag = "calls", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("number" = String, Path)),
    responses((status = 200, body = DeviceStateDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn state(
    State(st): State<AppState>,
    a: Reach,
    Path((c, d, n)): DevicePath,
) -> ApiResult<Json<DeviceStateDto>> {
    let e = engine_for(&st, &a, c, d, &n).await?;
    let s = e
        .engine
        .device(&n)
        .ok_or_else(|| ApiError::not_found("device"))?;
    Ok(Json(device_dto(e.domain.0, s)))
}

/// Call a number from the device.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains/{domainId}/phones/{number}/calls", tag = "calls", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("number" = String, Path)), request_body = DialInput,
    responses((status = 200, body = CallResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn make_call(
    State(st): State<AppState>,
    a: Reach,
    Path((c, d, n)): DevicePath,
    Json(i): Json<DialInput>,
) -> ApiResult<Json<CallResult>> {
    let e = engine_for(&st, &a, c, d, &n).await?;
    let to = dial(&st, &e, &i.to, "to").await?;
    let id = e.engine.make_call(&n, &to).await.map_err(control_error)?;
    Ok(result(Some(id), Some(to)))
}

macro_rules! call_action {
    ($(#[$doc:meta])* $name:ident, $verb:literal, $method:ident) => {
        $(#[$doc])*
        #[utoipa::path(post, path = concat!("/api/v1/companies/{companyId}/domains/{domainId}/phones/{number}/calls/{callId}/", $verb), tag = "calls", security(("bearer" = [])),
            params(("companyId" = i64, Path), ("domainId" = i64, Path), ("number" = String, Path),
                ("callId" = String, Path, description = "A call id, or `current` for the call in the right state")),
            responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
        pub async fn $name(State(st): State<AppState>, a: Reach, Path((c, d, n, call)): CallPath) -> ApiResult<StatusCode> {
            let e = engine_for(&st, &a, c, d, &n).await?;
            e.engine.$method(&n, call_ref(&call)).await.map_err(control_error)?;
            Ok(StatusCode::NO_CONTENT)
        }
    };
}

call_action!(
    /// Answer a ringing call.
    answer, "answer", answer);
call_action!(
    /// Hang up (clear the device's connection).
    hang_up, "hangup", hang_up);
call_action!(
    /// Put a connected call on hold.
    hold, "hold", hold);
call_action!(
    /// Take a held call back.
    retrieve, "retrieve", retrieve);

/// Divert a ringing call to another number (DeflectCall).
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains/{domainId}/phones/{number}/calls/{callId}/deflect", tag = "calls", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("number" = String, Path), ("callId" = String, Path)), request_body = DialInput,
    responses((status = 200, body = CallResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn deflect(
    State(st): State<AppState>,
    a: Reach,
    Path((c, d, n, call)): CallPath,
    Json(i): Json<DialInput>,
) -> ApiResult<Json<CallResult>> {
    let e = engine_for(&st, &a, c, d, &n).await?;
    let to = dial(&st, &e, &i.to, "to").await?;
    e.engine
        .deflect(&n, call_ref(&call), &to)
        .await
        .map_err(control_error)?;
    Ok(result(None, Some(to)))
}

/// Transfer a connected call to a number without consultation (blind).
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains/{domainId}/phones/{number}/calls/{callId}/transfer", tag = "calls", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("number" = String, Path), ("callId" = String, Path)), request_body = DialInput,
    responses((status = 200, body = CallResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn blind_transfer(
    State(st): State<AppState>,
    a: Reach,
    Path((c, d, n, call)): CallPath,
    Json(i): Json<DialInput>,
) -> ApiResult<Json<CallResult>> {
    let e = engine_for(&st, &a, c, d, &n).await?;
    let to = dial(&st, &e, &i.to, "to").await?;
    let id = e
        .engine
        .single_step_transfer(&n, call_ref(&call), &to)
        .await
        .map_err(control_error)?;
    Ok(result(id, Some(to)))
}

/// Send DTMF digits on a connected call.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains/{domainId}/phones/{number}/calls/{callId}/digits", tag = "calls", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("number" = String, Path), ("callId" = String, Path)), request_body = DigitsInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn digits(
    State(st): State<AppState>,
    a: Reach,
    Path((c, d, n, call)): CallPath,
    Json(i): Json<DigitsInput>,
) -> ApiResult<StatusCode> {
    let e = engine_for(&st, &a, c, d, &n).await?;
    e.engine
        .send_digits(&n, call_ref(&call), &i.digits)
        .await
        .map_err(|err| match err {
            ControlError::InvalidNumber { .. } => ApiError::bad_request(
                "digits",
                "invalid_digits",
                "DTMF digits are 0-9, *, #, A-D; 1 to 64 of them",
            ),
            other => control_error(other),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Hold the connected call and call another number (consultation).
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains/{domainId}/phones/{number}/consult", tag = "calls", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("number" = String, Path)), request_body = ConsultInput,
    responses((status = 200, body = CallResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn consult(
    State(st): State<AppState>,
    a: Reach,
    Path((c, d, n)): DevicePath,
    Json(i): Json<ConsultInput>,
) -> ApiResult<Json<CallResult>> {
    let e = engine_for(&st, &a, c, d, &n).await?;
    let to = dial(&st, &e, &i.to, "to").await?;
    let id = e
        .engine
        .consult(&n, i.call_id.as_deref(), &to)
        .await
        .map_err(control_error)?;
    Ok(result(Some(id), Some(to)))
}

fn pair(p: &CallPair) -> ApiResult<Option<(&str, &str)>> {
    match (p.held_call.as_deref(), p.active_call.as_deref()) {
        (Some(h), Some(a)) => Ok(Some((h, a))),
        (None, None) => Ok(None),
        _ => Err(ApiError::bad_request(
            "heldCall",
            "incomplete_pair",
            "give both heldCall and activeCall, or neither",
        )),
    }
}

/// Transfer the held call to the active one (after a consultation); the
/// device leaves the call.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains/{domainId}/phones/{number}/transfer", tag = "calls", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("number" = String, Path)), request_body = CallPair,
    responses((status = 200, body = CallResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn transfer(
    State(st): State<AppState>,
    a: Reach,
    Path((c, d, n)): DevicePath,
    Json(p): Json<CallPair>,
) -> ApiResult<Json<CallResult>> {
    let e = engine_for(&st, &a, c, d, &n).await?;
    let id = e
        .engine
        .transfer(&n, pair(&p)?)
        .await
        .map_err(control_error)?;
    Ok(result(id, None))
}

/// Join the held and the active call in a conference.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains/{domainId}/phones/{number}/conference", tag = "calls", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("number" = String, Path)), request_body = CallPair,
    responses((status = 200, body = CallResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn conference(
    State(st): State<AppState>,
    a: Reach,
    Path((c, d, n)): DevicePath,
    Json(p): Json<CallPair>,
) -> ApiResult<Json<CallResult>> {
    let e = engine_for(&st, &a, c, d, &n).await?;
    let id = e
        .engine
        .conference(&n, pair(&p)?)
        .await
        .map_err(control_error)?;
    Ok(result(Some(id), None))
}

/// Take a call ringing on another device (interception), or, without
/// `from`, a call ringing in the device's pickup group.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains/{domainId}/phones/{number}/pickup", tag = "calls", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("number" = String, Path)), request_body = PickupInput,
    responses((status = 200, body = CallResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn pickup(
    State(st): State<AppState>,
    a: Reach,
    Path((c, d, n)): DevicePath,
    Json(p): Json<PickupInput>,
) -> ApiResult<Json<CallResult>> {
    let e = engine_for(&st, &a, c, d, &n).await?;
    let id = match p.from.as_deref() {
        Some(from) => {
            if e.engine.device(from).is_none() {
                return Err(ApiError::bad_request(
                    "from",
                    "device_not_supervised",
                    format!("device {from} is not supervised in this domain"),
                ));
            }
            Some(
                e.engine
                    .pickup(&n, from, p.call_id.as_deref())
                    .await
                    .map_err(control_error)?,
            )
        }
        None => e.engine.group_pickup(&n).await.map_err(control_error)?,
    };
    Ok(result(id, None))
}

/// The device's forwarding rules, read from the PBX.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/phones/{number}/forwarding", tag = "calls", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("number" = String, Path)),
    responses((status = 200, body = Vec<ForwardingRule>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn get_forwarding(
    State(st): State<AppState>,
    a: Reach,
    Path((c, d, n)): DevicePath,
) -> ApiResult<Json<Vec<ForwardingRule>>> {
    let e = engine_for(&st, &a, c, d, &n).await?;
    let rules = e.engine.get_forwarding(&n).await.map_err(control_error)?;
    Ok(Json(
        rules
            .into_iter()
            .map(|f| ForwardingRule {
                kind: f.kind.token().into(),
                destination: Some(f.destination),
            })
            .collect(),
    ))
}

/// Set (or cancel, with no destination) one forwarding of the device.
#[utoipa::path(put, path = "/api/v1/companies/{companyId}/domains/{domainId}/phones/{number}/forwarding", tag = "calls", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("number" = String, Path)), request_body = ForwardingRule,
    responses((status = 200, body = Vec<ForwardingRule>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn set_forwarding(
    State(st): State<AppState>,
    a: Reach,
    Path((c, d, n)): DevicePath,
    Json(r): Json<ForwardingRule>,
) -> ApiResult<Json<Vec<ForwardingRule>>> {
    let e = engine_for(&st, &a, c, d, &n).await?;
    let kind = ForwardingType::ALL
        .iter()
        .copied()
        .find(|k| k.token().eq_ignore_ascii_case(&r.kind))
        .ok_or_else(|| {
            ApiError::bad_request(
                "type",
                "invalid_enum",
                format!(
                    "unknown forwarding type '{}': use one of {}",
                    r.kind,
                    ForwardingType::ALL
                        .iter()
                        .map(|k| k.token())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
    let destination = match r.destination.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) => Some(dial(&st, &e, t, "destination").await?),
    };
    e.engine
        .set_forwarding(&n, kind, destination.as_deref())
        .await
        .map_err(control_error)?;
    let s = e
        .engine
        .device(&n)
        .ok_or_else(|| ApiError::not_found("device"))?;
    Ok(Json(
        s.forwarding
            .into_iter()
            .map(|f| ForwardingRule {
                kind: f.kind.token().into(),
                destination: Some(f.destination),
            })
            .collect(),
    ))
}

/// Turn do-not-disturb on or off.
#[utoipa::path(put, path = "/api/v1/companies/{companyId}/domains/{domainId}/phones/{number}/do-not-disturb", tag = "calls", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("number" = String, Path)), request_body = DndInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn do_not_disturb(
    State(st): State<AppState>,
    a: Reach,
    Path((c, d, n)): DevicePath,
    Json(i): Json<DndInput>,
) -> ApiResult<StatusCode> {
    let e = engine_for(&st, &a, c, d, &n).await?;
    e.engine
        .set_do_not_disturb(&n, i.on)
        .await
        .map_err(control_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Callback ("double call", guide 1.3.3): TWP calls the device, then the
/// number, and joins them.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains/{domainId}/phones/{number}/callback", tag = "calls", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), ("number" = String, Path)), request_body = DialInput,
    responses((status = 200, body = CallResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn callback(
    State(st): State<AppState>,
    a: Reach,
    Path((c, d, n)): DevicePath,
    Json(i): Json<DialInput>,
) -> ApiResult<Json<CallResult>> {
    let e = engine_for(&st, &a, c, d, &n).await?;
    let to = dial(&st, &e, &i.to, "to").await?;
    let id = e.engine.callback(&n, &to).await.map_err(control_error)?;
    Ok(result(Some(id), Some(to)))
}
