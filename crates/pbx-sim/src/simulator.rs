//! The scenario API: what the outside world and the phones do, link loss
//! on demand, and status for the HTTP/CLI front-ends.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use twp_csta::{CstaError, ForwardingType, LocalConnectionState};

use crate::config::SimConfig;
use crate::core::Core;
use crate::pbx::DeviceKind;

/// Why a scenario step or start-up failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {message}")]
    Bind { addr: SocketAddr, message: String },
    #[error("the PBX refused: {0}")]
    Refused(CstaError),
    #[error("device {device} has no ringing call")]
    NothingToAnswer { device: String },
    #[error("device {device} has no call")]
    Idle { device: String },
}

impl From<CstaError> for SimError {
    fn from(e: CstaError) -> Self {
        SimError::Refused(e)
    }
}

/// A handle on a running simulator; cheap to clone.
#[derive(Clone)]
pub struct Simulator {
    pub(crate) core: Arc<Core>,
}

/// A running simulator, as returned by [`run`].
pub struct Running {
    /// Bound address of each configured listener, in order.
    pub addrs: Vec<SocketAddr>,
    pub simulator: Simulator,
    /// Ends after shutdown, once listeners are closed and links dropped.
    pub task: JoinHandle<()>,
}

/// Binds every listener, then serves until `shutdown` completes.
pub async fn run(
    config: SimConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, SimError> {
    let mut listeners = Vec::with_capacity(config.listen.len());
    let mut addrs = Vec::with_capacity(config.listen.len());
    for addr in &config.listen {
        let l = TcpListener::bind(addr).await.map_err(|e| SimError::Bind {
            addr: *addr,
            message: e.to_string(),
        })?;
        addrs.push(l.local_addr().unwrap_or(*addr));
        listeners.push(l);
    }
    let core = Core::new(config);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut loops = Vec::new();
    for (i, l) in listeners.into_iter().enumerate() {
        loops.push(tokio::spawn(crate::server::accept_loop(
            core.clone(),
            l,
            i,
            stop_rx.clone(),
        )));
    }
    let simulator = Simulator { core: core.clone() };
    let task = tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
        for l in loops {
            let _ = l.await;
        }
        core.kill_links(None);
    });
    Ok(Running {
        addrs,
        simulator,
        task,
    })
}

/// A link as seen by the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkStatus {
    pub id: u64,
    pub listener: usize,
    pub peer: SocketAddr,
    pub monitors: usize,
}

/// One device's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceStatus {
    pub number: String,
    /// `extension`, `external`, `hunt group`, `voicemail`.
    pub kind: &'static str,
    pub site_cluster: Option<String>,
    pub name: Option<String>,
    /// (call id, state of this device's connection).
    pub calls: Vec<(String, LocalConnectionState)>,
    pub do_not_disturb: bool,
    pub message_waiting: bool,
    pub forwarding: Vec<(ForwardingType, String)>,
    /// CCOs of a hunt group.
    pub members: Vec<String>,
    pub monitored: bool,
}

/// A call and its parties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStatus {
    pub id: String,
    pub calling: String,
    pub called: String,
    pub parties: Vec<(String, LocalConnectionState)>,
}

impl Simulator {
    /// An outside caller dials `to`; returns the call id.
    pub fn external_call(&self, from: &str, to: &str) -> Result<String, SimError> {
        Ok(self.core.act(|w, fx| w.pbx.external_call(from, to, fx))?)
    }

    /// Phone `from` dials `to` (as if off-hook); returns the call id.
    pub fn dial(&self, from: &str, to: &str) -> Result<String, SimError> {
        let conn = self.core.act(|w, fx| w.pbx.make_call(from, to, fx))?;
        Ok(conn.call_id.unwrap_or_default())
    }

    /// `device` (phone or outside party) picks up its ringing call.
    pub fn answer(&self, device: &str) -> Result<String, SimError> {
        self.core.act(|w, fx| {
            let call = w
                .pbx
                .calls_in_state(device, LocalConnectionState::Alerting)
                .into_iter()
                .next()
                .ok_or_else(|| SimError::NothingToAnswer {
                    device: device.to_owned(),
                })?;
            w.pbx.answer(&call, device, fx)?;
            Ok(call)
        })
    }

    /// `device` hangs up: its connected call first, else any other.
    pub fn hang_up(&self, device: &str) -> Result<String, SimError> {
        self.core.act(|w, fx| {
            let pick = [
                LocalConnectionState::Connected,
                LocalConnectionState::Alerting,
                LocalConnectionState::Fail,
                LocalConnectionState::Hold,
                LocalConnectionState::Queued,
                LocalConnectionState::Initiated,
            ]
            .iter()
            .find_map(|s| w.pbx.calls_in_state(device, *s).into_iter().next());
            let call = pick.ok_or_else(|| SimError::Idle {
                device: device.to_owned(),
            })?;
            w.pbx.clear_connection(&call, device, fx)?;
            Ok(call)
        })
    }

