//! Device and call state, kept per monitored device and updated from CSTA
//! events and from snapshots (at start and after each reconnect).
//!
//! The view is the device's own: its calls, each with the device's own
//! connection state (ECMA-269 LocalConnectionState, as carried by
//! `localConnectionInfo`) and the parties the events named, with their
//! connection state when known. Every update returns the
//! [`TelephonyEvent`]s it caused, for the bus.

use twp_csta::{
    ConnectionId, ConnectionListItem, DeviceId, EventKind, ForwardingEntry, ForwardingType,
    LocalConnectionState, SnapshotCall,
};

use crate::allocation::SiteCluster;
use crate::events::TelephonyEvent;

/// One party of a call as seen from a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub device: String,
    /// `None` when no event told it yet (e.g. after a snapshot, which only
    /// gives the device's own connection).
    pub state: Option<LocalConnectionState>,
}

/// A call at a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallView {
    pub call_id: String,
    /// The device's own connection state; `Null` once the call has ended
    /// for it (only ever seen in a [`TelephonyEvent::CallStateChanged`]).
    pub state: LocalConnectionState,
    pub calling: Option<String>,
    pub called: Option<String>,
    pub parties: Vec<Party>,
}

impl CallView {
    fn new(call_id: &str) -> CallView {
        CallView {
            call_id: call_id.to_owned(),
            state: LocalConnectionState::Null,
            calling: None,
            called: None,
            parties: Vec::new(),
        }
    }

    fn set_party(&mut self, device: &str, state: Option<LocalConnectionState>) {
        match self.parties.iter_mut().find(|p| p.device == device) {
            Some(p) => {
                if state.is_some() {
                    p.state = state;
                }
            }
            None => self.parties.push(Party {
                device: device.to_owned(),
                state,
            }),
        }
    }

    fn ensure_party(&mut self, device: &str, state: LocalConnectionState) {
        match self.parties.iter_mut().find(|p| p.device == device) {
            Some(p) => {
                p.state.get_or_insert(state);
            }
            None => self.set_party(device, Some(state)),
        }
    }

    fn remove_party(&mut self, device: &str) {
        self.parties.retain(|p| p.device != device);
    }

    fn party_state(&self, device: &str) -> Option<LocalConnectionState> {
        self.parties
            .iter()
            .find(|p| p.device == device)
            .and_then(|p| p.state)
    }
}

/// An active forwarding rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    pub kind: ForwardingType,
    pub destination: String,
}

/// What a device is doing, summed up from its calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Activity {
    Idle,
    /// Dialling or calling out (initiated, or waiting for the far end).
    Dialing,
    Ringing,
    InCall,
    /// Every call is on hold.
    OnHold,
}

/// State of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceState {
    pub number: String,
    pub site: SiteCluster,
    /// Index of the supervision link (provider) serving it.
    pub provider: Option<usize>,
    /// A monitor is active on the PBX (guide 10.5 "Connected").
    pub supervised: bool,
    pub calls: Vec<CallView>,
    pub do_not_disturb: bool,
    pub forwarding: Vec<Forward>,
    pub message_waiting: bool,
    /// Voicemail number (guide 10.5), from the configuration.
    pub voicemail: Option<String>,
    /// Device lines (guide 10.5 "CCos"), from the configuration.
    pub ccos: Option<u32>,
}

fn num(d: &Option<DeviceId>) -> Option<&str> {
    d.as_ref().map(DeviceId::number)
}

fn call_of(c: &ConnectionId) -> Option<&str> {
    c.call_id.as_deref()
}

impl DeviceState {
    pub fn new(number: &str, site: SiteCluster, provider: Option<usize>) -> DeviceState {
        DeviceState {
            number: number.to_owned(),
            site,
            provider,
            supervised: false,
            calls: Vec::new(),
            do_not_disturb: false,
            forwarding: Vec::new(),
            message_waiting: false,
            voicemail: None,
            ccos: None,
        }
    }

