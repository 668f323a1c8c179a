//! The [`Telephony`] handle: starts the providers over the allocation,
//! gives access to state, events and call control, and shuts down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::allocation::{self, DeviceSlot, LinkSlot, Placement};
use crate::config::TelephonyConfig;
use crate::error::{ConfigError, ControlError};
use crate::events::{EventBus, Filter, SubscribeError, Subscription};
use crate::monitor::DeviceEntry;
use crate::provider::{self, Context, Provider, ProviderState};
use crate::state::DeviceState;
use crate::trace::{DeviceLookup, TraceError, TraceSpec, TraceStatus, Tracer};

pub(crate) struct Inner {
    pub config: TelephonyConfig,
    pub bus: EventBus,
    pub devices: HashMap<String, (Arc<DeviceEntry>, Option<usize>)>,
    pub providers: Vec<Arc<Provider>>,
    progress: Arc<Notify>,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    tracer: Tracer,
}

impl Drop for Inner {
    /// The last handle is gone: providers stop, subscriptions end.
    fn drop(&mut self) {
        self.stop.send_replace(true);
        self.bus.close();
        self.tracer.detach_now();
    }
}

/// The running engine; cheap to clone.
#[derive(Clone)]
pub struct Telephony {
    pub(crate) inner: Arc<Inner>,
}

/// How each configured device was placed (guide 4.2's table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePlacement {
    pub number: String,
    pub link: Option<usize>,
    pub placement: Option<Placement>,
}