    /// Ends a given call for `device`.
    pub fn clear(&self, call: &str, device: &str) -> Result<(), SimError> {
        Ok(self
            .core
            .act(|w, fx| w.pbx.clear_connection(call, device, fx))?)
    }

    pub fn set_do_not_disturb(&self, device: &str, on: bool) -> Result<(), SimError> {
        Ok(self
            .core
            .act(|w, fx| w.pbx.set_do_not_disturb(device, on, fx))?)
    }

    /// Sets (`Some(destination)`) or cancels a forwarding rule.
    pub fn set_forwarding(
        &self,
        device: &str,
        kind: ForwardingType,
        destination: Option<&str>,
    ) -> Result<(), SimError> {
        Ok(self.core.act(|w, fx| {
            w.pbx
                .set_forwarding(device, kind, destination.is_some(), destination, fx)
        })?)
    }

    /// Lights or clears the message waiting lamp (e.g. messages listened to).
    pub fn set_message_waiting(&self, device: &str, on: bool) -> Result<(), SimError> {
        Ok(self
            .core
            .act(|w, fx| w.pbx.set_message_waiting(device, on, fx))?)
    }

    /// Adds (or replaces) a device while running, e.g. a new subscriber.
    pub fn add_device(&self, device: &crate::config::DeviceConfig) {
        let mut w = self.core.lock();
        w.pbx.add_device(device);
        w.log(format!("device {} added", device.number));
    }

    /// Removes a device that is in no call (a subscriber leaving).
    pub fn remove_device(&self, number: &str) -> Result<(), SimError> {
        let mut w = self.core.lock();
        w.pbx.remove_device(number)?;
        w.log(format!("device {number} removed"));
        Ok(())
    }

    /// Drops the links accepted on listener `listener` (all when `None`);
    /// returns how many. Clients see the TCP connection close.
    pub fn drop_links(&self, listener: Option<usize>) -> usize {
        self.core.kill_links(listener)
    }

    /// While `true`, new links are closed as soon as accepted (the PBX's
    /// CSTA server is down).
    pub fn refuse_links(&self, refuse: bool) {
        let mut w = self.core.lock();
        w.refusing = refuse;
        w.log(format!(
            "new links {}",
            if refuse { "refused" } else { "accepted" }
        ));
    }

    pub fn links(&self) -> Vec<LinkStatus> {
        let w = self.core.lock();
        let mut v: Vec<LinkStatus> = w
            .links
            .iter()
            .map(|(id, s)| LinkStatus {
                id: *id,
                listener: s.listen,
                peer: s.peer,
                monitors: s.monitors.len(),
            })
            .collect();
        v.sort_by_key(|l| l.id);
        v
    }

    /// Total monitors over all links.
    pub fn monitor_count(&self) -> usize {
        self.core.lock().monitors.by_xref.len()
    }

    /// Events written to link queues since start.
    pub fn events_sent(&self) -> u64 {
        self.core.lock().events_sent
    }

    /// Recent link-level happenings (up, down and why, refused...).
    pub fn link_log(&self) -> Vec<String> {
        self.core.lock().log.iter().cloned().collect()
    }

    pub fn calls(&self) -> Vec<CallStatus> {
        let w = self.core.lock();
        w.pbx
            .calls()
            .map(|c| CallStatus {
                id: c.id.clone(),
                calling: c.calling.clone(),
                called: c.called.clone(),
                parties: c
                    .parties
                    .iter()
                    .map(|p| (p.device.clone(), p.state))
                    .collect(),
            })
            .collect()
    }

    pub fn device(&self, number: &str) -> Option<DeviceStatus> {
        let w = self.core.lock();
        let d = w.pbx.device(number)?;
        let (kind, site_cluster, members) = match &d.kind {
            DeviceKind::Extension { site_cluster } => {
                ("extension", Some(site_cluster.clone()), Vec::new())
            }
            DeviceKind::External => ("external", None, Vec::new()),
            DeviceKind::HuntGroup { members, .. } => ("hunt group", None, members.clone()),
            DeviceKind::Voicemail => ("voicemail", None, Vec::new()),
        };
        Some(DeviceStatus {
            number: d.number.clone(),
            kind,
            site_cluster,
            name: d.name.clone(),
            calls: w
                .pbx
                .calls()
                .filter_map(|c| c.party(number).map(|p| (c.id.clone(), p.state)))
                .collect(),
            do_not_disturb: d.do_not_disturb,
            message_waiting: d.message_waiting,
            forwarding: d.forwarding.iter().map(|(k, v)| (*k, v.clone())).collect(),
            members,
            monitored: w.monitors.by_device.contains_key(number),
        })
    }

    /// Numbers of the configured internal devices, sorted.
    pub fn device_numbers(&self) -> Vec<String> {
        let w = self.core.lock();
        let mut v: Vec<String> = w
            .pbx
            .devices()
            .filter(|d| d.is_internal())
            .map(|d| d.number.clone())
            .collect();
        v.sort();
        v
    }
}