    pub fn activity(&self) -> Activity {
        use LocalConnectionState as S;
        let has = |s: S| self.calls.iter().any(|c| c.state == s);
        if has(S::Alerting) {
            Activity::Ringing
        } else if has(S::Connected) {
            // Connected with nobody else connected yet: calling out.
            let talking = self.calls.iter().any(|c| {
                c.state == S::Connected
                    && c.parties
                        .iter()
                        .any(|p| p.device != self.number && p.state == Some(S::Connected))
            });
            if talking {
                Activity::InCall
            } else {
                Activity::Dialing
            }
        } else if has(S::Initiated) || has(S::Fail) || has(S::Queued) {
            Activity::Dialing
        } else if has(S::Hold) {
            Activity::OnHold
        } else {
            Activity::Idle
        }
    }

    pub fn call(&self, call_id: &str) -> Option<&CallView> {
        self.calls.iter().find(|c| c.call_id == call_id)
    }

    /// The device's calls whose own connection is in `state`.
    pub fn calls_in(&self, state: LocalConnectionState) -> impl Iterator<Item = &CallView> {
        self.calls.iter().filter(move |c| c.state == state)
    }

    fn summary_event(&self) -> TelephonyEvent {
        TelephonyEvent::DeviceStateChanged {
            device: self.number.clone(),
            supervised: self.supervised,
            activity: self.activity(),
            do_not_disturb: self.do_not_disturb,
            message_waiting: self.message_waiting,
        }
    }

    fn summary(&self) -> (bool, Activity, bool, bool) {
        (
            self.supervised,
            self.activity(),
            self.do_not_disturb,
            self.message_waiting,
        )
    }

    fn upsert(&mut self, call_id: &str) -> &mut CallView {
        let i = match self.calls.iter().position(|c| c.call_id == call_id) {
            Some(i) => i,
            None => {
                self.calls.push(CallView::new(call_id));
                self.calls.len() - 1
            }
        };
        &mut self.calls[i]
    }

    fn remove_call(&mut self, call_id: &str) -> Option<CallView> {
        let i = self.calls.iter().position(|c| c.call_id == call_id)?;
        Some(self.calls.remove(i))
    }

    /// Marks the monitor up or down.
    pub fn set_supervised(&mut self, on: bool) -> Vec<TelephonyEvent> {
        let before = self.summary();
        self.supervised = on;
        self.finish(before, Vec::new())
    }

    fn finish(
        &self,
        before: (bool, Activity, bool, bool),
        mut out: Vec<TelephonyEvent>,
    ) -> Vec<TelephonyEvent> {
        if self.summary() != before {
            out.push(self.summary_event());
        }
        out
    }

    fn call_event(&self, view: CallView, cause: Option<&String>) -> TelephonyEvent {
        TelephonyEvent::CallStateChanged {
            device: self.number.clone(),
            call: view,
            cause: cause.cloned(),
        }
    }