impl Telephony {
    /// Validates the configuration, allocates the devices to the links and
    /// starts one provider task per link. Must run inside a Tokio runtime.
    pub fn start(config: TelephonyConfig) -> Result<Telephony, ConfigError> {
        config.validate()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| ConfigError::NoRuntime)?;
        let links: Vec<LinkSlot> = config
            .links
            .iter()
            .map(|l| LinkSlot {
                capacity: l.capacity,
                sites: l.sites.clone(),
            })
            .collect();
        let slots: Vec<DeviceSlot> = config
            .devices
            .iter()
            .map(|d| DeviceSlot {
                number: d.number.clone(),
                site: d.site,
            })
            .collect();
        let alloc = allocation::allocate(&links, &slots);
        let mut per_link: Vec<Vec<Arc<DeviceEntry>>> = vec![Vec::new(); links.len()];
        let mut devices = HashMap::with_capacity(config.devices.len());
        for (d, a) in config.devices.iter().zip(&alloc.assignment) {
            let link = a.map(|(l, _)| l);
            let mut state = DeviceState::new(&d.number, d.site, link);
            state.voicemail = d.voicemail.clone();
            state.ccos = d.ccos;
            let entry = Arc::new(DeviceEntry::new(state));
            if let Some(l) = link {
                per_link[l].push(entry.clone());
            }
            devices.insert(d.number.clone(), (entry, link));
        }
        if !alloc.unplaced.is_empty() {
            tracing::warn!(
                count = alloc.unplaced.len(),
                "devices left unsupervised: every link is at capacity"
            );
        }
        let bus = EventBus::new(config.history);
        let progress = Arc::new(Notify::new());
        let (stop, stop_rx) = watch::channel(false);
        let tracer = Tracer::new();
        let ctx = Context {
            bus: bus.clone(),
            backoff: config.backoff,
            request_timeout: config.request_timeout,
            heartbeat_interval: config.heartbeat_interval,
            window: config.window,
            resync: config.resync,
            progress: progress.clone(),
            tap: tracer.tap().clone(),
        };
        let providers: Vec<Arc<Provider>> = config
            .links
            .iter()
            .zip(per_link)
            .enumerate()
            .map(|(i, (l, ds))| Arc::new(Provider::new(i, l.clone(), ds)))
            .collect();
        let tasks = providers
            .iter()
            .map(|p| runtime.spawn(provider::supervise(p.clone(), ctx.clone(), stop_rx.clone())))
            .collect();
        Ok(Telephony {
            inner: Arc::new(Inner {
                config,
                bus,
                devices,
                providers,
                progress,
                stop,
                tasks: Mutex::new(tasks),
                tracer,
            }),
        })
    }

    /// Waits until every link is up and has monitored and resynced all its
    /// devices; `false` on timeout.
    pub async fn wait_synced(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.progress.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.inner.providers.iter().all(|p| p.is_synced()) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.inner.providers.iter().all(|p| p.is_synced());
            }
        }
    }

    /// Subscribes to events; see [`EventBus::subscribe`].
    pub fn subscribe(
        &self,
        filter: Filter,
        capacity: usize,
        after: Option<u64>,
    ) -> Result<Subscription, SubscribeError> {
        self.inner.bus.subscribe(filter, capacity, after)
    }

    /// Subscribes, then reads the current state of the devices the filter
    /// selects: a client shows the states and applies the events that
    /// follow. Events queued between the two may already be reflected in
    /// the states; applying them again is harmless (they carry whole call
    /// and device views).
    pub fn subscribe_with_state(
        &self,
        filter: Filter,
        capacity: usize,
    ) -> Result<(Subscription, Vec<DeviceState>), SubscribeError> {
        let sub = self.inner.bus.subscribe(filter.clone(), capacity, None)?;
        let states = match &filter {
            Filter::All => {
                let mut v: Vec<DeviceState> = self
                    .inner
                    .devices
                    .values()
                    .map(|(d, _)| d.snapshot())
                    .collect();
                v.sort_by(|a, b| a.number.cmp(&b.number));
                v
            }
            Filter::Devices(set) => {
                let mut v: Vec<DeviceState> = set.iter().filter_map(|n| self.device(n)).collect();
                v.sort_by(|a, b| a.number.cmp(&b.number));
                v
            }
        };
        Ok((sub, states))
    }

    pub fn bus(&self) -> &EventBus {
        &self.inner.bus
    }

    /// A device's current state.
    pub fn device(&self, number: &str) -> Option<DeviceState> {
        self.inner.devices.get(number).map(|(d, _)| d.snapshot())
    }

    /// Device states for a number range, both ends included (guide 10.5);
    /// numbers compare as numbers when both are digits.
    pub fn devices_in_range(&self, first: &str, last: &str) -> Vec<DeviceState> {
        let key = |n: &str| (n.len(), n.to_owned());
        let (lo, hi) = (key(first), key(last));
        let mut v: Vec<DeviceState> = self
            .inner
            .devices
            .iter()
            .filter(|(n, _)| {
                let k = key(n);
                k >= lo && k <= hi
            })
            .map(|(_, (d, _))| d.snapshot())
            .collect();
        v.sort_by_key(|a| key(&a.number));
        v
    }

    /// Provider states (guide 10.4).
    pub fn providers(&self) -> Vec<ProviderState> {
        self.inner
            .providers
            .iter()
            .map(|p| p.state(&self.inner.config.domain))
            .collect()
    }

    /// Where each configured device was allocated, in configuration order.
    pub fn placements(&self) -> Vec<DevicePlacement> {
        let links: Vec<LinkSlot> = self
            .inner
            .config
            .links
            .iter()
            .map(|l| LinkSlot {
                capacity: l.capacity,
                sites: l.sites.clone(),
            })
            .collect();
        let slots: Vec<DeviceSlot> = self
            .inner
            .config
            .devices
            .iter()
            .map(|d| DeviceSlot {
                number: d.number.clone(),
                site: d.site,
            })
            .collect();
        let alloc = allocation::allocate(&links, &slots);
        slots
            .into_iter()
            .zip(alloc.assignment)
            .map(|(d, a)| DevicePlacement {
                number: d.number,
                link: a.map(|x| x.0),
                placement: a.map(|x| x.1),
            })
            .collect()
    }

    /// Stops every provider (closing its link), ends subscriptions with
    /// `Shutdown`, waits for the tasks and stops a running PDU trace.
    pub async fn shutdown(&self) {
        self.inner.stop.send_replace(true);
        let tasks: Vec<JoinHandle<()>> =
            std::mem::take(&mut *self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for t in tasks {
            let _ = t.await;
        }
        self.inner.bus.close();
        self.inner.tracer.stop("engine shut down").await;
    }

    /// Starts a PDU trace (guide 10.6), replacing a running one; see
    /// [`crate::trace`]. Fails if the spec is invalid, the device is not
    /// configured, or the first file cannot be created (the status then
    /// shows the error too).
    pub async fn start_trace(&self, spec: TraceSpec) -> Result<TraceStatus, TraceError> {
        let inner = &self.inner;
        inner
            .tracer
            .start(spec, |number| match inner.devices.get(number) {
                None => DeviceLookup {
                    configured: false,
                    monitors: Vec::new(),
                },
                Some((_, link)) => DeviceLookup {
                    configured: true,
                    monitors: link
                        .map(|l| {
                            inner.providers[l]
                                .monitors_of(number)
                                .into_iter()
                                .map(|x| (l.to_string(), x))
                                .collect()
                        })
                        .unwrap_or_default(),
                },
            })
            .await
    }

    /// Stops the running PDU trace (its files are complete when this
    /// returns); the final status, or the last trace's if none runs.
    pub async fn stop_trace(&self) -> Option<TraceStatus> {
        self.inner.tracer.stop("stopped").await
    }

    /// The running PDU trace, or the last one; `None` if none was started.
    pub fn trace_status(&self) -> Option<TraceStatus> {
        self.inner.tracer.status()
    }

    /// The device's entry and the live link serving it.
    pub(crate) fn route(
        &self,
        device: &str,
    ) -> Result<(Arc<DeviceEntry>, twp_csta::Link), ControlError> {
        if *self.inner.stop.borrow() {
            return Err(ControlError::ShuttingDown);
        }
        let (entry, link) =
            self.inner
                .devices
                .get(device)
                .ok_or_else(|| ControlError::UnknownDevice {
                    device: device.to_owned(),
                })?;
        let link = link.ok_or_else(|| ControlError::NotSupervised {
            device: device.to_owned(),
        })?;
        let provider = &self.inner.providers[link];
        Ok((entry.clone(), provider.link_for(device)?))
    }
}
