//! Which PDUs a trace keeps.
//!
//! A trace of `*` keeps every PDU. A trace of one device keeps a PDU that
//! concerns the device:
//! - a request naming it (sent by TWP or by the switch), and the answer
//!   with the same invoke id on the same link;
//! - an event on its monitor (the cross reference id from the answer to
//!   its `MonitorStart`, or known from the engine when the trace starts),
//!   or an event naming it in a connection or as a party;
//! - a frame that could not be decoded: nothing tells which device it is
//!   for, and it is what an administrator looks for.
//!
//! Session-level PDUs (application session, system status, registration,
//! heartbeats) and unmodelled messages are in `*` traces only.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use twp_csta::{DeviceId, Direction, Message, Pdu, Request, Response};

/// Invoke ids remembered per kind; beyond, the oldest requests are
/// forgotten (a request never answered must not grow memory).
const PENDING_LIMIT: usize = 4096;

pub(crate) enum Target {
    All,
    Device(Box<DeviceFilter>),
}

impl Target {
    pub fn concerns(&self, pdu: &Pdu<'_>) -> bool {
        match self {
            Target::All => true,
            Target::Device(f) => f.concerns(pdu),
        }
    }
}

pub(crate) struct DeviceFilter {
    number: String,
    state: Mutex<Seen>,
}

/// What the filter learnt, per link label (looked up by `&str`: no
/// allocation per PDU).
#[derive(Default)]
struct Seen {
    links: HashMap<String, LinkSeen>,
}

#[derive(Default)]
struct LinkSeen {
    /// Invoke ids of requests TWP sent for the device.
    ours: HashSet<u16>,
    /// Those of them that are `MonitorStart`s.
    monitor_starts: HashSet<u16>,
    /// Invoke ids of requests the switch sent for the device.
    theirs: HashSet<u16>,
    /// Cross reference ids of the device's monitors.
    monitors: HashSet<String>,
}

impl Seen {
    /// Only for PDUs that concern the device (the key is allocated).
    fn link(&mut self, link: &str) -> &mut LinkSeen {
        self.links.entry(link.to_owned()).or_default()
    }

    fn get(&self, link: &str) -> Option<&LinkSeen> {
        self.links.get(link)
    }

    fn get_mut(&mut self, link: &str) -> Option<&mut LinkSeen> {
        self.links.get_mut(link)
    }
}

fn bounded_insert<T: std::hash::Hash + Eq>(set: &mut HashSet<T>, value: T) {
    if set.len() >= PENDING_LIMIT {
        set.clear();
    }
    set.insert(value);
}