    /// Applies one CSTA event of this device's monitor.
    pub fn apply(&mut self, kind: &EventKind) -> Vec<TelephonyEvent> {
        let before = self.summary();
        let me = self.number.clone();
        let mut touched: Vec<String> = Vec::new();
        let mut ended: Vec<CallView> = Vec::new();
        let known = |s: &DeviceState, id: &str| s.call(id).is_some();
        let known_before = own_call(kind).is_some_and(|id| known(self, id));
        use LocalConnectionState as S;
        match kind {
            EventKind::ServiceInitiated { connection, .. } => {
                if let Some(id) = call_of(connection) {
                    self.upsert(id).set_party(&me, Some(S::Initiated));
                    touched.push(id.to_owned());
                }
            }
            EventKind::Originated {
                connection,
                calling_device,
                called_device,
                ..
            } => {
                if let Some(id) = call_of(connection) {
                    let c = self.upsert(id);
                    c.calling = num(calling_device).map(str::to_owned);
                    c.called = num(called_device).map(str::to_owned);
                    if let Some(d) = num(calling_device) {
                        c.set_party(d, Some(S::Connected));
                    }
                    touched.push(id.to_owned());
                }
            }
            EventKind::Delivered {
                connection,
                alerting_device,
                calling_device,
                called_device,
                ..
            }
            | EventKind::Established {
                connection,
                answering_device: alerting_device,
                calling_device,
                called_device,
                ..
            } => {
                let state = if matches!(kind, EventKind::Delivered { .. }) {
                    S::Alerting
                } else {
                    S::Connected
                };
                if let Some(id) = call_of(connection) {
                    let c = self.upsert(id);
                    c.calling = num(calling_device).map(str::to_owned).or(c.calling.take());
                    c.called = num(called_device).map(str::to_owned).or(c.called.take());
                    // The calling side is connected once the call is
                    // offered (ECMA-269), unless an event said otherwise.
                    if let Some(d) = num(calling_device) {
                        c.ensure_party(d, S::Connected);
                    }
                    if let Some(d) = num(alerting_device).or(connection.device_number()) {
                        c.set_party(d, Some(state));
                    }
                    touched.push(id.to_owned());
                }
            }
            EventKind::ConnectionCleared {
                connection,
                releasing_device,
                ..
            } => {
                if let Some(id) = call_of(connection) {
                    let releasing = num(releasing_device).or(connection.device_number());
                    if releasing == Some(me.as_str()) {
                        ended.extend(self.remove_call(id));
                    } else if let Some(d) = releasing
                        && self.call(id).is_some()
                    {
                        self.upsert(id).remove_party(d);
                        touched.push(id.to_owned());
                    }
                }
            }
            EventKind::CallCleared { call, .. } => {
                if let Some(id) = call_of(call) {
                    ended.extend(self.remove_call(id));
                }
            }
            EventKind::Diverted {
                connection,
                diverting_device,
                new_destination,
                ..
            } => {
                if let Some(id) = call_of(connection) {
                    let diverting = num(diverting_device).or(connection.device_number());
                    if diverting == Some(me.as_str()) {
                        ended.extend(self.remove_call(id));
                    } else {
                        let c = self.upsert(id);
                        if let Some(d) = diverting {
                            c.remove_party(d);
                        }
                        if let Some(d) = num(new_destination) {
                            c.set_party(d, None);
                        }
                        touched.push(id.to_owned());
                    }
                }
            }
            EventKind::Transferred {
                primary_old_call,
                secondary_old_call,
                transferring_device,
                connections,
                ..
            }
            | EventKind::Conferenced {
                primary_old_call,
                secondary_old_call,
                conferencing_device: transferring_device,
                connections,
                ..
            } => {
                let conference = matches!(kind, EventKind::Conferenced { .. });
                let old: Vec<&str> = [Some(primary_old_call), secondary_old_call.as_ref()]
                    .into_iter()
                    .flatten()
                    .filter_map(call_of)
                    .collect();
                if !conference && num(transferring_device) == Some(me.as_str()) {
                    for id in old {
                        ended.extend(self.remove_call(id));
                    }
                } else {
                    let new_id = resulting_call(connections)
                        .or(secondary_old_call.as_ref().and_then(call_of))
                        .or(call_of(primary_old_call))
                        .map(str::to_owned);
                    if let Some(new_id) = new_id {
                        let mut merged = CallView::new(&new_id);
                        for id in &old {
                            if let Some(c) = self.remove_call(id) {
                                if *id != new_id {
                                    ended.push(c.clone());
                                }
                                merged.state = c.state.max_active(merged.state);
                                merged.calling = merged.calling.or(c.calling);
                                merged.called = merged.called.or(c.called);
                                for p in c.parties {
                                    merged.set_party(&p.device, p.state);
                                }
                            }
                        }
                        if let Some(c) = self.remove_call(&new_id) {
                            merged.state = c.state.max_active(merged.state);
                            for p in c.parties {
                                merged.set_party(&p.device, p.state);
                            }
                        }
                        if !connections.is_empty() {
                            let keep: Vec<&str> = connections
                                .iter()
                                .filter_map(|i| num(&i.endpoint).or_else(|| endpoint_of(i)))
                                .collect();
                            merged.parties.retain(|p| {
                                keep.contains(&p.device.as_str())
                                    || (conference && num(transferring_device) == Some(&p.device))
                            });
                            for d in keep {
                                merged.set_party(d, None);
                            }
                        }
                        if !conference && let Some(t) = num(transferring_device) {
                            merged.remove_party(t);
                        }
                        merged.set_party(&me, None);
                        ended.retain(|c| c.call_id != new_id);
                        self.calls.push(merged);
                        touched.push(new_id);
                    }
                }
            }
            EventKind::Held {
                connection,
                holding_device: dev,
                ..
            }
            | EventKind::Retrieved {
                connection,
                retrieving_device: dev,
                ..
            }
            | EventKind::Queued {
                connection,
                queue: dev,
                ..
            }
            | EventKind::Failed {
                connection,
                failing_device: dev,
                ..
            } => {
                let state = match kind {
                    EventKind::Held { .. } => S::Hold,
                    EventKind::Retrieved { .. } => S::Connected,
                    EventKind::Queued { .. } => S::Queued,
                    _ => S::Fail,
                };
                if let Some(id) = call_of(connection) {
                    let d = num(dev).or(connection.device_number()).map(str::to_owned);
                    let c = self.upsert(id);
                    if let Some(d) = d {
                        c.set_party(&d, Some(state));
                    }
                    touched.push(id.to_owned());
                }
            }
            EventKind::Forwarding {
                forwarding_type,
                forward_status,
                forward_to,
                ..
            } => {
                let old = self.forwarding.clone();
                if let Some(kind) = forwarding_type {
                    self.forwarding.retain(|f| f.kind != *kind);
                    if *forward_status && let Some(to) = num(forward_to) {
                        self.forwarding.push(Forward {
                            kind: *kind,
                            destination: to.to_owned(),
                        });
                        self.forwarding.sort_by_key(|f| f.kind);
                    }
                }
                let mut out = Vec::new();
                if old != self.forwarding {
                    out.push(self.forwarding_event());
                }
                return self.finish(before, out);
            }
            EventKind::DoNotDisturb {
                do_not_disturb_on, ..
            } => {
                self.do_not_disturb = *do_not_disturb_on;
                return self.finish(before, Vec::new());
            }
            EventKind::MessageWaiting {
                message_waiting_on, ..
            } => {
                self.message_waiting = *message_waiting_on;
                return self.finish(before, Vec::new());
            }
            EventKind::Unknown { .. } => return Vec::new(),
        }

        // The device's own connection state, as the event reports it.
        let info = kind.info();
        if let (Some(s), Some(id)) = (info.and_then(|i| i.state), own_call(kind)) {
            if s == S::Null {
                // A call the device was never in (e.g. a transfer towards
                // it, before it rings) is dropped silently.
                let gone = self.remove_call(id);
                if known_before || ended.iter().any(|c| c.call_id == id) {
                    ended.extend(gone);
                }
                touched.retain(|t| t != id);
            } else if self.call(id).is_some() {
                let c = self.upsert(id);
                c.state = s;
                c.set_party(&me, Some(s));
            }
        }
        // A call we only know from a party event: take our state from it.
        for id in &touched {
            if let Some(c) = self.calls.iter_mut().find(|c| c.call_id == *id)
                && c.state == S::Null
                && let Some(s) = c.party_state(&me)
            {
                c.state = s;
            }
        }
        let cause = info.and_then(|i| i.cause.as_ref());
        let mut out = Vec::new();
        for mut c in ended {
            c.state = S::Null;
            out.push(self.call_event(c, cause));
        }
        touched.dedup();
        for id in touched {
            if let Some(c) = self.call(&id) {
                out.push(self.call_event(c.clone(), cause));
            }
        }
        self.finish(before, out)
    }

