//! TWP's web services: the REST/JSON admin API under `/api/v1`, its OpenAPI
//! document and reference page, health and metrics. The only crate that
//! knows HTTP and JSON shapes.

pub mod access;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod crypto;
pub mod directories;
pub mod dto;
pub mod error;
pub mod hub;
pub mod imports;
mod limiter;
mod metrics;
pub mod reach;
mod routes;
pub mod scenario;
pub mod sessions;
mod state;
mod tickets;
pub mod user_auth;
mod validate;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

pub use state::{ApiSettings, AppState};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "TWP — telephony gateway API",
        description = "Administration and telephony web services of TWP. Log in with \
            POST /api/v1/auth/login and send the token as `Authorization: Bearer <token>`. \
            Errors have the shape {code, message, field?, errors?}. Lists are paged with \
            `limit` and the `after` cursor returned as `next`.",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Administrator login, logout, password (boot mode)"),
        (name = "user-auth", description = "User login for the web apps and API clients (guide 6): TWS, LDAP, None, Windows; sessions"),
        (name = "companies", description = "Companies: independent tenants (guide 3.1)"),
        (name = "domains", description = "Domains of a company (guide 3.1)"),
        (name = "dialplan", description = "Dialing plan of a domain and its tester (guide 5)"),
        (name = "users", description = "Users and their devices (guide 3.3.4, 7.1)"),
        (name = "groups", description = "Groups and members (guide 3.3.5, 7.3)"),
        (name = "administrators", description = "Administrator accounts (guide 10.1)"),
        (name = "links", description = "A domain's links to its PBX and the restart that applies them (guide 3.3.3, 4)"),
        (name = "calls", description = "Call control on a supervised phone (guide 1.3, 9.1)"),
        (name = "events", description = "Live telephony events over WebSocket or SSE"),
        (name = "telephony", description = "Telephony maintenance: links and device states (guide 10.4–10.5)"),
        (name = "demo", description = "Demo only: the simulated PBX's outside world (present in `twp demo`)"),
        (name = "grants", description = "Authorizations: who may use or see what (guide 7.4)"),
        (name = "parameters", description = "Application parameters per level and their resolution (guide 9, 10.2)"),
        (name = "licenses", description = "Installation id, license file and seats (guide 3.3.1-3.3.2)"),
        (name = "directories", description = "Directories, synchronisation, reverse look-up, search and private contacts (guide 8)"),
        (name = "user-imports", description = "Users import from LDAP, Active Directory and the PBX, runs and reports (guide 7.2)"),
        (name = "audit", description = "Audit log of administrative changes"),
        (name = "system", description = "Health and metrics"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    use routes::*;
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(system::healthz))
        .routes(routes!(system::metrics))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(auth::change_password))
        .routes(routes!(user_auth::login))
        .routes(routes!(user_auth::logout))
        .routes(routes!(user_auth::change_password))
        .routes(routes!(user_auth::whoami))
        .routes(routes!(user_auth::list_sessions, user_auth::revoke_all))
        .routes(routes!(user_auth::revoke_one))
        .routes(routes!(companies::list, companies::create))
        .routes(routes!(
            companies::get,
            companies::update,
            companies::delete
        ))
        .routes(routes!(domains::list, domains::create))
        .routes(routes!(domains::get, domains::update, domains::delete))
        .routes(routes!(dialplan::get, dialplan::put, dialplan::reset))
        .routes(routes!(dialplan::test))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update, users::delete))
        .routes(routes!(users::add_device))
        .routes(routes!(users::replace_device, users::delete_device))
        .routes(routes!(groups::list, groups::create))
        .routes(routes!(groups::get, groups::update, groups::delete))
        .routes(routes!(groups::members, groups::add_members))
        .routes(routes!(groups::remove_member))
        .routes(routes!(admins::list, admins::create))
        .routes(routes!(admins::get, admins::update, admins::delete))
        .routes(routes!(audit::list))
        .routes(routes!(links::list, links::create))
        .routes(routes!(links::get, links::replace, links::delete))
        .routes(routes!(links::telephony_status))
        .routes(routes!(links::restart))
        .routes(routes!(calls::state))
        .routes(routes!(calls::make_call))
        .routes(routes!(calls::answer))
        .routes(routes!(calls::hang_up))
        .routes(routes!(calls::hold))
        .routes(routes!(calls::retrieve))
        .routes(routes!(calls::deflect))
        .routes(routes!(calls::blind_transfer))
        .routes(routes!(calls::digits))
        .routes(routes!(calls::consult))
        .routes(routes!(calls::transfer))
        .routes(routes!(calls::conference))
        .routes(routes!(calls::pickup))
        .routes(routes!(calls::get_forwarding, calls::set_forwarding))
        .routes(routes!(calls::do_not_disturb))
        .routes(routes!(calls::callback))
        .routes(routes!(events::ticket))
        .routes(routes!(events::websocket))
        .routes(routes!(events::sse))
        .routes(routes!(traces::start, traces::status, traces::stop))
        .routes(routes!(traces::file))
        .routes(routes!(telephony::providers))
        .routes(routes!(telephony::devices))
        .routes(routes!(demo::call))
        .routes(routes!(demo::answer))
        .routes(routes!(demo::hang_up))
        .routes(routes!(demo::drop_links))
        .routes(routes!(grants::list, grants::add))
        .routes(routes!(grants::remove))
        .routes(routes!(grants::explain))
        .routes(routes!(parameters::list_catalogue))
        .routes(routes!(parameters::list_defaults))
        .routes(routes!(parameters::set_default, parameters::unset_default))
        .routes(routes!(parameters::list_values))
        .routes(routes!(parameters::set_value, parameters::unset_value))
        .routes(routes!(parameters::set_rank))
        .routes(routes!(parameters::resolve))
        .routes(routes!(licenses::get, licenses::load))
        .routes(routes!(licenses::usage))
        // ---- directories (issue 5) ----
        .routes(routes!(directories::list, directories::create))
        .routes(routes!(
            directories::get,
            directories::replace,
            directories::delete
        ))
        .routes(routes!(directories::test))
        .routes(routes!(
            directories::start_sync,
            directories::sync_progress,
            directories::cancel_sync
        ))
        .routes(routes!(directories::report))
        .routes(routes!(directories::contacts))
        .routes(routes!(lookup::lookup))
        .routes(routes!(lookup::search))
        .routes(routes!(lookup::search_advanced))
        .routes(routes!(private_contacts::list, private_contacts::create))
        .routes(routes!(
            private_contacts::get,
            private_contacts::replace,
            private_contacts::delete
        ))
        .routes(routes!(private_contacts::import_vcard))
        // ---- users import (issue 7, guide 7.2) ----
        .routes(routes!(user_imports::list, user_imports::create))
        .routes(routes!(
            user_imports::get,
            user_imports::replace,
            user_imports::delete
        ))
        .routes(routes!(user_imports::start_run, user_imports::run_progress))
        .routes(routes!(user_imports::runs))
        .routes(routes!(user_imports::run))
}

