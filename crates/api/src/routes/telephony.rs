//! Maintenance views of the telephony engines (guide 10.4 connection states,
//! 10.5 device states). Read-only; an administrator sees the domains of its
//! companies.

use std::time::UNIX_EPOCH;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use twp_telephony::Activity;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Admin;
use crate::dto::time_text;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// One CTI link to the PBX ("provider", guide 10.4).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderDto {
    /// Index of the link in its domain ("Id" of the guide's device states).
    pub id: usize,
    pub company_id: i64,
    pub domain_id: i64,
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
    pub domain_id: i64,
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
    /// Voicemail number of the device, when configured.
    pub voicemail: Option<String>,
    /// Lines of the device ("CCos"), when configured.
    pub ccos: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DeviceRange {
    /// Only this domain's devices.
    pub domain_id: Option<i64>,
    /// First number of the range (default: all).
    pub from: Option<String>,
    /// Last number of the range.
    pub to: Option<String>,
}

/// The running engines this administrator may see; 503 when none is
/// configured anywhere it can see.
fn engines(
    st: &AppState,
    a: &Admin,
) -> ApiResult<Vec<std::sync::Arc<crate::hub::DomainTelephony>>> {
    let scope = &a.who().scope;
    let visible: Vec<_> = st
        .telephony
        .running()
        .into_iter()
        .filter(|d| scope.allows(d.company))
        .collect();
    let failed = st
        .telephony
        .failures()
        .into_iter()
        .any(|f| scope.allows(f.company));
    if visible.is_empty() && !failed {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "telephony_not_configured",
            "no domain you administer has a link to its PBX: add one with POST \
             /api/v1/companies/{companyId}/domains/{domainId}/links, then restart the \
             domain's telephony",
        ));
    }
    Ok(visible)
}

/// CTI links to the PBX and their state.
#[utoipa::path(get, path = "/api/v1/telephony/providers", tag = "telephony", security(("bearer" = [])),
    responses((status = 200, body = Vec<ProviderDto>), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn providers(State(st): State<AppState>, a: Admin) -> ApiResult<Json<Vec<ProviderDto>>> {
    let mut out = Vec::new();
    for d in engines(&st, &a)? {
        out.extend(d.engine.providers().into_iter().map(|p| {
            ProviderDto {
                id: p.id,
                company_id: d.company.0,
                domain_id: d.domain.0,
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
            }
        }));
    }
    Ok(Json(out))
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
    let from = r.from.unwrap_or_default();
    // ranges order numbers by length, then digits: 64 nines is above any number
    let to = r.to.unwrap_or_else(|| "9".repeat(64));
    let mut out = Vec::new();
    for e in engines(&st, &a)? {
        if r.domain_id.is_some_and(|id| id != e.domain.0) {
            continue;
        }
        let domain = e.domain.0;
        out.extend(
            e.engine
                .devices_in_range(&from, &to)
                .into_iter()
                .map(|d| device_dto(domain, d)),
        );
    }
    Ok(Json(out))
}

/// A device's state as the API shows it.
pub fn device_dto(domain_id: i64, d: twp_telephony::DeviceState) -> DeviceStateDto {
    DeviceStateDto {
        domain_id,
        activity: activity_token(d.activity()).to_owned(),
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
        voicemail: d.voicemail,
        ccos: d.ccos,
    }
}

pub fn activity_token(a: Activity) -> &'static str {
    match a {
        Activity::Idle => "idle",
        Activity::Dialing => "dialing",
        Activity::Ringing => "ringing",
        Activity::InCall => "inCall",
        Activity::OnHold => "onHold",
    }
}
