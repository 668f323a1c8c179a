//! Users import runs in the server: at most one run per import link at a
//! time, each in its own task with a shared progress; and the scheduler
//! that starts the links whose schedule is due.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use twp_domain::{ImportType, UserImport};
use twp_import::{Progress, RunOptions};
use twp_store::user_imports::{self, RunStatus};

use crate::AppState;
use crate::error::ApiError;

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
        if import.data.import_type == ImportType::Pbx {
            return Err(pbx_not_implemented());
        }
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
            let connector = Box::new(twp_import::ldap_connector(&import.data, password));
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

/// The PBX subscriber list ("A5000 INT") is not read yet.
pub fn pbx_not_implemented() -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "not_implemented",
        "importing the PBX's subscriber list (type pbx, \"A5000 INT\") is not implemented yet: \
         use an LDAP or Active Directory import",
    )
    .with_field("type")
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
        if !due
            || link.data.import_type == ImportType::Pbx
            || st.imports.progress(link.id).is_some()
        {
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
        };
        tracing::info!(import = link.id, "starting a scheduled users import");
        // a run that started in between is simply not started twice
        let _ = st.imports.start(st, link, password, options);
    }
    Ok(())
}
