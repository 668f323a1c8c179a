//! A provider: one supervised CSTA link to the PBX (guide 4.1, 10.4).
//!
//! A task per link runs the cycle *connect → open the session → monitor
//! and resync every device allocated to it → follow events*, and on any
//! loss (peer closed, I/O error, malformed frame, heartbeat lost: the
//! `twp_csta::Link` closes itself and says why) marks the link and its
//! devices down, publishes it, waits an exponential, bounded, jittered
//! delay and starts again. Each link is independent: a malformed frame on
//! one link closes and reopens that link only.
//!
//! While the link is down, requests for its devices fail at once with
//! [`ControlError::LinkDown`]. Monitoring runs up to `window` requests in
//! flight while the link's events keep being read (the link applies
//! backpressure if its events are not drained).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};
use twp_csta::{
    CstaError, DeviceId, Event, Link, LinkConfig, LinkError, LinkEvent, Message, Request, Response,
};

use crate::backoff::{Backoff, Jitter};
use crate::config::{LinkSettings, Resync, SessionMode};
use crate::error::ControlError;
use crate::events::{EventBus, TelephonyEvent};
use crate::monitor::DeviceEntry;

/// A provider's state for the maintenance API (guide 10.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderState {
    /// Index of the link in the configuration ("Provider" in 10.5).
    pub id: usize,
    pub host: String,
    pub port: u16,
    pub domain: String,
    /// Cluster sites listed on the link.
    pub sites: Vec<String>,
    pub connected: bool,
    /// When `connected` last changed (start time if it never did).
    pub since: SystemTime,
    /// Devices monitored right now ("Current").
    pub current: usize,
    /// Devices allocated to the link.
    pub allocated: usize,
    /// Capacity ("Count").
    pub count: usize,
    /// Successful connections after the first.
    pub reconnects: u64,
    /// Why the link last went down or failed to come up.
    pub last_error: Option<String>,
    /// Every allocated device has been monitored and resynced since the
    /// link last came up.
    pub synced: bool,
}

struct Status {
    connected: bool,
    since: SystemTime,
    connections: u64,
    last_error: Option<String>,
}

/// What every provider shares with the engine.
#[derive(Clone)]
pub(crate) struct Context {
    pub bus: EventBus,
    pub backoff: Backoff,
    pub request_timeout: Duration,
    pub heartbeat_interval: Option<Duration>,
    pub window: usize,
    pub resync: Resync,
    /// Signalled whenever a provider finishes a resync pass or changes state.
    pub progress: Arc<Notify>,
    /// PDU traces (guide 10.6); each link reports under its index.
    pub tap: twp_csta::Tap,
}

