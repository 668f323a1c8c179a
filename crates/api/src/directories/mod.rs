//! The directory engines of the server: one `DirectoryEngine` per domain
//! (its dialing plan makes numbers canonical), built from the store on
//! first use or at start, where each directory is restored from its
//! derived keys (a restart is a bulk load, not a rebuild). Settings
//! changes are applied to a running engine at once; contacts change only
//! through a synchronisation (`run`), one at a time per directory, started
//! by the API, the schedules (`schedule`), the command line or a users
//! import's run (`imported`: the directory of an import's users).

pub mod imported;
pub mod private;
pub mod run;
pub mod schedule;
pub mod settings;
pub mod users;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use twp_directory::{DirectoryEngine, DirectoryId};
use twp_domain::{CompanyId, DomainId};
use twp_store::directories::{self, StorePersistence, StoredDirectory};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// How a synchronisation's schedule is set (API input).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncInput {
    /// `manual` (API and command line only), `daily` (at the
    /// `timeSynchronizationDirectories` parameter, HH:MM) or `every`.
    pub mode: String,
    /// With `every`: minutes between runs (1–10080).
    pub every_minutes: Option<u32>,
    /// With `every`: hours between runs (1–168).
    pub every_hours: Option<u32>,
}

/// Every domain's directory engine; cheap to share.
#[derive(Default)]
pub struct DirectoryHub {
    engines: RwLock<BTreeMap<DomainId, (CompanyId, Arc<DirectoryEngine>)>>,
    /// Serialises engine builds so a domain is loaded once.
    building: tokio::sync::Mutex<()>,
    /// Directories whose synchronisation is starting, running or saving
    /// its report.
    runs: Mutex<BTreeSet<i64>>,
    /// Each user's private contacts, as queried (`private.rs`).
    pub private: private::PrivateBooks,
}

/// What the start-up load did.
#[derive(Debug, Clone, Default)]
pub struct LoadSummary {
    pub domains: usize,
    pub directories: usize,
    pub contacts: usize,
    pub elapsed: Duration,
}

impl DirectoryHub {
    pub fn new() -> Self {
        Self::default()
    }

    /// The domain's engine, if built.
    pub fn get(&self, domain: DomainId) -> Option<Arc<DirectoryEngine>> {
        self.engines
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&domain)
            .map(|(_, e)| Arc::clone(e))
    }

    /// The domain's engine, if built and the domain is the company's.
    pub fn get_in(&self, company: CompanyId, domain: DomainId) -> Option<Arc<DirectoryEngine>> {
        self.engines
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&domain)
            .filter(|(c, _)| *c == company)
            .map(|(_, e)| Arc::clone(e))
    }

    /// The domain's engine, built from the store on first use.
    pub async fn engine(
        &self,
        st: &AppState,
        company: CompanyId,
        domain: DomainId,
    ) -> ApiResult<Arc<DirectoryEngine>> {
        if let Some(e) = self.get_in(company, domain) {
            return Ok(e);
        }
        let _building = self.building.lock().await;
        if let Some(e) = self.get_in(company, domain) {
            return Ok(e);
        }
        let plan = st.telephony.plan(&st.store, company, domain).await?;
        let mut conn = st.store.read().await?;
        let stored = directories::list(&mut conn, company, domain).await?;
        drop(conn);
        let persistence = StorePersistence::new(st.store.clone(), company, Handle::current());
        let engine = Arc::new(DirectoryEngine::new(
            domain,
            (*plan).clone(),
            Arc::new(persistence),
        ));
        for d in &stored {
            load(&engine, d).await;
        }
        self.engines
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(domain, (company, Arc::clone(&engine)));
        Ok(engine)
    }

    /// Builds the engine of every domain that has directories (server
    /// start); a domain that fails is logged and built on first use.
    pub async fn load_all(&self, st: &AppState) -> Result<LoadSummary, ApiError> {
        let started = Instant::now();
        let mut conn = st.store.read().await?;
        let all = directories::list_all(&mut conn).await?;
        drop(conn);
        let domains: BTreeSet<(CompanyId, DomainId)> =
            all.iter().map(|d| (d.company_id, d.domain_id)).collect();
        let mut summary = LoadSummary::default();
        for (company, domain) in domains {
            match self.engine(st, company, domain).await {
                Ok(e) => {
                    summary.domains += 1;
                    for d in e.directories() {
                        summary.directories += 1;
                        summary.contacts += e.generation(d.id).map_or(0, |g| g.contacts().len());
                    }
                }
                Err(e) => {
                    tracing::error!(domain = domain.0, error = ?e.body.message, "directories not loaded")
                }
            }
        }
        summary.elapsed = started.elapsed();
        Ok(summary)
    }

    /// Applies changed settings to the running engine, if any.
    pub async fn apply(&self, d: &StoredDirectory) {
        self.private.forget_domain(d.domain_id);
        if let Some(engine) = self.get(d.domain_id) {
            load(&engine, d).await;
        }
    }

    /// A deleted directory leaves queries at once.
    pub fn remove(&self, domain: DomainId, id: i64) {
        self.private.forget_domain(domain);
        if let Some(engine) = self.get(domain) {
            engine.cancel_sync(DirectoryId(id));
            engine.remove_directory(DirectoryId(id));
        }
    }

    /// Forgets a domain's engine (its dialing plan changed, or it was
    /// deleted): the next use rebuilds it from the store.
    pub fn forget(&self, domain: DomainId) {
        self.private.forget_domain(domain);
        self.engines
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&domain);
    }

    /// Forgets the engines of a deleted company's domains.
    pub fn forget_company(&self, company: CompanyId) {
        self.private.forget_all();
        self.engines
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (c, _)| *c != company);
    }

    /// Whether a synchronisation of the directory is in flight.
    pub fn is_running(&self, id: i64) -> bool {
        self.runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&id)
    }

    fn reserve(&self, id: i64) -> bool {
        self.runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id)
    }

    fn release(&self, id: i64) {
        self.runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }
}

/// Puts a stored directory in an engine (loading its contacts and derived
/// keys the first time). Private directories are not served by engines
/// (their contacts are per user); a directory whose stored mapping no
/// longer validates is logged and left out.
async fn load(engine: &Arc<DirectoryEngine>, d: &StoredDirectory) {
    if d.data.server_type == "private" {
        return;
    }
    let dir = match settings::engine_directory(d) {
        Ok(dir) => dir,
        Err(e) => {
            tracing::error!(directory = d.id, error = %e.body.message, "directory not loaded");
            return;
        }
    };
    let engine = Arc::clone(engine);
    let id = d.id;
    match tokio::task::spawn_blocking(move || engine.upsert_directory(dir)).await {
        Ok(Ok(took)) => tracing::debug!(directory = id, ?took, "directory loaded"),
        Ok(Err(e)) => tracing::error!(directory = id, error = %e, "directory not loaded"),
        Err(e) => tracing::error!(directory = id, error = %e, "directory load panicked"),
    }
}