/// The OpenAPI 3.1 document of the API, as served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().split_for_parts().1
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let (router, api) = api_router().split_for_parts();
    router
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", api))
        .route(
            "/",
            axum::routing::get(|| async { axum::response::Redirect::temporary("/api/docs/") }),
        )
        .fallback(|| async { error::ApiError::not_found("route") })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            bump_access,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(2 * 1024 * 1024))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Write requests that cannot change what the access engine holds (users,
/// groups, members, domains, companies, license): telephony, sessions, and
/// grants, which keep the cached engine current themselves.
const ACCESS_NEUTRAL: &[&str] = &[
    "/grants",
    "/phones/",
    "/events/",
    "/telephony",
    "/links",
    "/traces",
    "/dialplan",
    "/demo/",
    "/auth/",
    "/sessions",
    "/private-contacts",
];

/// Write requests that may end a session or change an administrator:
/// logins and logouts, password changes, administrator writes, user
/// session revocation.
const SESSION_ENDING: &[&str] = &["/auth/", "/user-auth/", "/admins", "/sessions"];

/// Marks the cached access engine stale after every successful write
/// request, except those known not to concern it: a new endpoint is
/// covered by default (at the cost of a rebuild), never forgotten. Marks
/// the cached sessions stale after a write that may end one (a user's
/// cached session also follows the access engine's generation).
async fn bump_access(
    axum::extract::State(st): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let write = !matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if !write {
        return next.run(req).await;
    }
    let path = req.uri().path();
    let neutral = ACCESS_NEUTRAL.iter().any(|p| path.contains(p));
    // a login ends no session
    let ending = SESSION_ENDING.iter().any(|p| path.contains(p)) && !path.ends_with("/login");
    let resp = next.run(req).await;
    if resp.status().is_success() {
        if !neutral {
            st.engines.bump();
        }
        if ending {
            st.sessions.sessions_may_have_ended();
        }
    }
    resp
}

/// Serves the application on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // event streams write many small frames: without TCP_NODELAY, Nagle's
    // algorithm and the client's delayed ACKs hold them back for tens of ms
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
