//! The PBX model: devices, calls and the call state machine. Pure and
//! synchronous: every operation mutates the model and records what the
//! outside must see in [`Effects`] (events for the monitors of the devices
//! involved, timers to start). The server owns the I/O.

mod calls;
mod features;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use twp_csta::{ConnectionId, CstaError, DeviceId, ErrorCategory, EventKind, ForwardingType};
use twp_csta::{LocalConnectionState as State, SnapshotCall};

use crate::config::{DeviceConfig, DeviceRole, SimConfig};

/// What kind of device a number designates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceKind {
    /// A phone of the PBX, at a site.cluster (e.g. `1.1`).
    Extension { site_cluster: String },
    /// A number behind the trunk.
    External,
    /// A queue/hunt device distributing calls to its CCOs (agents).
    HuntGroup {
        members: Vec<String>,
        next: usize,
        queue: VecDeque<String>,
    },
    /// The voicemail server.
    Voicemail,
}

#[derive(Debug, Clone)]
pub struct Device {
    pub number: String,
    pub kind: DeviceKind,
    pub name: Option<String>,
    pub pickup_group: Option<String>,
    pub has_voicemail: bool,
    pub forwarding: BTreeMap<ForwardingType, String>,
    pub do_not_disturb: bool,
    pub message_waiting: bool,
}

impl Device {
    fn new(number: &str, kind: DeviceKind) -> Device {
        Device {
            number: number.to_owned(),
            kind,
            name: None,
            pickup_group: None,
            has_voicemail: false,
            forwarding: BTreeMap::new(),
            do_not_disturb: false,
            message_waiting: false,
        }
    }

    pub fn is_internal(&self) -> bool {
        !matches!(self.kind, DeviceKind::External)
    }
}

/// One device's connection to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub device: String,
    pub state: State,
}

#[derive(Debug, Clone)]
pub struct Call {
    pub id: String,
    pub parties: Vec<Party>,
    /// Who placed the call, and the number dialled.
    pub calling: String,
    pub called: String,
    pub last_redirection: Option<String>,
}

impl Call {
    pub fn party(&self, device: &str) -> Option<&Party> {
        self.parties.iter().find(|p| p.device == device)
    }

    fn party_mut(&mut self, device: &str) -> Option<&mut Party> {
        self.parties.iter_mut().find(|p| p.device == device)
    }

    pub fn devices(&self) -> Vec<String> {
        self.parties.iter().map(|p| p.device.clone()).collect()
    }

    pub fn connection(&self, device: &str) -> ConnectionId {
        ConnectionId::new(self.id.clone(), device)
    }
}

/// An event for the monitors of `devices`; `state` of each receiving
/// device's connection in `call` is filled in at dispatch.
#[derive(Debug, Clone)]
pub struct Notification {
    pub devices: Vec<String>,
    pub call: Option<String>,
    pub kind: EventKind,
}

/// A timer the server must start; when it fires it calls back into the PBX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timer {
    /// Forward on no answer / voicemail if `device` still rings.
    NoAnswer {
        call: String,
        device: String,
        after: Duration,
    },
    /// An external party picks up.
    AutoAnswer {
        call: String,
        device: String,
        after: Duration,
    },
}

#[derive(Debug, Default)]
pub struct Effects {
    pub notes: Vec<Notification>,
    pub timers: Vec<Timer>,
}

impl Effects {
    fn note(&mut self, devices: Vec<String>, call: Option<&str>, kind: EventKind) {
        self.notes.push(Notification {
            devices,
            call: call.map(str::to_owned),
            kind,
        });
    }
}

pub type PbxResult<T> = Result<T, CstaError>;

pub fn invalid_device(_number: &str) -> CstaError {
    CstaError::new(ErrorCategory::Operation, "invalidDeviceID")
}

pub fn invalid_call() -> CstaError {
    CstaError::new(ErrorCategory::Operation, "invalidCallID")
}

pub fn invalid_connection() -> CstaError {
    CstaError::new(ErrorCategory::Operation, "invalidConnectionID")
}

pub fn invalid_state() -> CstaError {
    CstaError::new(
        ErrorCategory::StateIncompatibility,
        "invalidConnectionState",
    )
}

/// The PBX.
#[derive(Debug)]
pub struct Pbx {
    devices: HashMap<String, Device>,
    calls: BTreeMap<String, Call>,
    next_call: u64,
    voicemail: Option<String>,
    no_answer: Duration,
    external_answer: Option<Duration>,
}

impl Pbx {
    pub fn new(config: &SimConfig) -> Pbx {
        let mut pbx = Pbx {
            devices: HashMap::new(),
            calls: BTreeMap::new(),
            next_call: 1,
            voicemail: None,
            no_answer: config.no_answer_timeout,
            external_answer: config.external_answer_after,
        };
        for d in &config.devices {
            pbx.add_device(d);
        }
        pbx
    }

