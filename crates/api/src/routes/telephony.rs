//! Maintenance views of the telephony engine (guide 10.4 connection states,
//! 10.5 device states). Read-only; super users only, since links are not yet
//! attached to companies.

use std::time::UNIX_EPOCH;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use twp_telephony::{Activity, Telephony};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Admin;
use crate::dto::time_text;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// One CTI link to the PBX ("provider", guide 10.4).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderDto {
    pub id: usize,
    pub host: String,
    pub port: u16,
    pub domain: String,
    /// Site.Cluster patterns the link serves explicitly.
    pub sites: Vec<String>,
    pub connected: bool,
    /// When `connected` last changed.
    pub since: String,
    /// Devices monitored now ("Current").
    pub current: usize,
    pub allocated: usize,
    /// Capacity ("Count").
    pub count: usize,
    pub reconnects: u64,
    pub last_error: Option<String>,
    /// Every allocated device monitored and read back since the link came up.
    pub synced: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallDto {
    pub call_id: String,
    /// ECMA-269 local connection state of this device: `alerting`, `connected`, `held`…
    pub state: String,
    pub calling: Option<String>,
    pub called: Option<String>,
}

/// One supervised device (guide 10.5).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeviceStateDto {
    pub number: String,
    pub site: String,
    /// Index of the provider serving it.
    pub provider: Option<usize>,
    /// A monitor is active on the PBX.
    pub supervised: bool,
    /// `idle`, `dialing`, `ringing`, `inCall` or `onHold`.
    pub activity: String,
    pub calls: Vec<CallDto>,
    pub do_not_disturb: bool,
    pub message_waiting: bool,
    /// Forwarding rules: (type, destination).
    pub forwarding: Vec<(String, String)>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DeviceRange {
    /// First number of the range (default: all).
    pub from: Option<String>,
    /// Last number of the range.
    pub to: Option<String>,
}

fn engine(st: &AppState) -> ApiResult<&Telephony> {
    st.telephony.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "telephony_not_configured",
            "this server runs no telephony engine: PBX links are not configurable yet \
             (not implemented; `twp demo` runs one against its PBX simulator)",
        )
    })
}

/// CTI links to the PBX and their state.
#[utoipa::path(get, path = "/api/v1/telephony/providers", tag = "telephony", security(("bearer" = [])),
    responses((status = 200, body = Vec<ProviderDto>), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn providers(State(st): State<AppState>, a: Admin) -> ApiResult<Json<Vec<ProviderDto>>> {
    a.require_super_user()?;
    let t = engine(&st)?;
    Ok(Json(
        t.providers()
            .into_iter()
            .map(|p| ProviderDto {
                id: p.id,
                host: p.host,
                port: p.port,
                domain: p.domain,
                sites: p.sites,
                connected: p.connected,
                since: time_text(
                    p.since
                        .duration_since(UNIX_EPOCH)
                        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                        .unwrap_or(0),
                ),
                current: p.current,
                allocated: p.allocated,
                count: p.count,
                reconnects: p.reconnects,
                last_error: p.last_error,
                synced: p.synced,
            })
            .collect(),
    ))
}

/// States of the supervised devices, optionally for a number range.
#[utoipa::path(get, path = "/api/v1/telephony/devices", tag = "telephony", security(("bearer" = [])),
    params(DeviceRange),
    responses((status = 200, body = Vec<DeviceStateDto>), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn devices(
    State(st): State<AppState>,
    a: Admin,
    Query(r): Query<DeviceRange>,
) -> ApiResult<Json<Vec<DeviceStateDto>>> {
    a.require_super_user()?;
    let t = engine(&st)?;
    let from = r.from.unwrap_or_default();
    // ranges order numbers by length, then digits: 64 nines is above any number
    let to = r.to.unwrap_or_else(|| "9".repeat(64));
    Ok(Json(
        t.devices_in_range(&from, &to)
            .into_iter()
            .map(|d| DeviceStateDto {
                activity: match d.activity() {
                    Activity::Idle => "idle",
                    Activity::Dialing => "dialing",
                    Activity::Ringing => "ringing",
                    Activity::InCall => "inCall",
                    Activity::OnHold => "onHold",
                }
                .to_owned(),
                number: d.number,
                site: d.site.to_string(),
                provider: d.provider,
                supervised: d.supervised,
                calls: d
                    .calls
                    .into_iter()
                    .map(|c| CallDto {
                        call_id: c.call_id,
                        state: c.state.token().to_owned(),
                        calling: c.calling,
                        called: c.called,
                    })
                    .collect(),
                do_not_disturb: d.do_not_disturb,
                message_waiting: d.message_waiting,
                forwarding: d
                    .forwarding
                    .into_iter()
                    .map(|f| (f.kind.token().to_owned(), f.destination))
                    .collect(),
            })
            .collect(),
    ))
}