pub(crate) struct Provider {
    pub index: usize,
    pub settings: LinkSettings,
    pub devices: Vec<Arc<DeviceEntry>>,
    status: Mutex<Status>,
    link: Mutex<Option<Link>>,
    xrefs: Mutex<Monitors>,
    synced: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Provider {
    pub fn new(index: usize, settings: LinkSettings, devices: Vec<Arc<DeviceEntry>>) -> Provider {
        Provider {
            index,
            settings,
            devices,
            status: Mutex::new(Status {
                connected: false,
                since: SystemTime::now(),
                connections: 0,
                last_error: None,
            }),
            link: Mutex::new(None),
            xrefs: Mutex::new(Monitors::default()),
            synced: AtomicBool::new(false),
        }
    }

    pub fn state(&self, domain: &str) -> ProviderState {
        let s = lock(&self.status);
        ProviderState {
            id: self.index,
            host: self.settings.host.clone(),
            port: self.settings.port,
            domain: domain.to_owned(),
            sites: self.settings.sites.iter().map(|p| p.to_string()).collect(),
            connected: s.connected,
            since: s.since,
            current: lock(&self.xrefs).by_xref.len(),
            allocated: self.devices.len(),
            count: self.settings.capacity,
            reconnects: s.connections.saturating_sub(1),
            last_error: s.last_error.clone(),
            synced: self.synced.load(Ordering::Acquire),
        }
    }

    /// Cross reference ids of the device's monitors on the current link.
    pub fn monitors_of(&self, number: &str) -> Vec<String> {
        lock(&self.xrefs)
            .by_xref
            .iter()
            .filter(|(_, d)| d.number == number)
            .map(|(x, _)| x.clone())
            .collect()
    }

    pub fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Acquire)
    }

    /// The link, if it is up.
    pub fn live_link(&self) -> Option<Link> {
        lock(&self.link).as_ref().filter(|l| l.is_open()).cloned()
    }

    /// Why the link last went down or failed to come up.
    pub fn last_error(&self) -> Option<String> {
        lock(&self.status).last_error.clone()
    }

    /// The live link for a request about `device`, or a fast failure.
    pub fn link_for(&self, device: &str) -> Result<Link, ControlError> {
        if let Some(link) = lock(&self.link).as_ref()
            && link.is_open()
        {
            return Ok(link.clone());
        }
        Err(ControlError::LinkDown {
            device: device.to_owned(),
            link: self.index,
            host: self.settings.host.clone(),
            port: self.settings.port,
            reason: lock(&self.status).last_error.clone(),
        })
    }

    fn set_up(&self, link: Link, ctx: &Context) {
        *lock(&self.link) = Some(link);
        {
            let mut s = lock(&self.status);
            s.connected = true;
            s.since = SystemTime::now();
            s.connections += 1;
        }
        info!(link = self.index, host = %self.settings.host, port = self.settings.port, "CSTA link up");
        ctx.bus.publish([TelephonyEvent::LinkStateChanged {
            link: self.index,
            connected: true,
            reason: None,
        }]);
        ctx.progress.notify_waiters();
    }

    fn set_down(&self, reason: String, ctx: &Context) {
        if let Some(link) = lock(&self.link).take() {
            link.close();
        }
        self.synced.store(false, Ordering::Release);
        {
            // A new epoch: resync tasks of the old link still finishing
            // cannot register into the next one.
            let mut m = lock(&self.xrefs);
            let epoch = m.epoch + 1;
            *m = Monitors {
                epoch,
                ..Monitors::default()
            };
        }
        let was_connected = {
            let mut s = lock(&self.status);
            let was = s.connected;
            if was {
                s.since = SystemTime::now();
            }
            s.connected = false;
            s.last_error = Some(reason.clone());
            was
        };
        if was_connected {
            warn!(link = self.index, %reason, "CSTA link down");
            for d in &self.devices {
                d.update(&ctx.bus, |s| s.set_supervised(false));
            }
            ctx.bus.publish([TelephonyEvent::LinkStateChanged {
                link: self.index,
                connected: false,
                reason: Some(reason),
            }]);
        }
        ctx.progress.notify_waiters();
    }

    fn link_config(&self, ctx: &Context) -> LinkConfig {
        LinkConfig {
            request_timeout: ctx.request_timeout,
            heartbeat_interval: ctx.heartbeat_interval,
            tap: Some(ctx.tap.labelled(&self.index.to_string())),
            ..LinkConfig::default()
        }
    }

    async fn open(
        &self,
        ctx: &Context,
    ) -> Result<
        (
            Link,
            tokio::sync::mpsc::Receiver<LinkEvent>,
            Option<KeepAlive>,
        ),
        String,
    > {
        let addr = (self.settings.host.as_str(), self.settings.port);
        let connect = Link::connect(addr, self.link_config(ctx));
        let (link, rx) = tokio::time::timeout(ctx.request_timeout, connect)
            .await
            .map_err(|_| {
                format!(
                    "no TCP connection to {}:{} within {:?}",
                    self.settings.host, self.settings.port, ctx.request_timeout
                )
            })?
            .map_err(|e| e.to_string())?;
        let opened = match &self.settings.session {
            SessionMode::ApplicationSession {
                application_id,
                duration_secs,
            } => link
                .start_application_session(application_id, *duration_secs)
                .await
                .map(|session_id| {
                    duration_secs.map(|secs| KeepAlive {
                        session_id,
                        duration_secs: secs.max(2),
                    })
                }),
            SessionMode::SystemRegister => {
                link.request(Request::SystemRegister).await.map(|_| None)
            }
            SessionMode::None => Ok(None),
        };
        match opened {
            Ok(keep_alive) => Ok((link, rx, keep_alive)),
            Err(e) => {
                link.close();
                Err(format!("session refused: {e}"))
            }
        }
    }
}