impl DeviceFilter {
    pub fn new(number: &str) -> DeviceFilter {
        DeviceFilter {
            number: number.to_owned(),
            state: Mutex::new(Seen::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Seen> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A monitor of the device started before the trace.
    pub fn seed_monitor(&self, link: &str, cross_ref_id: &str) {
        bounded_insert(
            &mut self.lock().link(link).monitors,
            cross_ref_id.to_owned(),
        );
    }

    fn names(&self, devices: Vec<&DeviceId>) -> bool {
        devices.iter().any(|d| d.number() == self.number)
    }

    pub fn concerns(&self, pdu: &Pdu<'_>) -> bool {
        let Some(msg) = pdu.message else {
            return true;
        };
        let id = pdu.invoke_id.map_or(0, |i| i.get());
        match (pdu.direction, msg) {
            (_, Message::Request(r)) if r.is_session() => false,
            (Direction::Sent, Message::Request(r)) => {
                let mut seen = self.lock();
                let on_monitor = matches!(r, Request::MonitorStop { cross_ref_id }
                    if seen.get(pdu.link).is_some_and(|l| l.monitors.contains(cross_ref_id)));
                if !(on_monitor || self.names(r.devices())) {
                    return false;
                }
                let l = seen.link(pdu.link);
                if matches!(r, Request::MonitorStart { .. }) {
                    bounded_insert(&mut l.monitor_starts, id);
                }
                bounded_insert(&mut l.ours, id);
                true
            }
            (Direction::Received, Message::Request(r)) => {
                if !self.names(r.devices()) {
                    return false;
                }
                bounded_insert(&mut self.lock().link(pdu.link).theirs, id);
                true
            }
            (Direction::Sent, Message::Response(_) | Message::Error(_)) => self
                .lock()
                .get_mut(pdu.link)
                .is_some_and(|l| l.theirs.remove(&id)),
            (Direction::Received, answer @ (Message::Response(_) | Message::Error(_))) => {
                let mut seen = self.lock();
                let Some(l) = seen.get_mut(pdu.link) else {
                    return false;
                };
                if !l.ours.remove(&id) {
                    return false;
                }
                if l.monitor_starts.remove(&id)
                    && let Message::Response(Response::MonitorStart { cross_ref_id }) = answer
                {
                    bounded_insert(&mut l.monitors, cross_ref_id.clone());
                }
                true
            }
            (_, Message::Event(e)) => {
                let on_monitor = self
                    .lock()
                    .get(pdu.link)
                    .is_some_and(|l| l.monitors.contains(&e.cross_ref_id));
                on_monitor || self.names(e.kind.devices())
            }
            (_, Message::Unknown { .. }) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;
    use twp_csta::{
        CallEventInfo, ConnectionId, CstaError, ErrorCategory, Event, EventKind, InvokeId,
        SystemStatusValue,
    };

    fn pdu<'a>(link: &'a str, direction: Direction, id: u16, msg: &'a Message) -> Pdu<'a> {
        Pdu {
            time: SystemTime::now(),
            link,
            peer: "p",
            direction,
            invoke_id: InvokeId::new(id),
            body: b"<x/>",
            message: Some(msg),
            error: None,
        }
    }

    fn held(xref: &str, device: &str) -> Message {
        Message::Event(Event {
            cross_ref_id: xref.into(),
            kind: EventKind::Held {
                connection: ConnectionId {
                    call_id: Some("C1".into()),
                    device_id: Some(DeviceId::from_wire(device)),
                },
                holding_device: Some(DeviceId::from_wire(device)),
                info: CallEventInfo::default(),
            },
        })
    }

    fn cleared(xref: &str) -> Message {
        Message::Event(Event {
            cross_ref_id: xref.into(),
            kind: EventKind::CallCleared {
                call: ConnectionId {
                    call_id: Some("C1".into()),
                    device_id: None,
                },
                info: CallEventInfo::default(),
            },
        })
    }

    #[test]
    fn requests_answers_and_monitor_events_of_the_device() {
        use Direction::{Received as In, Sent as Out};
        let f = DeviceFilter::new("100");
        let start = |d: &str| {
            Message::Request(Request::MonitorStart {
                monitor_object: DeviceId::new(d),
                monitor_type: None,
            })
        };
        let answer = |x: &str| {
            Message::Response(Response::MonitorStart {
                cross_ref_id: x.into(),
            })
        };
        let (s100, s200) = (start("100"), start("200"));
        let (a100, a200) = (answer("X1"), answer("X2"));
        assert!(f.concerns(&pdu("0", Out, 1, &s100)));
        assert!(!f.concerns(&pdu("0", Out, 2, &s200)));
        assert!(!f.concerns(&pdu("0", In, 2, &a200)));
        // Same invoke id on another link: not ours.
        assert!(!f.concerns(&pdu("1", In, 1, &a100)));
        assert!(f.concerns(&pdu("0", In, 1, &a100)));
        // Answered once: a late duplicate is not traced.
        assert!(!f.concerns(&pdu("0", In, 1, &a100)));
        // Events on its monitor, even naming no device; others only when
        // they name it.
        assert!(f.concerns(&pdu("0", In, 9999, &cleared("X1"))));
        assert!(!f.concerns(&pdu("0", In, 9999, &cleared("X2"))));
        assert!(!f.concerns(&pdu("1", In, 9999, &cleared("X1"))));
        assert!(f.concerns(&pdu("0", In, 9999, &held("X2", "N<100>;noa=nk"))));
        assert!(!f.concerns(&pdu("0", In, 9999, &held("X2", "200"))));
        // Refusals are answers too.
        let dnd = Message::Request(Request::GetDoNotDisturb {
            device: DeviceId::new("100"),
        });
        let refused = Message::Error(CstaError::new(ErrorCategory::Operation, "generic"));
        assert!(f.concerns(&pdu("0", Out, 5, &dnd)));
        assert!(f.concerns(&pdu("0", In, 5, &refused)));
        // Stopping its monitor.
        let stop = Message::Request(Request::MonitorStop {
            cross_ref_id: "X1".into(),
        });
        assert!(f.concerns(&pdu("0", Out, 6, &stop)));
    }

    #[test]
    fn switch_requests_session_traffic_and_undecodable_frames() {
        use Direction::{Received as In, Sent as Out};
        let f = DeviceFilter::new("100");
        f.seed_monitor("0", "X9");
        assert!(f.concerns(&pdu("0", In, 9999, &cleared("X9"))));
        let status = Message::Request(Request::SystemStatus {
            status: Some(SystemStatusValue::Normal),
        });
        let status_ok = Message::Response(Response::SystemStatus);
        assert!(!f.concerns(&pdu("0", In, 7, &status)));
        assert!(!f.concerns(&pdu("0", Out, 7, &status_ok)));
        assert!(!f.concerns(&pdu("0", Out, 8, &status)));
        assert!(!f.concerns(&pdu("0", In, 8, &status_ok)));
        let from_switch = Message::Request(Request::SetDoNotDisturb {
            device: DeviceId::new("100"),
            do_not_disturb_on: true,
        });
        let refusal = Message::Error(CstaError::new(ErrorCategory::Operation, "generic"));
        assert!(f.concerns(&pdu("0", In, 40, &from_switch)));
        assert!(f.concerns(&pdu("0", Out, 40, &refusal)));
        assert!(!f.concerns(&pdu("0", Out, 41, &refusal)));
        let mut broken = pdu("0", In, 9999, &status);
        broken.message = None;
        assert!(f.concerns(&broken));
        assert!(Target::All.concerns(&pdu("0", In, 7, &status)));
    }
}