    pub fn add_device(&mut self, d: &DeviceConfig) {
        let kind = match &d.role {
            DeviceRole::Extension { site_cluster } => DeviceKind::Extension {
                site_cluster: site_cluster.clone(),
            },
            DeviceRole::HuntGroup { members } => DeviceKind::HuntGroup {
                members: members.clone(),
                next: 0,
                queue: VecDeque::new(),
            },
            DeviceRole::Voicemail => {
                self.voicemail = Some(d.number.clone());
                DeviceKind::Voicemail
            }
        };
        let mut dev = Device::new(&d.number, kind);
        dev.name = d.name.clone();
        dev.has_voicemail = d.voicemail;
        dev.pickup_group = d.pickup_group.clone().or_else(|| match &d.role {
            DeviceRole::Extension { site_cluster } => Some(site_cluster.clone()),
            _ => None,
        });
        self.devices.insert(d.number.clone(), dev);
    }

    /// Removes a device that is in no call; refused otherwise.
    pub fn remove_device(&mut self, number: &str) -> PbxResult<()> {
        if !self.devices.contains_key(number) {
            return Err(invalid_device(number));
        }
        if self.is_busy(number) {
            return Err(invalid_state());
        }
        if self.voicemail.as_deref() == Some(number) {
            self.voicemail = None;
        }
        self.devices.remove(number);
        Ok(())
    }

    pub fn device(&self, number: &str) -> Option<&Device> {
        self.devices.get(number)
    }

    pub fn devices(&self) -> impl Iterator<Item = &Device> {
        self.devices.values()
    }

    pub fn calls(&self) -> impl Iterator<Item = &Call> {
        self.calls.values()
    }

    pub fn call(&self, id: &str) -> Option<&Call> {
        self.calls.get(id)
    }

    /// Whether `number` can be monitored (an internal device).
    pub fn is_monitorable(&self, number: &str) -> bool {
        self.devices.get(number).is_some_and(Device::is_internal)
    }

    /// State of `device`'s connection in `call`, `Null` if none.
    pub fn state_of(&self, call: &str, device: &str) -> State {
        self.calls
            .get(call)
            .and_then(|c| c.party(device))
            .map_or(State::Null, |p| p.state)
    }

    /// Calls at `device` with its connection state (SnapshotDevice).
    pub fn snapshot(&self, device: &str) -> PbxResult<Vec<SnapshotCall>> {
        if !self.devices.contains_key(device) {
            return Err(invalid_device(device));
        }
        Ok(self
            .calls
            .values()
            .filter_map(|c| {
                c.party(device).map(|p| SnapshotCall {
                    connection: c.connection(device),
                    state: Some(p.state),
                })
            })
            .collect())
    }

    /// Whether a device has any connection (busy for routing).
    pub fn is_busy(&self, device: &str) -> bool {
        self.calls.values().any(|c| c.party(device).is_some())
    }

    /// Calls where `device` is in `state`.
    pub fn calls_in_state(&self, device: &str, state: State) -> Vec<String> {
        self.calls
            .values()
            .filter(|c| c.party(device).is_some_and(|p| p.state == state))
            .map(|c| c.id.clone())
            .collect()
    }

    /// Resolves a dialled number: a configured device, or an external
    /// number behind the trunk (digits, `+`, `*`, `#`), created on demand.
    fn resolve(&mut self, number: &str) -> PbxResult<String> {
        if self.devices.contains_key(number) {
            return Ok(number.to_owned());
        }
        let dialable = !number.is_empty()
            && number.len() <= 32
            && number
                .chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_digit() || c == '*' || c == '#' || (c == '+' && i == 0));
        if !dialable {
            return Err(invalid_device(number));
        }
        self.devices
            .insert(number.to_owned(), Device::new(number, DeviceKind::External));
        Ok(number.to_owned())
    }

    fn new_call_id(&mut self) -> String {
        let id = format!("{:016X}", self.next_call);
        self.next_call += 1;
        id
    }

    fn call_mut(&mut self, id: &str) -> PbxResult<&mut Call> {
        self.calls.get_mut(id).ok_or_else(invalid_call)
    }

    /// The call and device of a connection, checked to exist.
    fn connection(&self, c: &ConnectionId) -> PbxResult<(String, String)> {
        let call = c.call_id.clone().ok_or_else(invalid_connection)?;
        let device = c
            .device_id
            .as_ref()
            .map(|d| d.number().to_owned())
            .ok_or_else(invalid_connection)?;
        let found = self.calls.get(&call).ok_or_else(invalid_call)?;
        if found.party(&device).is_none() {
            return Err(invalid_connection());
        }
        Ok((call, device))
    }

    pub fn set_message_waiting(
        &mut self,
        device: &str,
        on: bool,
        fx: &mut Effects,
    ) -> PbxResult<()> {
        let d = self
            .devices
            .get_mut(device)
            .ok_or_else(|| invalid_device(device))?;
        if d.message_waiting != on {
            d.message_waiting = on;
            fx.note(
                vec![device.to_owned()],
                None,
                EventKind::MessageWaiting {
                    target_device: Some(DeviceId::new(device)),
                    device_for_message: Some(DeviceId::new(device)),
                    message_waiting_on: on,
                },
            );
        }
        Ok(())
    }
}
