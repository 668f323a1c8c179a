//! The telephony engines of the server: one per domain that has enabled
//! links (guide 4.1), built from the store. Changing links or devices takes
//! effect when the domain's telephony is restarted, as the guide asks of
//! its CSTA and VTI-XML services.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use twp_dialplan::{CompiledPlan, DialPlan};
use twp_domain::{CompanyId, DomainId, LinkProtocol, LinkSession, PbxLink};
use twp_store::{Store, StoreError, pbx_links};
use twp_telephony::{
    DeviceSettings, LinkSettings, Protocol, SessionMode, SiteCluster, Telephony, TelephonyConfig,
};

/// The engine of one domain.
pub struct DomainTelephony {
    pub company: CompanyId,
    pub domain: DomainId,
    pub domain_name: String,
    pub engine: Telephony,
    pub started_at: SystemTime,
    /// Recent events as JSON, slot `seq % JSON_CACHE`: every event stream
    /// of the domain sends the same text, so it is serialised once.
    json: std::sync::Mutex<Vec<JsonSlot>>,
}

/// One cached event text and its sequence number.
type JsonSlot = Option<(u64, Arc<str>)>;

/// Events kept serialised per domain (a client queue's worth).
const JSON_CACHE: usize = 4096;

impl DomainTelephony {
    /// The JSON text of event `seq`, made by `make` the first time.
    pub fn event_json(&self, seq: u64, make: impl FnOnce() -> String) -> Arc<str> {
        let slot = usize::try_from(seq % JSON_CACHE as u64).unwrap_or(0);
        let mut cache = self.json.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() < JSON_CACHE {
            cache.resize(JSON_CACHE, None);
        }
        if let Some((s, text)) = &cache[slot]
            && *s == seq
        {
            return text.clone();
        }
        let text: Arc<str> = make().into();
        cache[slot] = Some((seq, text.clone()));
        text
    }
}

/// Why a domain's telephony is not running.
#[derive(Debug, Clone)]
pub struct DomainFailure {
    pub company: CompanyId,
    pub domain: DomainId,
    pub domain_name: String,
    pub message: String,
}

#[derive(Default)]
struct Engines {
    running: BTreeMap<DomainId, Arc<DomainTelephony>>,
    failed: BTreeMap<DomainId, DomainFailure>,
}

/// Every domain's engine; cheap to share.
#[derive(Default)]
pub struct TelephonyHub {
    engines: RwLock<Engines>,
    /// Serialises (re)starts so two restarts of a domain never overlap.
    restarting: tokio::sync::Mutex<()>,
    /// Compiled dialing plans of the domains, loaded on first use and
    /// forgotten when a plan changes.
    plans: RwLock<BTreeMap<DomainId, Arc<CompiledPlan>>>,
}

/// The devices without a Site.Cluster are given this one: no link lists
/// site 0, so they are placed implicitly (least-loaded link).
const UNKNOWN_SITE: SiteCluster = SiteCluster {
    site: 0,
    cluster: 0,
};

impl TelephonyHub {
    pub fn new() -> TelephonyHub {
        TelephonyHub::default()
    }

    /// Starts the engine of every domain that has enabled links. A domain
    /// whose configuration cannot start is recorded as failed; the others
    /// run.
    pub async fn start_all(&self, store: &Store) -> Result<(), StoreError> {
        let _guard = self.restarting.lock().await;
        let mut conn = store.read().await?;
        let links = pbx_links::list_enabled(&mut conn).await?;
        drop(conn);
        let mut by_domain: BTreeMap<DomainId, Vec<PbxLink>> = BTreeMap::new();
        for l in links {
            by_domain.entry(l.domain_id).or_default().push(l);
        }
        for (domain, links) in by_domain {
            let company = links[0].company_id;
            self.start_domain(store, company, domain, links).await?;
        }
        Ok(())
    }

    /// Stops the domain's engine, if any, and starts it again from the
    /// store. Returns whether an engine runs afterwards.
    pub async fn restart_domain(
        &self,
        store: &Store,
        company: CompanyId,
        domain: DomainId,
    ) -> Result<bool, StoreError> {
        let _guard = self.restarting.lock().await;
        let old = {
            let mut e = self.write();
            e.failed.remove(&domain);
            e.running.remove(&domain)
        };
        if let Some(old) = old {
            old.engine.shutdown().await;
        }
        let mut conn = store.read().await?;
        let links: Vec<PbxLink> = pbx_links::list(&mut conn, company, domain)
            .await?
            .into_iter()
            .filter(|l| l.data.enabled)
            .collect();
        drop(conn);
        if links.is_empty() {
            return Ok(false);
        }
        self.start_domain(store, company, domain, links).await
    }