    fn forwarding_event(&self) -> TelephonyEvent {
        TelephonyEvent::ForwardingChanged {
            device: self.number.clone(),
            forwarding: self.forwarding.clone(),
        }
    }

    /// Replaces the calls with a SnapshotDevice answer. Calls the snapshot
    /// does not list have ended; known parties of the others are kept.
    pub fn apply_snapshot(&mut self, calls: &[SnapshotCall]) -> Vec<TelephonyEvent> {
        let before = self.summary();
        let me = self.number.clone();
        let mut out = Vec::new();
        let mut next = Vec::with_capacity(calls.len());
        for s in calls {
            let Some(id) = call_of(&s.connection) else {
                continue;
            };
            let state = s.state.unwrap_or(LocalConnectionState::Connected);
            let mut view = self.remove_call(id).unwrap_or_else(|| CallView::new(id));
            let changed = view.state != state;
            view.state = state;
            view.set_party(&me, Some(state));
            if changed {
                out.push(self.call_event(view.clone(), None));
            }
            next.push(view);
        }
        for mut gone in std::mem::replace(&mut self.calls, next) {
            gone.state = LocalConnectionState::Null;
            out.push(self.call_event(gone, None));
        }
        self.finish(before, out)
    }

    /// Replaces do-not-disturb and forwarding with what the PBX reports.
    pub fn apply_features(
        &mut self,
        do_not_disturb: Option<bool>,
        forwarding: Option<&[ForwardingEntry]>,
    ) -> Vec<TelephonyEvent> {
        let before = self.summary();
        let mut out = Vec::new();
        if let Some(dnd) = do_not_disturb {
            self.do_not_disturb = dnd;
        }
        if let Some(entries) = forwarding {
            let mut list: Vec<Forward> = entries
                .iter()
                .filter(|e| e.forward_status)
                .filter_map(|e| {
                    Some(Forward {
                        kind: e.forwarding_type,
                        destination: num(&e.forward_dn)?.to_owned(),
                    })
                })
                .collect();
            list.sort_by_key(|f| f.kind);
            if list != self.forwarding {
                self.forwarding = list;
                out.push(self.forwarding_event());
            }
        }
        self.finish(before, out)
    }
}

