//! Users import runs in the server: at most one run per import link at a
//! time, each in its own task with a shared progress; and the scheduler
//! that starts the links whose schedule is due. An LDAP or Active
//! Directory run reads its server; a `pbx` run ("A5000 INT") reads the
//! PBX's device list through a CSTA link of the domain's running telephony.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use twp_directory::Connector;
use twp_domain::{ImportType, UserImport};
use twp_import::{ListConnector, PbxSubscriber, Progress, RunOptions};
use twp_store::user_imports::{self, RunStatus};
use twp_telephony::DeviceCategory;

use crate::AppState;
use crate::error::ApiError;
use crate::hub::DomainTelephony;

/// Where a run reads its users.
enum Source {
    /// The LDAP / Active Directory server, with the bind password.
    Ldap(Option<String>),
    /// The PBX's device list, through this link of the domain's telephony.
    Pbx(Arc<DomainTelephony>, usize),
}

/// The runs in progress, by import link id.
#[derive(Default)]
pub struct ImportRunner {
    running: Mutex<HashMap<i64, Arc<Progress>>>,
}

impl ImportRunner {
    /// The progress of the link's run, if one is running.
    pub fn progress(&self, import: i64) -> Option<Arc<Progress>> {
        self.lock().get(&import).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<Progress>>> {
        // a panicked run leaves a consistent map behind: keep using it
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a run of `import` in the background; 409 when one runs.
    pub fn start(
        &self,
        st: &AppState,
        import: UserImport,
        password: Option<String>,
        options: RunOptions,
    ) -> Result<Arc<Progress>, ApiError> {
        let source = match import.data.import_type {
            ImportType::Pbx => {
                let (domain, link) = pbx_link(st, &import)?;
                Source::Pbx(domain, link)
            }
            ImportType::Ldap | ImportType::ActiveDirectory => Source::Ldap(password),
        };
        let progress = Arc::new(Progress::default());
        {
            let mut running = self.lock();
            if running.contains_key(&import.id) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "already_running",
                    "a run of this import is in progress: follow it with GET …/run",
                ));
            }
            running.insert(import.id, Arc::clone(&progress));
        }
        let st = st.clone();
        let watch = Arc::clone(&progress);
        tokio::spawn(async move {
            let id = import.id;
            let connector: Box<dyn Connector> = match source {
                Source::Ldap(password) => {
                    Box::new(twp_import::ldap_connector(&import.data, password))
                }
                Source::Pbx(domain, link) => Box::new(pbx_list(&domain, link).await),
            };
            let done = twp_import::run(&st.store, &import, connector, &options, watch).await;
            // A run creates, disables and deletes users and group members
            // after the request that started it has answered (or from the
            // scheduler): the access engine must not keep the old ones.
            st.engines.bump();
            match done {
                // the run ends once its users are in its directory (7.2.4)
                Ok(r) if r.status == RunStatus::Succeeded => {
                    crate::directories::imported::synchronise(&st, &import).await;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(import = id, error = %e, "cannot record the users import run")
                }
            }
            st.imports.lock().remove(&id);
        });
        Ok(progress)
    }
}

/// The link a `pbx` import reads: the domain's link whose host is the
/// import's (and port, when several links share the host), or with no
/// host the first link that is up. 409 when the domain's telephony does
/// not run or no link matches, 503 when the link is down.
fn pbx_link(st: &AppState, import: &UserImport) -> Result<(Arc<DomainTelephony>, usize), ApiError> {
    let d = &import.data;
    let domain = st
        .telephony
        .domain(d.domain_id)
        .filter(|t| t.company == import.company_id)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "telephony_not_running",
                format!(
                    "the telephony of domain {} is not running, so the PBX cannot be read: add a \
                     CSTA link to the PBX under …/domains/{}/links and start it with \
                     POST …/domains/{}/telephony/restart",
                    d.domain_id.0, d.domain_id.0, d.domain_id.0
                ),
            )
        })?;
    let providers = domain.engine.providers();
    let chosen = if d.host.is_empty() {
        providers.iter().find(|p| p.connected).or(providers.first())
    } else {
        let same_host: Vec<_> = providers
            .iter()
            .filter(|p| p.host.eq_ignore_ascii_case(&d.host))
            .collect();
        match same_host.as_slice() {
            [one] => Some(*one),
            many => many.iter().copied().find(|p| p.port == d.port),
        }
    };
    let Some(link) = chosen else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "pbx_link_unknown",
            format!(
                "no CSTA link of the domain goes to {}:{}: give the host (and port) of one of \
                 the domain's links, or no host to use the first link that is up",
                d.host, d.port
            ),
        )
        .with_field("host"));
    };
    if !link.connected {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "pbx_link_down",
            format!(
                "the link to the PBX ({}:{}) is down{}: check the PBX and the link \
                 (GET /api/v1/telephony/providers), then run the import again",
                link.host,
                link.port,
                link.last_error
                    .as_ref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ),
        ));
    }
    Ok((domain, link.id))
}

/// Reads the PBX's device list; its stations (and devices of no stated
/// category) are the subscribers. A failure becomes a source that fails
/// the run with the reason, recorded with the run.
async fn pbx_list(domain: &DomainTelephony, link: usize) -> ListConnector {
    match domain.engine.switching_function_devices(link, None).await {
        Ok(devices) => ListConnector::pbx(
            devices
                .into_iter()
                .filter(|d| {
                    d.device_category
                        .is_none_or(|c| c == DeviceCategory::Station)
                })
                .map(|d| PbxSubscriber {
                    number: d.device_id.number().to_owned(),
                    category: d.device_category.map(|c| c.to_string()),
                    model: d.device_model_name,
                })
                .collect(),
        ),
        Err(e) => ListConnector::unavailable(e.to_string()),
    }
}

/// Opens a link's sealed bind password.
pub fn open_password(st: &AppState, sealed: Option<String>) -> Result<Option<String>, ApiError> {
    sealed
        .map(|s| st.secrets.open(&s).map_err(ApiError::internal))
        .transpose()
}

/// Starts, every `every`, the import links whose schedule is due and that
/// are not running. Runs until the server stops.
pub fn spawn_scheduler(st: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            if let Err(e) = start_due(&st).await {
                tracing::warn!(error = %e.body.message, "users import scheduler");
            }
        }
    })
}

async fn start_due(st: &AppState) -> Result<(), ApiError> {
    let now = twp_store::now_ms();
    let links = {
        let mut c = st.store.read().await?;
        user_imports::scheduled(&mut c).await?
    };
    for link in links {
        let due = link
            .data
            .schedule
            .next_due(link.last_run_at, link.created_at)
            .is_some_and(|t| t <= now);
        if !due || st.imports.progress(link.id).is_some() {
            continue;
        }
        let sealed = {
            let mut c = st.store.read().await?;
            user_imports::sealed_password(&mut c, link.company_id, link.id).await?
        };
        let password = open_password(st, sealed)?;
        let options = RunOptions {
            confirm: false,
            trigger: "schedule",
            actor: twp_store::user_sync::ImportActor {
                admin_id: None,
                admin_name: format!("user import {} (schedule)", link.id),
            },
            writer_hold: twp_import::WRITER_HOLD,
        };
        tracing::info!(import = link.id, "starting a scheduled users import");
        // a run that started in between is simply not started twice; a
        // PBX link down is tried again at the next tick
        if let Err(e) = st.imports.start(st, link, password, options) {
            tracing::debug!(error = %e.body.message, "scheduled users import not started");
        }
    }
    Ok(())
}