    async fn start_domain(
        &self,
        store: &Store,
        company: CompanyId,
        domain: DomainId,
        links: Vec<PbxLink>,
    ) -> Result<bool, StoreError> {
        let mut conn = store.read().await?;
        let name = twp_store::domains::get(&mut conn, company, domain)
            .await?
            .name;
        let devices = pbx_links::supervised_devices(&mut conn, domain).await?;
        drop(conn);
        let mut cfg = TelephonyConfig::new(name.clone());
        for l in &links {
            cfg.links.push(link_settings(l));
        }
        cfg.callback_device = links.iter().find_map(|l| l.data.callback_device.clone());
        for d in devices {
            // sites were validated on write; an unreadable one is served implicitly
            let site = d
                .site
                .as_deref()
                .and_then(|s| s.parse().ok())
                .unwrap_or(UNKNOWN_SITE);
            let mut device = DeviceSettings::new(d.number, site);
            if let Some(c) = d.ccos.and_then(|c| u32::try_from(c).ok()) {
                device = device.with_ccos(c);
            }
            cfg.devices.push(device);
        }
        // the callback device is supervised with the users' devices
        if let Some(cb) = &cfg.callback_device
            && !cfg.devices.iter().any(|d| &d.number == cb)
        {
            cfg.devices
                .push(DeviceSettings::new(cb.clone(), UNKNOWN_SITE));
        }
        let mut e = self.write();
        match Telephony::start(cfg) {
            Ok(engine) => {
                tracing::info!(domain = %name, links = links.len(), "telephony started");
                e.running.insert(
                    domain,
                    Arc::new(DomainTelephony {
                        company,
                        domain,
                        domain_name: name,
                        engine,
                        started_at: SystemTime::now(),
                        json: Default::default(),
                    }),
                );
                Ok(true)
            }
            Err(err) => {
                tracing::warn!(domain = %name, error = %err, "telephony not started");
                e.failed.insert(
                    domain,
                    DomainFailure {
                        company,
                        domain,
                        domain_name: name,
                        message: err.to_string(),
                    },
                );
                Ok(false)
            }
        }
    }

    /// The running engine of a domain.
    pub fn domain(&self, domain: DomainId) -> Option<Arc<DomainTelephony>> {
        self.read().running.get(&domain).cloned()
    }

    /// Every running engine, by domain id.
    pub fn running(&self) -> Vec<Arc<DomainTelephony>> {
        self.read().running.values().cloned().collect()
    }

    /// Domains whose links are configured but whose engine could not start.
    pub fn failures(&self) -> Vec<DomainFailure> {
        self.read().failed.values().cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        let e = self.read();
        e.running.is_empty() && e.failed.is_empty()
    }

    /// The domain's compiled dialing plan (its default plan when none is
    /// saved), cached.
    pub async fn plan(
        &self,
        store: &Store,
        company: CompanyId,
        domain: DomainId,
    ) -> Result<Arc<CompiledPlan>, crate::error::ApiError> {
        if let Some(p) = self
            .plans
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&domain)
        {
            return Ok(p.clone());
        }
        let mut conn = store.read().await?;
        let d = twp_store::domains::get(&mut conn, company, domain).await?;
        let stored = twp_store::dialplans::get(&mut conn, company, domain).await?;
        drop(conn);
        let default = || crate::routes::dialplan::default_plan(d.numbering_plan_length).compile();
        // a stored plan was validated on write; should it not compile now,
        // the default plan keeps calls going and the reason is logged
        let compiled = match stored.map(|s| DialPlan::from_json(&s.document)) {
            Some(Ok(p)) => Ok(p),
            Some(Err(e)) => {
                tracing::error!(domain = %d.name, error = %e, "stored dialing plan unusable; using the default plan");
                default()
            }
            None => default(),
        };
        let plan = Arc::new(compiled.map_err(crate::error::ApiError::internal)?);
        self.plans
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(domain, plan.clone());
        Ok(plan)
    }

    /// Forgets a domain's cached plan (it was replaced or reset).
    pub fn forget_plan(&self, domain: DomainId) {
        self.plans
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&domain);
    }

    /// Stops the engines of the domains (or companies) that were deleted.
    pub async fn stop_where(
        &self,
        domain: impl Fn(DomainId) -> bool,
        company: impl Fn(CompanyId) -> bool,
    ) {
        let _guard = self.restarting.lock().await;
        let stopped: Vec<_> = {
            let mut e = self.write();
            e.failed
                .retain(|_, f| !(domain(f.domain) || company(f.company)));
            let gone: Vec<DomainId> = e
                .running
                .values()
                .filter(|d| domain(d.domain) || company(d.company))
                .map(|d| d.domain)
                .collect();
            gone.iter().filter_map(|d| e.running.remove(d)).collect()
        };
        for d in stopped {
            d.engine.shutdown().await;
        }
    }

    /// Stops every engine (server shutdown).
    pub async fn shutdown(&self) {
        let all: Vec<_> = std::mem::take(&mut self.write().running)
            .into_values()
            .collect();
        for d in all {
            d.engine.shutdown().await;
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Engines> {
        self.engines.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Engines> {
        self.engines.write().unwrap_or_else(|p| p.into_inner())
    }
}

fn link_settings(l: &PbxLink) -> LinkSettings {
    let mut s = LinkSettings::csta(l.data.host.clone(), l.data.port, l.data.capacity as usize);
    // patterns were validated on write
    s.sites = l.data.sites.iter().filter_map(|p| p.parse().ok()).collect();
    s.protocol = match l.data.protocol {
        LinkProtocol::Csta => Protocol::Csta,
        LinkProtocol::VtiXml => Protocol::VtiXml,
    };
    s.session = match l.data.session {
        LinkSession::ApplicationSession => SessionMode::default(),
        LinkSession::SystemRegister => SessionMode::SystemRegister,
        LinkSession::None => SessionMode::None,
    };
    s
}
