//! Health and metrics for operators and probes.

use std::fmt::Write;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    pub database_ok: bool,
    pub version: String,
    pub uptime_seconds: u64,
}

/// Liveness and database reachability (no authentication).
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(State(st): State<AppState>) -> impl IntoResponse {
    let ok = st.store.ping().await.is_ok();
    let h = Health {
        status: if ok { "ok" } else { "degraded" }.into(),
        database: st.store.backend().as_str().into(),
        database_ok: ok,
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_seconds: st.started.elapsed().as_secs(),
    };
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(h))
}

/// Prometheus metrics (text format 0.0.4).
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    let mut out = String::with_capacity(4096);
    let _ = writeln!(
        out,
        "# HELP twp_build_info TWP version and store backend.\n# TYPE twp_build_info gauge"
    );
    let _ = writeln!(
        out,
        "twp_build_info{{version=\"{}\",database=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        st.store.backend().as_str()
    );
    let _ = writeln!(
        out,
        "# HELP twp_uptime_seconds Seconds since the server started.\n# TYPE twp_uptime_seconds gauge"
    );
    let _ = writeln!(out, "twp_uptime_seconds {}", st.started.elapsed().as_secs());
    let _ = writeln!(
        out,
        "# HELP twp_objects Objects in the store by type.\n# TYPE twp_objects gauge"
    );
    for (label, table) in [
        ("company", "companies"),
        ("domain", "domains"),
        ("user", "users"),
        ("device", "devices"),
        ("group", "user_groups"),
        ("administrator", "administrators"),
    ] {
        if let Ok(n) = twp_store::stats::count_rows(&st.store, table).await {
            let _ = writeln!(out, "twp_objects{{type=\"{label}\"}} {n}");
        }
    }
    let up = i32::from(st.store.ping().await.is_ok());
    let _ = writeln!(
        out,
        "# HELP twp_database_up Whether the database answers.\n# TYPE twp_database_up gauge\ntwp_database_up {up}"
    );
    st.metrics.render(&mut out);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
}
