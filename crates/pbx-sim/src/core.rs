//! The shared world: the PBX model, the links and their monitors, and the
//! dispatch of events to monitors. One mutex guards it all; work under it
//! is short (no I/O: frames go to per-link queues).

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, mpsc};
use tracing::{info, warn};

use twp_csta::{Event, Frame, InvokeId, Message, encode};

use crate::config::SimConfig;
use crate::pbx::{Effects, Notification, Pbx, Timer};

pub(crate) struct LinkSlot {
    pub tx: mpsc::Sender<Frame>,
    pub listen: usize,
    pub peer: SocketAddr,
    pub monitors: HashSet<String>,
    pub kill: Arc<Notify>,
}

#[derive(Default)]
pub(crate) struct Monitors {
    pub by_device: HashMap<String, Vec<(u64, String)>>,
    pub by_xref: HashMap<String, (u64, String)>,
}

pub(crate) struct World {
    pub pbx: Pbx,
    pub monitors: Monitors,
    pub links: HashMap<u64, LinkSlot>,
    pub next_link: u64,
    pub next_xref: u64,
    pub next_session: u64,
    pub refusing: bool,
    pub log: VecDeque<String>,
    pub events_sent: u64,
    pub monitors_per_link: usize,
}

const LOG_LINES: usize = 64;

impl World {
    pub fn log(&mut self, line: String) {
        info!("{line}");
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(line);
    }

    /// Sends each notification to the monitors of its devices, filling in
    /// each receiver's own connection state. A link whose queue is full is
    /// killed (too slow), never waited for.
    pub fn dispatch(&mut self, notes: Vec<Notification>) {
        let mut too_slow = Vec::new();
        for note in notes {
            let mut devices = note.devices;
            devices.sort();
            devices.dedup();
            for device in devices {
                let Some(monitors) = self.monitors.by_device.get(&device) else {
                    continue;
                };
                let mut kind = note.kind.clone();
                if let (Some(call), Some(info)) = (&note.call, kind.info_mut())
                    && info.state.is_none()
                {
                    info.state = Some(self.pbx.state_of(call, &device));
                }
                for (link, xref) in monitors {
                    let Some(slot) = self.links.get(link) else {
                        continue;
                    };
                    let event = Message::Event(Event {
                        cross_ref_id: xref.clone(),
                        kind: kind.clone(),
                    });
                    let frame = Frame::new(InvokeId::EVENT, encode(&event).into_bytes());
                    if slot.tx.try_send(frame).is_err() {
                        too_slow.push(*link);
                    } else {
                        self.events_sent += 1;
                    }
                }
            }
        }
        too_slow.sort_unstable();
        too_slow.dedup();
        for link in too_slow {
            if let Some(slot) = self.links.get(&link) {
                slot.kill.notify_one();
            }
            self.log(format!("link {link}: event queue full, link dropped"));
        }
    }

    pub fn remove_link(&mut self, id: u64) {
        if let Some(slot) = self.links.remove(&id) {
            for xref in slot.monitors {
                if let Some((_, device)) = self.monitors.by_xref.remove(&xref)
                    && let Some(list) = self.monitors.by_device.get_mut(&device)
                {
                    list.retain(|(_, x)| *x != xref);
                    if list.is_empty() {
                        self.monitors.by_device.remove(&device);
                    }
                }
            }
        }
    }
}

pub(crate) struct Core {
    world: Mutex<World>,
    pub config: SimConfig,
}

impl Core {
    pub fn new(config: SimConfig) -> Arc<Core> {
        Arc::new(Core {
            world: Mutex::new(World {
                pbx: Pbx::new(&config),
                monitors: Monitors::default(),
                links: HashMap::new(),
                next_link: 1,
                next_xref: 1,
                next_session: 1,
                refusing: false,
                log: VecDeque::new(),
                events_sent: 0,
                monitors_per_link: config.monitors_per_link,
            }),
            config,
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a PBX operation, dispatches its events and starts its timers.
    pub fn act<R>(self: &Arc<Self>, f: impl FnOnce(&mut World, &mut Effects) -> R) -> R {
        let mut fx = Effects::default();
        let r = {
            let mut w = self.lock();
            let r = f(&mut w, &mut fx);
            w.dispatch(std::mem::take(&mut fx.notes));
            r
        };
        self.start_timers(fx.timers);
        r
    }

    pub fn start_timers(self: &Arc<Self>, timers: Vec<Timer>) {
        for timer in timers {
            let core = Arc::downgrade(self);
            tokio::spawn(async move {
                let after = match &timer {
                    Timer::NoAnswer { after, .. } | Timer::AutoAnswer { after, .. } => *after,
                };
                tokio::time::sleep(after).await;
                let Some(core) = core.upgrade() else {
                    return;
                };
                core.act(|w, fx| match &timer {
                    Timer::NoAnswer { call, device, .. } => w.pbx.no_answer(call, device, fx),
                    Timer::AutoAnswer { call, device, .. } => w.pbx.auto_answer(call, device, fx),
                });
            });
        }
    }

    /// Kills the links accepted on `listen` (all links when `None`).
    pub fn kill_links(&self, listen: Option<usize>) -> usize {
        let mut w = self.lock();
        let ids: Vec<u64> = w
            .links
            .iter()
            .filter(|(_, s)| listen.is_none_or(|l| s.listen == l))
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            if let Some(slot) = w.links.get(id) {
                slot.kill.notify_one();
            }
            w.remove_link(*id);
        }
        if !ids.is_empty() {
            warn!(count = ids.len(), "CSTA links dropped on demand");
            w.log(format!("{} link(s) dropped on demand", ids.len()));
        }
        ids.len()
    }
}
