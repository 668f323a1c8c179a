//! A domain's dialing plan (guide chapter 5): read, replace (import), reset,
//! and the tester that shows how numbers are dialed and canonicalised.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use twp_dialplan::{CompiledPlan, DialPlan, GlobalParameters, PlanError};
use twp_domain::{CompanyId, DomainId};
use twp_store::{Conn, dialplans, domains};
use utoipa::ToSchema;

use crate::AppState;
use crate::audit::{Change, record};
use crate::auth::Admin;
use crate::dto::time_text;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// A domain's plan document and where it comes from.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DialPlanDto {
    /// The plan document (`version`, `globalParameters`, `specificRules`), as
    /// `twp dialplan test --plan` reads it.
    #[schema(value_type = Object)]
    pub plan: serde_json::Value,
    /// True while the domain uses the default plan (standard rules, the
    /// guide's example prefixes, internal length = numbering plan length).
    pub is_default: bool,
    pub updated_at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DialPlanTestInput {
    /// Numbers to test, at most 100.
    pub numbers: Vec<String>,
    /// A draft plan document to test instead of the saved one.
    #[schema(value_type = Option<Object>)]
    pub plan: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DialPlanTestResult {
    /// For each number: `dial` (number sent to the PBX), `canonical` (as a
    /// directory number), `incoming` (as a caller number), each with its
    /// steps and the rule that fired.
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<serde_json::Value>,
}

pub(crate) fn default_plan(numbering_plan_length: i64) -> DialPlan {
    DialPlan::new(GlobalParameters {
        internal_length: usize::try_from(numbering_plan_length).unwrap_or(4),
        ..GlobalParameters::default()
    })
}

/// A plan error as an API error naming the part of the document.
fn plan_error(e: PlanError) -> ApiError {
    let field = match &e {
        PlanError::Parameter { name, .. } => format!("plan.globalParameters.{name}"),
        PlanError::Rule { index, .. } => format!("plan.specificRules[{index}]"),
        PlanError::TooManyRules { .. } => "plan.specificRules".into(),
        PlanError::UnsupportedVersion { .. } => "plan.version".into(),
        PlanError::Document(_) => "plan".into(),
    };
    ApiError::bad_request(&field, "invalid_plan", e.to_string())
}

fn compile(doc: &serde_json::Value) -> ApiResult<CompiledPlan> {
    DialPlan::from_json(&doc.to_string()).map_err(plan_error)
}

async fn current(
    c: &mut Conn,
    cid: CompanyId,
    did: DomainId,
) -> ApiResult<(DialPlan, DialPlanDto)> {
    let domain = domains::get(c, cid, did).await?;
    match dialplans::get(c, cid, did).await? {
        Some(stored) => {
            let plan = DialPlan::from_json(&stored.document)
                .map_err(ApiError::internal)?
                .plan()
                .clone();
            let doc = serde_json::from_str(&stored.document).map_err(ApiError::internal)?;
            Ok((
                plan,
                DialPlanDto {
                    plan: doc,
                    is_default: false,
                    updated_at: Some(time_text(stored.updated_at)),
                },
            ))
        }
        None => {
            let plan = default_plan(domain.numbering_plan_length);
            let doc = serde_json::to_value(&plan).map_err(ApiError::internal)?;
            Ok((
                plan,
                DialPlanDto {
                    plan: doc,
                    is_default: true,
                    updated_at: None,
                },
            ))
        }
    }
}

/// The domain's dialing plan (export).
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/dialplan", tag = "dialplan", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path)), responses((status = 200, body = DialPlanDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain)): Path<(i64, i64)>,
) -> ApiResult<Json<DialPlanDto>> {
    let cid = a.company(company)?;
    let mut c = st.store.read().await?;
    Ok(Json(current(&mut c, cid, DomainId(domain)).await?.1))
}

/// Replace the domain's dialing plan (import). The document is validated
/// whole: a rule that cannot be honoured is refused, naming it.
#[utoipa::path(put, path = "/api/v1/companies/{companyId}/domains/{domainId}/dialplan", tag = "dialplan", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path)), request_body(content = Object, description = "A plan document"),
    responses((status = 200, body = DialPlanDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain)): Path<(i64, i64)>,
    Json(doc): Json<serde_json::Value>,
) -> ApiResult<Json<DialPlanDto>> {
    let cid = a.company(company)?;
    let did = DomainId(domain);
    let compiled = compile(&doc)?;
    let canonical = serde_json::to_value(compiled.plan()).map_err(ApiError::internal)?;
    let mut tx = st.store.begin().await?;
    let domain_name = domains::get(&mut tx, cid, did).await?.name;
    let before = dialplans::get(&mut tx, cid, did).await?.map(|p| p.document);
    dialplans::put(&mut tx, cid, did, &canonical.to_string()).await?;
    let mut change = Change::new("update", "dialplan", domain)
        .company(cid)
        .name(&domain_name)
        .after(&canonical);
    change.before = before;
    record(&mut tx, a.who(), change).await?;
    tx.commit().await?;
    st.telephony.forget_plan(did);
    st.directories.forget(did);
    let mut c = st.store.read().await?;
    Ok(Json(current(&mut c, cid, did).await?.1))
}

/// Go back to the default plan.
#[utoipa::path(delete, path = "/api/v1/companies/{companyId}/domains/{domainId}/dialplan", tag = "dialplan", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn reset(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let cid = a.company(company)?;
    let did = DomainId(domain);
    let mut tx = st.store.begin().await?;
    let domain_name = domains::get(&mut tx, cid, did).await?.name;
    let before = dialplans::get(&mut tx, cid, did).await?.map(|p| p.document);
    dialplans::reset(&mut tx, cid, did).await?;
    let mut change = Change::new("reset", "dialplan", domain)
        .company(cid)
        .name(&domain_name);
    change.before = before;
    record(&mut tx, a.who(), change).await?;
    tx.commit().await?;
    st.telephony.forget_plan(did);
    st.directories.forget(did);
    Ok(StatusCode::NO_CONTENT)
}

/// Test numbers in both directions with the saved plan, or with a draft
/// plan before saving it; every result explains its steps.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/domains/{domainId}/dialplan/test", tag = "dialplan", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path)), request_body = DialPlanTestInput,
    responses((status = 200, body = DialPlanTestResult), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn test(
    State(st): State<AppState>,
    a: Admin,
    Path((company, domain)): Path<(i64, i64)>,
    Json(input): Json<DialPlanTestInput>,
) -> ApiResult<Json<DialPlanTestResult>> {
    let cid = a.company(company)?;
    if input.numbers.is_empty() || input.numbers.len() > 100 {
        return Err(ApiError::bad_request(
            "numbers",
            "out_of_range",
            "give 1 to 100 numbers",
        ));
    }
    let mut c = st.store.read().await?;
    let (saved, _) = current(&mut c, cid, DomainId(domain)).await?;
    drop(c);
    let compiled = match &input.plan {
        Some(doc) => compile(doc)?,
        None => saved.compile().map_err(plan_error)?,
    };
    // A runaway expression is bounded by the engine's backtrack limit, but
    // still costs milliseconds: keep it off the async workers.
    let results = tokio::task::spawn_blocking(move || {
        input
            .numbers
            .iter()
            .map(|n| serde_json::to_value(compiled.test_number(n)).unwrap_or_default())
            .collect::<Vec<_>>()
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(DialPlanTestResult { results }))
}