/// The call of the event whose `localConnectionInfo` is the device's.
fn own_call(kind: &EventKind) -> Option<&str> {
    match kind {
        EventKind::ServiceInitiated { connection, .. }
        | EventKind::Originated { connection, .. }
        | EventKind::Delivered { connection, .. }
        | EventKind::Established { connection, .. }
        | EventKind::ConnectionCleared { connection, .. }
        | EventKind::Diverted { connection, .. }
        | EventKind::Held { connection, .. }
        | EventKind::Retrieved { connection, .. }
        | EventKind::Queued { connection, .. }
        | EventKind::Failed { connection, .. } => call_of(connection),
        EventKind::CallCleared { call, .. } => call_of(call),
        EventKind::Transferred {
            connections,
            secondary_old_call,
            primary_old_call,
            ..
        }
        | EventKind::Conferenced {
            connections,
            secondary_old_call,
            primary_old_call,
            ..
        } => resulting_call(connections)
            .or(secondary_old_call.as_ref().and_then(call_of))
            .or(call_of(primary_old_call)),
        _ => None,
    }
}

fn resulting_call(connections: &[ConnectionListItem]) -> Option<&str> {
    connections
        .iter()
        .find_map(|i| i.new_connection.as_ref().and_then(call_of))
}

fn endpoint_of(i: &ConnectionListItem) -> Option<&str> {
    i.new_connection
        .as_ref()
        .or(i.old_connection.as_ref())
        .and_then(ConnectionId::device_number)
}

