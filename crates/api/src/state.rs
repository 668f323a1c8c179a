use std::sync::Arc;
use std::time::{Duration, Instant};

use twp_store::Store;

use crate::crypto::SecretBox;
use crate::limiter::LoginLimiter;
use crate::metrics::Metrics;

/// Settings of the API that come from the server's configuration.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// How long an administrator session lives without being renewed.
    pub session_ttl: Duration,
    /// Consecutive failed logins before an administrator is locked out.
    pub max_failed_logins: u32,
    /// How long a lock-out lasts.
    pub lockout: Duration,
    /// Failed logins one client address may make per lock-out period,
    /// whatever names it tries.
    pub max_failed_logins_per_client: u32,
    /// First delay after a failed login, doubled at each further failure
    /// (at most 16 times this).
    pub failure_delay: Duration,
    /// Where PDU traces are written (one folder per domain); `None`: traces
    /// are not available.
    pub trace_dir: Option<std::path::PathBuf>,
    /// How long a user session lives (guide 6: the web apps' login).
    pub user_session_ttl: Duration,
    /// How long a user session lives when the user ticked "save".
    pub user_saved_session_ttl: Duration,
    /// Reverse proxies whose Windows user header is believed (guide 6.2).
    pub trusted_proxies: twp_access::auth::TrustedProxies,
    /// The header a trusted proxy puts the Windows user name in.
    pub sso_header: String,
    /// Connection and bind timeout of the LDAP method.
    pub ldap_timeout: Duration,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            session_ttl: Duration::from_secs(8 * 3600),
            max_failed_logins: 5,
            lockout: Duration::from_secs(15 * 60),
            max_failed_logins_per_client: 20,
            failure_delay: Duration::from_millis(250),
            trace_dir: None,
            user_session_ttl: Duration::from_secs(8 * 3600),
            user_saved_session_ttl: Duration::from_secs(30 * 24 * 3600),
            trusted_proxies: twp_access::auth::TrustedProxies::default(),
            sso_header: "X-Remote-User".into(),
            ldap_timeout: Duration::from_secs(5),
        }
    }
}

/// What every handler can reach: one pointer, so that the clones axum
/// makes for every request (router state, middlewares, extractors) cost
/// one atomic increment instead of one per shared part (they showed at
/// 5 % of a look-up's CPU in the profile of `bench_lookup`).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of the [`AppState`].
#[derive(Clone)]
pub struct Shared {
    pub store: Store,
    pub secrets: SecretBox,
    pub settings: Arc<ApiSettings>,
    pub metrics: Arc<Metrics>,
    pub limiter: Arc<LoginLimiter>,
    pub started: Instant,
    /// The telephony engines, one per domain with enabled links.
    pub telephony: Arc<crate::hub::TelephonyHub>,
    /// One-time tickets for event streams.
    pub tickets: Arc<crate::tickets::Tickets>,
    /// The simulated PBX's outside world, in `twp demo` only.
    pub scenario: Option<Arc<dyn crate::scenario::PbxScenario>>,
    /// The directory engines, one per domain with directories.
    pub directories: Arc<crate::directories::DirectoryHub>,
    /// Public keys whose license signatures this server accepts.
    pub trusted_keys: Arc<Vec<twp_access::license::VerifyingKey>>,
    /// The authorization engine, kept between requests.
    pub engines: Arc<crate::access::EngineCache>,
    /// Users import runs in progress (issue 7).
    pub imports: Arc<crate::imports::ImportRunner>,
    /// Who is behind each bearer token, kept between requests.
    pub sessions: Arc<crate::sessions::SessionCache>,
}

impl AppState {
    pub fn new(store: Store, secrets: SecretBox, settings: ApiSettings) -> Self {
        let limiter = LoginLimiter::new(settings.max_failed_logins_per_client, settings.lockout);
        Self(Arc::new(Shared {
            store,
            secrets,
            settings: Arc::new(settings),
            metrics: Arc::new(Metrics::default()),
            limiter: Arc::new(limiter),
            started: Instant::now(),
            telephony: Arc::new(crate::hub::TelephonyHub::new()),
            tickets: Arc::new(crate::tickets::Tickets::default()),
            scenario: None,
            directories: Arc::new(crate::directories::DirectoryHub::new()),
            trusted_keys: Arc::new(Vec::new()),
            engines: Arc::new(crate::access::EngineCache::default()),
            imports: Arc::new(crate::imports::ImportRunner::default()),
            sessions: Arc::new(crate::sessions::SessionCache::default()),
        }))
    }

    pub fn with_trusted_keys(mut self, keys: Vec<twp_access::license::VerifyingKey>) -> Self {
        Arc::make_mut(&mut self.0).trusted_keys = Arc::new(keys);
        self
    }

    pub fn with_scenario(mut self, s: Arc<dyn crate::scenario::PbxScenario>) -> Self {
        Arc::make_mut(&mut self.0).scenario = Some(s);
        self
    }

    pub fn with_telephony(mut self, hub: Arc<crate::hub::TelephonyHub>) -> Self {
        Arc::make_mut(&mut self.0).telephony = hub;
        self
    }
}
