//! The installation id, the license file and seat usage (guide 3.3.1–3.3.2,
//! 7.4.1). Licenses are installation-wide: super users only.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use twp_access::authz::Application;
use twp_access::license::{Date, LicenseBody, verify};
use twp_store::licenses;
use utoipa::ToSchema;

use crate::AppState;
use crate::access::{current_license, engine, installation_id, license_error};
use crate::audit::{Change, record};
use crate::auth::Admin;
use crate::dto::time_text;
use crate::error::{ApiResult, ErrorBody};

/// Seats of one application.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeatsDto {
    /// License file key: `caller`, `alerter`, `stats`…
    pub application: String,
    /// "TWP Caller"…
    pub label: String,
    /// Users granted the application (a user counts once).
    pub in_use: u32,
    /// Seats of the license in force (0 without one).
    pub licensed: u32,
}

/// A license's content.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LicenseDto {
    pub customer: String,
    pub installation: String,
    /// Last valid day, `YYYY-MM-DD`.
    pub expires: String,
    pub seats: Vec<SeatsDto>,
}

/// The installation and its license.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LicenseStateDto {
    /// Give this id to obtain a license ("Dongle id", guide 3.3.1).
    pub installation_id: String,
    /// `none`, `valid`, or `invalid` (see `problem`).
    pub state: String,
    pub problem: Option<String>,
    pub license: Option<LicenseDto>,
    pub loaded_at: Option<String>,
    pub loaded_by: Option<String>,
}

/// A license file to load.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LicenseInput {
    /// The whole file, `TWP LICENSE 1` to the `signature:` line.
    pub text: String,
}

fn license_dto(b: &LicenseBody) -> LicenseDto {
    LicenseDto {
        customer: b.customer.clone(),
        installation: b.installation.to_string(),
        expires: b.expires.to_string(),
        seats: Application::ALL
            .into_iter()
            .map(|a| SeatsDto {
                application: a.key().into(),
                label: a.label().into(),
                in_use: 0,
                licensed: b.seats_of(a),
            })
            .collect(),
    }
}

async fn state(st: &AppState) -> ApiResult<LicenseStateDto> {
    let mut c = st.store.begin().await?;
    let id = installation_id(&mut c).await?;
    let stored = licenses::current(&mut c).await?;
    let checked = current_license(st, &mut c).await?;
    c.commit().await?;
    let (state, problem, license) = match checked {
        None => ("none", None, None),
        Some(Ok(l)) => ("valid", None, Some(license_dto(&l.body))),
        Some(Err(e)) => ("invalid", Some(e.to_string()), None),
    };
    Ok(LicenseStateDto {
        installation_id: id.to_string(),
        state: state.into(),
        problem,
        license,
        loaded_at: stored.as_ref().map(|s| time_text(s.loaded_at)),
        loaded_by: stored.map(|s| s.loaded_by),
    })
}

/// The installation id and the license in force.
#[utoipa::path(get, path = "/api/v1/license", tag = "licenses", security(("bearer" = [])),
    responses((status = 200, body = LicenseStateDto), (status = 403, body = ErrorBody)))]
pub async fn get(State(st): State<AppState>, a: Admin) -> ApiResult<Json<LicenseStateDto>> {
    a.require_super_user()?;
    Ok(Json(state(&st).await?))
}

/// Load a license file. Refused, with the reason, when its signature is
/// not from a trusted key, it is for another installation or it expired.
#[utoipa::path(put, path = "/api/v1/license", tag = "licenses", security(("bearer" = [])),
    request_body = LicenseInput,
    responses((status = 200, body = LicenseStateDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn load(
    State(st): State<AppState>,
    a: Admin,
    Json(input): Json<LicenseInput>,
) -> ApiResult<Json<LicenseStateDto>> {
    a.require_super_user()?;
    let mut tx = st.store.begin().await?;
    let id = installation_id(&mut tx).await?;
    let license =
        verify(&input.text, &st.trusted_keys, &id, Date::today()).map_err(license_error)?;
    let dto = license_dto(&license.body);
    let stored = licenses::insert(
        &mut tx,
        &input.text,
        &license.body.customer,
        &license.body.expires.to_string(),
        &a.who().name,
    )
    .await?;
    record(
        &mut tx,
        a.who(),
        Change::new("load", "license", stored.id)
            .name(&license.body.customer)
            .after(&dto),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(state(&st).await?))
}

/// Seats used and licensed per application (guide 3.3.2, 7.4.1).
#[utoipa::path(get, path = "/api/v1/license/usage", tag = "licenses", security(("bearer" = [])),
    responses((status = 200, body = Vec<SeatsDto>), (status = 403, body = ErrorBody)))]
pub async fn usage(State(st): State<AppState>, a: Admin) -> ApiResult<Json<Vec<SeatsDto>>> {
    a.require_super_user()?;
    let engine = engine(&st).await?;
    Ok(Json(
        engine
            .seat_usage()
            .into_iter()
            .map(|u| SeatsDto {
                application: u.application.key().into(),
                label: u.application.label().into(),
                in_use: u.in_use,
                licensed: u.licensed.unwrap_or(0),
            })
            .collect(),
    ))
}
