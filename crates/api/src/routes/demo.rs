//! Demo-only: make the simulated PBX's outside world act (see
//! [`crate::scenario`]). Present only when the server runs a simulator.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Admin;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::scenario::PbxScenario;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutsideCall {
    /// The outside caller's number.
    pub from: String,
    /// The extension called.
    pub to: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioResult {
    pub call_id: Option<String>,
    pub links_dropped: Option<usize>,
}

fn simulator(st: &AppState, a: &Admin) -> ApiResult<std::sync::Arc<dyn PbxScenario>> {
    a.require_super_user()?;
    st.scenario.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_simulator",
            "this server runs no PBX simulator (only `twp demo` does)",
        )
    })
}

fn refused(e: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "scenario_refused", e)
}

/// An outside caller dials an extension of the simulated PBX.
#[utoipa::path(post, path = "/api/v1/demo/pbx/calls", tag = "demo", security(("bearer" = [])), request_body = OutsideCall,
    responses((status = 200, body = ScenarioResult), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn call(
    State(st): State<AppState>,
    a: Admin,
    Json(c): Json<OutsideCall>,
) -> ApiResult<Json<ScenarioResult>> {
    let sim = simulator(&st, &a)?;
    let id = sim.external_call(&c.from, &c.to).map_err(refused)?;
    Ok(Json(ScenarioResult {
        call_id: Some(id),
        links_dropped: None,
    }))
}

/// A phone of the simulated PBX answers its ringing call.
#[utoipa::path(post, path = "/api/v1/demo/pbx/devices/{number}/answer", tag = "demo", security(("bearer" = [])),
    params(("number" = String, Path)),
    responses((status = 200, body = ScenarioResult), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn answer(
    State(st): State<AppState>,
    a: Admin,
    Path(number): Path<String>,
) -> ApiResult<Json<ScenarioResult>> {
    let sim = simulator(&st, &a)?;
    let id = sim.answer(&number).map_err(refused)?;
    Ok(Json(ScenarioResult {
        call_id: Some(id),
        links_dropped: None,
    }))
}

/// A phone of the simulated PBX hangs up.
#[utoipa::path(post, path = "/api/v1/demo/pbx/devices/{number}/hangup", tag = "demo", security(("bearer" = [])),
    params(("number" = String, Path)),
    responses((status = 200, body = ScenarioResult), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn hang_up(
    State(st): State<AppState>,
    a: Admin,
    Path(number): Path<String>,
) -> ApiResult<Json<ScenarioResult>> {
    let sim = simulator(&st, &a)?;
    let id = sim.hang_up(&number).map_err(refused)?;
    Ok(Json(ScenarioResult {
        call_id: Some(id),
        links_dropped: None,
    }))
}

/// The simulated PBX drops every CSTA link (TWP reconnects by itself).
#[utoipa::path(post, path = "/api/v1/demo/pbx/drop-links", tag = "demo", security(("bearer" = [])),
    responses((status = 200, body = ScenarioResult), (status = 404, body = ErrorBody)))]
pub async fn drop_links(State(st): State<AppState>, a: Admin) -> ApiResult<Json<ScenarioResult>> {
    let sim = simulator(&st, &a)?;
    Ok(Json(ScenarioResult {
        call_id: None,
        links_dropped: Some(sim.drop_links()),
    }))
}