trait ActiveOrder {
    fn max_active(self, other: Self) -> Self;
}

impl ActiveOrder for LocalConnectionState {
    /// The more "live" of two states, used when calls merge.
    fn max_active(self, other: Self) -> Self {
        use LocalConnectionState as S;
        let rank = |s: S| match s {
            S::Connected => 6,
            S::Alerting => 5,
            S::Hold => 4,
            S::Queued => 3,
            S::Initiated => 2,
            S::Fail => 1,
            S::Null => 0,
        };
        if rank(self) >= rank(other) {
            self
        } else {
            other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use twp_csta::CallEventInfo;

    fn d(n: &str) -> Option<DeviceId> {
        Some(DeviceId::new(n))
    }

    fn info(s: LocalConnectionState) -> CallEventInfo {
        CallEventInfo {
            state: Some(s),
            cause: Some("newCall".into()),
        }
    }

    fn dev() -> DeviceState {
        DeviceState::new("100", SiteCluster::new(1, 1), Some(0))
    }

    #[test]
    fn ringing_answered_cleared() {
        use LocalConnectionState as S;
        let mut s = dev();
        let ev = s.apply(&EventKind::Delivered {
            connection: ConnectionId::new("C1", "100"),
            alerting_device: d("100"),
            calling_device: d("0612"),
            called_device: d("100"),
            last_redirection_device: None,
            info: info(S::Alerting),
        });
        assert_eq!(s.activity(), Activity::Ringing);
        assert_eq!(ev.len(), 2, "{ev:?}");
        let c = s.call("C1").expect("call");
        assert_eq!(c.state, S::Alerting);
        assert_eq!(c.calling.as_deref(), Some("0612"));
        assert_eq!(c.parties.len(), 2);

        s.apply(&EventKind::Established {
            connection: ConnectionId::new("C1", "100"),
            answering_device: d("100"),
            calling_device: d("0612"),
            called_device: d("100"),
            last_redirection_device: None,
            info: info(S::Connected),
        });
        assert_eq!(s.call("C1").map(|c| c.state), Some(S::Connected));

        s.apply(&EventKind::Held {
            connection: ConnectionId::new("C1", "100"),
            holding_device: d("100"),
            info: info(S::Hold),
        });
        assert_eq!(s.activity(), Activity::OnHold);

        let ev = s.apply(&EventKind::ConnectionCleared {
            connection: ConnectionId::new("C1", "0612"),
            releasing_device: d("0612"),
            info: info(S::Hold),
        });
        assert_eq!(s.call("C1").map(|c| c.parties.len()), Some(1));
        assert_eq!(ev.len(), 1);
        let ev = s.apply(&EventKind::CallCleared {
            call: ConnectionId {
                call_id: Some("C1".into()),
                device_id: None,
            },
            info: info(S::Null),
        });
        assert!(s.calls.is_empty());
        assert!(matches!(
            &ev[0],
            TelephonyEvent::CallStateChanged { call, .. } if call.state == S::Null
        ));
        assert_eq!(s.activity(), Activity::Idle);
    }

    #[test]
    fn transfer_moves_the_call_for_the_remaining_party() {
        use LocalConnectionState as S;
        let mut s = dev();
        s.apply(&EventKind::Established {
            connection: ConnectionId::new("C1", "100"),
            answering_device: d("100"),
            calling_device: d("0612"),
            called_device: d("200"),
            last_redirection_device: None,
            info: info(S::Connected),
        });
        s.apply(&EventKind::Transferred {
            primary_old_call: ConnectionId::new("C0", "200"),
            secondary_old_call: Some(ConnectionId::new("C1", "200")),
            transferring_device: d("200"),
            transferred_to_device: d("100"),
            connections: vec![
                ConnectionListItem {
                    new_connection: Some(ConnectionId::new("C1", "0612")),
                    old_connection: Some(ConnectionId::new("C0", "0612")),
                    endpoint: d("0612"),
                },
                ConnectionListItem {
                    new_connection: Some(ConnectionId::new("C1", "100")),
                    old_connection: Some(ConnectionId::new("C1", "100")),
                    endpoint: d("100"),
                },
            ],
            info: info(S::Connected),
        });
        let c = s.call("C1").expect("call");
        let mut parties: Vec<&str> = c.parties.iter().map(|p| p.device.as_str()).collect();
        parties.sort();
        assert_eq!(parties, vec!["0612", "100"]);
        assert_eq!(s.calls.len(), 1);
    }

    #[test]
    fn transfer_towards_an_idle_device_says_nothing_until_it_rings() {
        use LocalConnectionState as S;
        let mut s = dev();
        let ev = s.apply(&EventKind::Transferred {
            primary_old_call: ConnectionId::new("C1", "200"),
            secondary_old_call: None,
            transferring_device: d("200"),
            transferred_to_device: d("100"),
            connections: vec![ConnectionListItem {
                new_connection: Some(ConnectionId::new("C1", "0612")),
                old_connection: Some(ConnectionId::new("C1", "0612")),
                endpoint: d("0612"),
            }],
            info: info(S::Null),
        });
        assert!(ev.is_empty(), "{ev:?}");
        assert!(s.calls.is_empty());
    }

    #[test]
    fn snapshot_replaces_calls() {
        use LocalConnectionState as S;
        let mut s = dev();
        s.apply(&EventKind::Held {
            connection: ConnectionId::new("OLD", "100"),
            holding_device: d("100"),
            info: info(S::Hold),
        });
        let ev = s.apply_snapshot(&[SnapshotCall {
            connection: ConnectionId::new("NEW", "100"),
            state: Some(S::Alerting),
        }]);
        assert_eq!(s.calls.len(), 1);
        assert_eq!(s.activity(), Activity::Ringing);
        assert_eq!(ev.len(), 3, "{ev:?}"); // NEW, OLD ended, device summary
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        const CALLS: [&str; 3] = ["C1", "C2", "C3"];
        const DEVICES: [&str; 4] = ["100", "200", "300", "0612"];

        fn arb_state() -> impl Strategy<Value = Option<LocalConnectionState>> {
            prop::option::of(prop::sample::select(LocalConnectionState::ALL.to_vec()))
        }

        fn arb_event() -> impl Strategy<Value = EventKind> {
            (
                0u8..12,
                0usize..3,
                0usize..3,
                0usize..4,
                0usize..4,
                arb_state(),
            )
                .prop_map(|(k, c, c2, a, b, st)| {
                    let conn = ConnectionId::new(CALLS[c], DEVICES[a]);
                    let info = CallEventInfo {
                        state: st,
                        cause: None,
                    };
                    let (da, db) = (d(DEVICES[a]), d(DEVICES[b]));
                    match k {
                        0 => EventKind::ServiceInitiated {
                            connection: conn,
                            initiating_device: da,
                            info,
                        },
                        1 => EventKind::Originated {
                            connection: conn,
                            calling_device: da,
                            called_device: db,
                            info,
                        },
                        2 => EventKind::Delivered {
                            connection: conn,
                            alerting_device: da,
                            calling_device: db,
                            called_device: None,
                            last_redirection_device: None,
                            info,
                        },
                        3 => EventKind::Established {
                            connection: conn,
                            answering_device: da,
                            calling_device: db,
                            called_device: None,
                            last_redirection_device: None,
                            info,
                        },
                        4 => EventKind::ConnectionCleared {
                            connection: conn,
                            releasing_device: da,
                            info,
                        },
                        5 => EventKind::CallCleared { call: conn, info },
                        6 => EventKind::Diverted {
                            connection: conn,
                            diverting_device: da,
                            new_destination: db,
                            calling_device: None,
                            called_device: None,
                            info,
                        },
                        7 => EventKind::Held {
                            connection: conn,
                            holding_device: da,
                            info,
                        },
                        8 => EventKind::Retrieved {
                            connection: conn,
                            retrieving_device: da,
                            info,
                        },
                        9 => EventKind::Failed {
                            connection: conn,
                            failing_device: da,
                            calling_device: None,
                            called_device: None,
                            info,
                        },
                        10 => EventKind::Transferred {
                            primary_old_call: conn,
                            secondary_old_call: Some(ConnectionId::new(CALLS[c2], DEVICES[a])),
                            transferring_device: da,
                            transferred_to_device: db.clone(),
                            connections: vec![ConnectionListItem {
                                new_connection: Some(ConnectionId::new(CALLS[c2], DEVICES[b])),
                                old_connection: None,
                                endpoint: db,
                            }],
                            info,
                        },
                        _ => EventKind::Conferenced {
                            primary_old_call: conn,
                            secondary_old_call: Some(ConnectionId::new(CALLS[c2], DEVICES[a])),
                            conferencing_device: da,
                            added_party: db.clone(),
                            connections: vec![ConnectionListItem {
                                new_connection: Some(ConnectionId::new(CALLS[c2], DEVICES[b])),
                                old_connection: None,
                                endpoint: db,
                            }],
                            info,
                        },
                    }
                })
        }

        proptest! {
            /// Any event sequence keeps the view consistent: one entry per
            /// call, one entry per party, ended calls reported as Null and
            /// gone, live calls never reported as Null.
            #[test]
            fn any_event_sequence_keeps_the_view_consistent(events in prop::collection::vec(arb_event(), 0..40)) {
                let mut s = dev();
                for e in &events {
                    let out = s.apply(e);
                    let mut ids: Vec<&str> = s.calls.iter().map(|c| c.call_id.as_str()).collect();
                    ids.sort_unstable();
                    let n = ids.len();
                    ids.dedup();
                    prop_assert_eq!(ids.len(), n, "duplicate call");
                    for c in &s.calls {
                        let mut ps: Vec<&str> = c.parties.iter().map(|p| p.device.as_str()).collect();
                        ps.sort_unstable();
                        let n = ps.len();
                        ps.dedup();
                        prop_assert_eq!(ps.len(), n, "duplicate party");
                    }
                    for ev in out {
                        if let TelephonyEvent::CallStateChanged { call, .. } = ev {
                            let live = s.call(&call.call_id).is_some();
                            if call.state == LocalConnectionState::Null {
                                prop_assert!(!live || s.call(&call.call_id).is_some_and(|c| c.state == LocalConnectionState::Null));
                            } else {
                                prop_assert!(live);
                            }
                        }
                    }
                    if let EventKind::CallCleared { call, .. } = e {
                        prop_assert!(s.call(call.call_id.as_deref().unwrap_or_default()).is_none());
                    }
                }
                // A snapshot always wins.
                s.apply_snapshot(&[]);
                prop_assert!(s.calls.is_empty());
                prop_assert_eq!(s.activity(), Activity::Idle);
            }
        }
    }

    #[test]
    fn features() {
        let mut s = dev();
        let ev = s.apply(&EventKind::Forwarding {
            device: d("100"),
            forwarding_type: Some(ForwardingType::Immediate),
            forward_status: true,
            forward_to: d("200"),
        });
        assert_eq!(ev.len(), 1);
        assert_eq!(s.forwarding.len(), 1);
        s.apply(&EventKind::Forwarding {
            device: d("100"),
            forwarding_type: Some(ForwardingType::Immediate),
            forward_status: false,
            forward_to: None,
        });
        assert!(s.forwarding.is_empty());
        let ev = s.apply(&EventKind::DoNotDisturb {
            device: d("100"),
            do_not_disturb_on: true,
        });
        assert!(s.do_not_disturb);
        assert_eq!(ev.len(), 1);
        assert!(s.apply_features(Some(true), Some(&[])).is_empty());
    }
}