/// An ECMA-354 session with a duration: its timer is reset at half the
/// duration, or the switch would end it.
pub(crate) struct KeepAlive {
    session_id: String,
    duration_secs: u32,
}

/// Resets the session timer until the link closes; a failed reset closes
/// the link (the provider then reopens it).
async fn keep_session_alive(link: Link, k: KeepAlive) {
    let every = Duration::from_secs(u64::from(k.duration_secs) / 2);
    loop {
        tokio::time::sleep(every).await;
        if !link.is_open() {
            return;
        }
        let reset = Request::ResetApplicationSessionTimer {
            session_id: k.session_id.clone(),
            requested_session_duration: Some(k.duration_secs),
        };
        if let Err(e) = link.request(reset).await {
            warn!(error = %e, "application session could not be kept alive; reopening the link");
            link.close();
            return;
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs the provider until `shutdown` turns true.
pub(crate) async fn supervise(p: Arc<Provider>, ctx: Context, mut shutdown: watch::Receiver<bool>) {
    let mut attempt = 0u32;
    let mut jitter = Jitter::seeded_from_clock(p.index as u64);
    loop {
        if *shutdown.borrow() {
            break;
        }
        let opened = tokio::select! {
            r = p.open(&ctx) => r,
            _ = shutdown.changed() => break,
        };
        match opened {
            Ok((link, rx, keep_alive)) => {
                attempt = 0;
                let _keep_alive = keep_alive
                    .map(|k| AbortOnDrop(tokio::spawn(keep_session_alive(link.clone(), k))));
                p.set_up(link.clone(), &ctx);
                let reason = run(&p, &ctx, link, rx, &mut shutdown).await;
                match reason {
                    Some(reason) => p.set_down(reason, &ctx),
                    None => {
                        p.set_down("shutting down".into(), &ctx);
                        break;
                    }
                }
            }
            Err(reason) => {
                debug!(link = p.index, %reason, "CSTA link not opened");
                p.set_down(reason, &ctx);
            }
        }
        let delay = ctx.backoff.delay(attempt, jitter.next_unit());
        attempt = attempt.saturating_add(1);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => break,
        }
    }
    if let Some(link) = lock(&p.link).take() {
        link.close();
    }
}

/// Follows an open link; returns why it ended, `None` on shutdown.
async fn run(
    p: &Arc<Provider>,
    ctx: &Context,
    link: Link,
    mut rx: tokio::sync::mpsc::Receiver<LinkEvent>,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<String> {
    let mut next = 0usize;
    let mut inflight = JoinSet::new();
    let epoch = lock(&p.xrefs).epoch;
    let window = ctx.window.max(1);
    loop {
        while inflight.len() < window && next < p.devices.len() {
            let device = p.devices[next].clone();
            next += 1;
            inflight.spawn(resync_device(
                p.clone(),
                ctx.clone(),
                link.clone(),
                device,
                epoch,
            ));
        }
        if next == p.devices.len() && inflight.is_empty() && !p.is_synced() {
            {
                // Every monitor is registered: what is left never will be.
                let mut m = lock(&p.xrefs);
                m.early.clear();
                m.early_count = 0;
            }
            p.synced.store(true, Ordering::Release);
            info!(
                link = p.index,
                devices = lock(&p.xrefs).by_xref.len(),
                "link resynced"
            );
            ctx.progress.notify_waiters();
        }
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(LinkEvent::Event(e)) => on_event(p, ctx, e),
                Some(LinkEvent::Request { invoke_id, request }) => {
                    debug!(link = p.index, name = request.name(), "request from the PBX refused");
                    let refusal = Message::Error(CstaError::new(twp_csta::ErrorCategory::Operation, "generic"));
                    let _ = link.respond(invoke_id, &refusal).await;
                }
                Some(LinkEvent::Closed(e)) => return Some(e.to_string()),
                None => return Some(LinkError::Closed.to_string()),
            },
            Some(done) = inflight.join_next(), if !inflight.is_empty() => {
                if let Err(e) = done {
                    warn!(link = p.index, error = %e, "resync task failed");
                }
            }
            _ = shutdown.changed() => return None,
        }
    }
}

fn on_event(p: &Provider, ctx: &Context, e: Event) {
    let device = {
        let mut m = lock(&p.xrefs);
        match m.by_xref.get(&e.cross_ref_id) {
            Some(d) => d.clone(),
            None if !p.is_synced() => {
                m.keep_early(e);
                return;
            }
            None => {
                debug!(link = p.index, xref = %e.cross_ref_id, "event for an unknown monitor skipped");
                return;
            }
        }
    };
    device.apply_event(&e.kind, &ctx.bus);
}

/// The monitors of a link: cross reference id → device, and events that
/// arrived before their MonitorStart answer was processed.
#[derive(Default)]
pub(crate) struct Monitors {
    by_xref: HashMap<String, Arc<DeviceEntry>>,
    early: HashMap<String, Vec<twp_csta::EventKind>>,
    early_count: usize,
    /// Link sessions so far (see [`Provider::set_down`]).
    epoch: u64,
}

/// Most early events kept per link (a PBX sending events for monitors it
/// never started must not grow memory).
const EARLY_LIMIT: usize = 4096;

impl Monitors {
    fn keep_early(&mut self, e: Event) {
        if self.early_count >= EARLY_LIMIT {
            debug!(xref = %e.cross_ref_id, "event for an unknown monitor skipped");
            return;
        }
        self.early_count += 1;
        self.early.entry(e.cross_ref_id).or_default().push(e.kind);
    }
}

/// Records a new monitor and applies the events that overtook its answer,
/// under the monitors' lock so later events cannot pass them.
/// Marks the device supervised, all under the monitors' lock so a link
/// going down meanwhile either sees the monitor or refuses it (`false`).
fn register(p: &Provider, ctx: &Context, xref: String, d: &Arc<DeviceEntry>, epoch: u64) -> bool {
    let mut m = lock(&p.xrefs);
    if m.epoch != epoch {
        return false;
    }
    d.update(&ctx.bus, |s| s.set_supervised(true));
    if let Some(early) = m.early.remove(&xref) {
        m.early_count -= early.len();
        for kind in &early {
            d.apply_event(kind, &ctx.bus);
        }
    }
    m.by_xref.insert(xref, d.clone());
    true
}

/// Monitors one device, then reads back its calls and features.
async fn resync_device(
    p: Arc<Provider>,
    ctx: Context,
    link: Link,
    d: Arc<DeviceEntry>,
    epoch: u64,
) {
    let id = DeviceId::new(d.number.clone());
    let xref = match link.monitor_start(&id).await {
        Ok(x) => x,
        Err(e) => {
            if link.is_open() {
                warn!(link = p.index, device = %d.number, error = %e, "monitor refused");
            }
            return;
        }
    };
    if !register(&p, &ctx, xref, &d, epoch) {
        return;
    }
    if ctx.resync.calls {
        // A snapshot overtaken by events is read again: the events are
        // newer, or the next snapshot will be.
        for _ in 0..3 {
            let generation = d.generation();
            let calls = match link
                .request(Request::SnapshotDevice {
                    snapshot_object: id.clone(),
                })
                .await
            {
                Ok(Response::SnapshotDevice { calls }) => calls,
                Ok(_) | Err(_) => break,
            };
            if d.update_if_unchanged(generation, &ctx.bus, |s| s.apply_snapshot(&calls)) {
                break;
            }
        }
    }
    if ctx.resync.features {
        let dnd = match link
            .request(Request::GetDoNotDisturb { device: id.clone() })
            .await
        {
            Ok(Response::GetDoNotDisturb { do_not_disturb_on }) => Some(do_not_disturb_on),
            _ => None,
        };
        let fwd = match link.request(Request::GetForwarding { device: id }).await {
            Ok(Response::GetForwarding { forwarding }) => Some(forwarding),
            _ => None,
        };
        d.update(&ctx.bus, |s| s.apply_features(dnd, fwd.as_deref()));
    }
}
