//! The call state machine: origination, routing (forwarding, busy, do not
//! disturb, voicemail, hunt groups), answer, clear, hold, consultation,
//! transfer, conference, deflection and pickup.

use twp_csta::{
    CallEventInfo, ConnectionId, ConnectionListItem, DeviceId, EventKind, ForwardingType as Fwd,
    LocalConnectionState as State,
};

use super::{
    Call, DeviceKind, Effects, Party, Pbx, PbxResult, Timer, invalid_device, invalid_state,
};

fn dev(n: &str) -> Option<DeviceId> {
    Some(DeviceId::new(n))
}

fn cause(c: &str) -> CallEventInfo {
    CallEventInfo {
        state: None,
        cause: Some(c.to_owned()),
    }
}

/// Which forwarding rule applies.
#[derive(Clone, Copy)]
enum Condition {
    Immediate,
    Busy,
    NoAnswer,
    DoNotDisturb,
}

impl Condition {
    fn types(self, internal_caller: bool) -> [Fwd; 2] {
        match (self, internal_caller) {
            (Condition::Immediate, true) => [Fwd::Immediate, Fwd::ImmediateInternal],
            (Condition::Immediate, false) => [Fwd::Immediate, Fwd::ImmediateExternal],
            (Condition::Busy, true) => [Fwd::Busy, Fwd::BusyInternal],
            (Condition::Busy, false) => [Fwd::Busy, Fwd::BusyExternal],
            (Condition::NoAnswer, true) => [Fwd::NoAnswer, Fwd::NoAnswerInternal],
            (Condition::NoAnswer, false) => [Fwd::NoAnswer, Fwd::NoAnswerExternal],
            (Condition::DoNotDisturb, true) => [Fwd::DoNotDisturb, Fwd::DoNotDisturbInternal],
            (Condition::DoNotDisturb, false) => [Fwd::DoNotDisturb, Fwd::DoNotDisturbExternal],
        }
    }

    fn cause(self) -> &'static str {
        match self {
            Condition::Immediate => "callForwardImmediate",
            Condition::Busy => "callForwardBusy",
            Condition::NoAnswer => "callForwardNoAnswer",
            Condition::DoNotDisturb => "doNotDisturb",
        }
    }
}

const MAX_HOPS: u8 = 6;

impl Pbx {
    /// An outside caller `from` (behind the trunk) dials `to`.
    pub fn external_call(&mut self, from: &str, to: &str, fx: &mut Effects) -> PbxResult<String> {
        let from = self.resolve(from)?;
        let to = self.resolve(to)?;
        let id = self.new_call_id();
        self.calls.insert(
            id.clone(),
            Call {
                id: id.clone(),
                parties: vec![Party {
                    device: from.clone(),
                    state: State::Connected,
                }],
                calling: from,
                called: to.clone(),
                last_redirection: None,
            },
        );
        self.route(&id, &to, 0, fx);
        Ok(id)
    }

    /// MakeCall: internal device `from` dials `to`.
    pub fn make_call(&mut self, from: &str, to: &str, fx: &mut Effects) -> PbxResult<ConnectionId> {
        if !self
            .device(from)
            .is_some_and(|d| matches!(d.kind, DeviceKind::Extension { .. }))
        {
            return Err(invalid_device(from));
        }
        let to = self.resolve(to)?;
        let id = self.new_call_id();
        let call = Call {
            id: id.clone(),
            parties: vec![Party {
                device: from.to_owned(),
                state: State::Connected,
            }],
            calling: from.to_owned(),
            called: to.clone(),
            last_redirection: None,
        };
        let conn = call.connection(from);
        self.calls.insert(id.clone(), call);
        fx.note(
            vec![from.to_owned()],
            Some(&id),
            EventKind::ServiceInitiated {
                connection: conn.clone(),
                initiating_device: dev(from),
                info: CallEventInfo {
                    state: Some(State::Initiated),
                    cause: Some("makeCall".into()),
                },
            },
        );
        fx.note(
            vec![from.to_owned()],
            Some(&id),
            EventKind::Originated {
                connection: conn.clone(),
                calling_device: dev(from),
                called_device: dev(&to),
                info: cause("newCall"),
            },
        );
        self.route(&id, &to, 0, fx);
        Ok(conn)
    }

    fn forward_target(
        &self,
        device: &str,
        cond: Condition,
        internal_caller: bool,
    ) -> Option<String> {
        let d = self.device(device)?;
        cond.types(internal_caller)
            .iter()
            .find_map(|t| d.forwarding.get(t).cloned())
    }

    fn caller_is_internal(&self, call: &str) -> bool {
        self.call(call)
            .and_then(|c| self.device(&c.calling))
            .is_some_and(|d| d.is_internal())
    }

    /// Offers `call` to `target`, applying forwarding, busy, DND,
    /// voicemail and hunt group rules.
    pub(super) fn route(&mut self, call: &str, target: &str, hops: u8, fx: &mut Effects) {
        if hops > MAX_HOPS {
            self.fail_call(call, target, "blocked", fx);
            return;
        }
        let Some(device) = self.device(target).cloned() else {
            self.fail_call(call, target, "invalidNumberFormat", fx);
            return;
        };
        let internal = self.caller_is_internal(call);
        match device.kind {
            DeviceKind::Voicemail => {
                self.add_party(call, target, State::Connected);
                self.note_delivered(call, target, fx);
                self.note_established(call, target, fx);
                let owner = self.call(call).and_then(|c| c.last_redirection.clone());
                if let Some(owner) = owner
                    && self.device(&owner).is_some_and(|d| d.has_voicemail)
                {
                    let _ = self.set_message_waiting(&owner, true, fx);
                }
            }
            DeviceKind::HuntGroup { .. } => match self.free_member(target) {
                Some(member) => {
                    if let Some(c) = self.calls.get_mut(call) {
                        c.last_redirection = Some(target.to_owned());
                    }
                    self.route(call, &member, hops + 1, fx);
                }
                None => {
                    self.add_party(call, target, State::Queued);
                    if let Some(DeviceKind::HuntGroup { queue, .. }) =
                        self.devices.get_mut(target).map(|d| &mut d.kind)
                    {
                        queue.push_back(call.to_owned());
                    }
                    let queued = self
                        .call(call)
                        .map(|c| (c.calling.clone(), c.called.clone(), c.devices()));
                    let number_queued = match self.device(target).map(|d| &d.kind) {
                        Some(DeviceKind::HuntGroup { queue, .. }) => Some(queue.len() as u32),
                        _ => None,
                    };
                    if let Some((calling, called, devices)) = queued {
                        fx.note(
                            devices,
                            Some(call),
                            EventKind::Queued {
                                connection: ConnectionId::new(call, target),
                                queue: dev(target),
                                calling_device: dev(&calling),
                                called_device: dev(&called),
                                number_queued,
                                info: cause("enteringDistribution"),
                            },
                        );
                    }
                }
            },
            DeviceKind::Extension { .. } | DeviceKind::External => {
                if let Some(fwd) = self.forward_target(target, Condition::Immediate, internal) {
                    self.divert(call, target, &fwd, Condition::Immediate.cause(), hops, fx);
                    return;
                }
                let busy = self.is_busy(target);
                if device.do_not_disturb || busy {
                    let cond = if device.do_not_disturb {
                        Condition::DoNotDisturb
                    } else {
                        Condition::Busy
                    };
                    if let Some(fwd) = self.forward_target(target, cond, internal) {
                        self.divert(call, target, &fwd, cond.cause(), hops, fx);
                    } else if device.has_voicemail
                        && let Some(vm) = self.voicemail.clone()
                    {
                        self.divert(call, target, &vm, cond.cause(), hops, fx);
                    } else {
                        let c = if device.do_not_disturb {
                            "doNotDisturb"
                        } else {
                            "busy"
                        };
                        self.fail_call(call, target, c, fx);
                    }
                    return;
                }
                self.add_party(call, target, State::Alerting);
                self.note_delivered(call, target, fx);
                let forwards_on_no_answer = self
                    .forward_target(target, Condition::NoAnswer, internal)
                    .is_some()
                    || (device.has_voicemail && self.voicemail.is_some());
                if forwards_on_no_answer {
                    fx.timers.push(Timer::NoAnswer {
                        call: call.to_owned(),
                        device: target.to_owned(),
                        after: self.no_answer,
                    });
                }
                if device.kind == DeviceKind::External
                    && let Some(after) = self.external_answer
                {
                    fx.timers.push(Timer::AutoAnswer {
                        call: call.to_owned(),
                        device: target.to_owned(),
                        after,
                    });
                }
            }
        }
    }

    fn free_member(&mut self, hunt: &str) -> Option<String> {
        let (members, start) = match self.device(hunt).map(|d| &d.kind) {
            Some(DeviceKind::HuntGroup { members, next, .. }) => (members.clone(), *next),
            _ => return None,
        };
        let n = members.len();
        for i in 0..n {
            let idx = (start + i) % n;
            let m = &members[idx];
            let free = !self.is_busy(m) && self.device(m).is_some_and(|d| !d.do_not_disturb);
            if free {
                if let Some(DeviceKind::HuntGroup { next, .. }) =
                    self.devices.get_mut(hunt).map(|d| &mut d.kind)
                {
                    *next = (idx + 1) % n;
                }
                return Some(m.clone());
            }
        }
        None
    }

    /// Hands queued calls to hunt group members that became free.
    pub(super) fn serve_queues(&mut self, fx: &mut Effects) {
        let hunts: Vec<String> = self
            .devices
            .values()
            .filter(|d| matches!(&d.kind, DeviceKind::HuntGroup { queue, .. } if !queue.is_empty()))
            .map(|d| d.number.clone())
            .collect();
        for hunt in hunts {
            loop {
                let has_queue = matches!(
                    self.device(&hunt).map(|d| &d.kind),
                    Some(DeviceKind::HuntGroup { queue, .. }) if !queue.is_empty()
                );
                if !has_queue {
                    break;
                }
                let Some(member) = self.free_member(&hunt) else {
                    break;
                };
                let next = match self.devices.get_mut(&hunt).map(|d| &mut d.kind) {
                    Some(DeviceKind::HuntGroup { queue, .. }) => queue.pop_front(),
                    _ => None,
                };
                let Some(call) = next else { break };
                let Some(c) = self.calls.get_mut(&call) else {
                    continue;
                };
                c.parties.retain(|p| p.device != hunt);
                c.last_redirection = Some(hunt.clone());
                self.route(&call, &member, 1, fx);
            }
        }
    }

    fn add_party(&mut self, call: &str, device: &str, state: State) {
        if let Some(c) = self.calls.get_mut(call) {
            match c.party_mut(device) {
                Some(p) => p.state = state,
                None => c.parties.push(Party {
                    device: device.to_owned(),
                    state,
                }),
            }
        }
    }

    fn note_delivered(&self, call: &str, alerting: &str, fx: &mut Effects) {
        if let Some(c) = self.call(call) {
            fx.note(
                c.devices(),
                Some(call),
                EventKind::Delivered {
                    connection: c.connection(alerting),
                    alerting_device: dev(alerting),
                    calling_device: dev(&c.calling),
                    called_device: dev(&c.called),
                    last_redirection_device: c.last_redirection.as_deref().and_then(dev),
                    info: cause(if c.last_redirection.is_some() {
                        "redirected"
                    } else {
                        "newCall"
                    }),
                },
            );
        }
    }

    fn note_established(&self, call: &str, answering: &str, fx: &mut Effects) {
        if let Some(c) = self.call(call) {
            fx.note(
                c.devices(),
                Some(call),
                EventKind::Established {
                    connection: c.connection(answering),
                    answering_device: dev(answering),
                    calling_device: dev(&c.calling),
                    called_device: dev(&c.called),
                    last_redirection_device: c.last_redirection.as_deref().and_then(dev),
                    info: cause("newCall"),
                },
            );
        }
    }

    /// Redirects `call` from `from` (ringing or not yet offered) to `to`.
    fn divert(&mut self, call: &str, from: &str, to: &str, why: &str, hops: u8, fx: &mut Effects) {
        let Some(c) = self.calls.get_mut(call) else {
            return;
        };
        let mut devices = c.devices();
        c.parties.retain(|p| p.device != from);
        c.last_redirection = Some(from.to_owned());
        if !devices.iter().any(|d| d == from) {
            devices.push(from.to_owned());
        }
        let (calling, called) = (c.calling.clone(), c.called.clone());
        fx.note(
            devices,
            Some(call),
            EventKind::Diverted {
                connection: ConnectionId::new(call, from),
                diverting_device: dev(from),
                new_destination: dev(to),
                calling_device: dev(&calling),
                called_device: dev(&called),
                info: cause(why),
            },
        );
        match self.resolve(to) {
            Ok(to) => self.route(call, &to, hops + 1, fx),
            Err(_) => self.fail_call(call, to, "invalidNumberFormat", fx),
        }
    }

    /// The call cannot reach `target`: Failed to the parties; an outside
    /// caller hangs up at once.
    fn fail_call(&mut self, call: &str, target: &str, why: &str, fx: &mut Effects) {
        let Some(c) = self.calls.get_mut(call) else {
            return;
        };
        let calling = c.calling.clone();
        if let Some(p) = c.party_mut(&calling) {
            p.state = State::Fail;
        }
        let (devices, called) = (c.devices(), c.called.clone());
        fx.note(
            devices,
            Some(call),
            EventKind::Failed {
                connection: ConnectionId::new(call, &calling),
                failing_device: dev(target),
                calling_device: dev(&calling),
                called_device: dev(&called),
                info: cause(why),
            },
        );
        if self.device(&calling).is_some_and(|d| !d.is_internal()) {
            let _ = self.clear_connection(call, &calling, fx);
        }
    }

    /// The ringing `device` answers `call`.
    pub fn answer(&mut self, call: &str, device: &str, fx: &mut Effects) -> PbxResult<()> {
        let c = self.call_mut(call)?;
        let p = c.party_mut(device).ok_or_else(super::invalid_connection)?;
        if p.state != State::Alerting {
            return Err(invalid_state());
        }
        p.state = State::Connected;
        self.note_established(call, device, fx);
        Ok(())
    }

    /// Timer: `device` did not answer `call` in time.
    pub fn no_answer(&mut self, call: &str, device: &str, fx: &mut Effects) {
        if self.state_of(call, device) != State::Alerting {
            return;
        }
        let internal = self.caller_is_internal(call);
        let target = self
            .forward_target(device, Condition::NoAnswer, internal)
            .or_else(|| {
                self.device(device)
                    .filter(|d| d.has_voicemail)
                    .and(self.voicemail.clone())
            });
        if let Some(to) = target {
            self.divert(call, device, &to, Condition::NoAnswer.cause(), 0, fx);
        }
    }

    /// Timer: an outside party answers if still ringing.
    pub fn auto_answer(&mut self, call: &str, device: &str, fx: &mut Effects) {
        if self.state_of(call, device) == State::Alerting {
            let _ = self.answer(call, device, fx);
        }
    }

    /// `device` leaves `call`; a call left with one party is cleared.
    pub fn clear_connection(
        &mut self,
        call: &str,
        device: &str,
        fx: &mut Effects,
    ) -> PbxResult<()> {
        let c = self.call_mut(call)?;
        if c.party(device).is_none() {
            return Err(super::invalid_connection());
        }
        let mut devices = c.devices();
        c.parties.retain(|p| p.device != device);
        fx.note(
            devices.clone(),
            Some(call),
            EventKind::ConnectionCleared {
                connection: ConnectionId::new(call, device),
                releasing_device: dev(device),
                info: cause("normalClearing"),
            },
        );
        let remaining = c.parties.len();
        if remaining <= 1 {
            self.drop_call(call, &[device.to_owned()], fx);
        }
        devices.clear();
        self.serve_queues(fx);
        Ok(())
    }

    /// Clears the whole call (ClearCall).
    pub fn clear_call(&mut self, call: &str, fx: &mut Effects) -> PbxResult<()> {
        self.call_mut(call)?;
        self.drop_call(call, &[], fx);
        self.serve_queues(fx);
        Ok(())
    }

    /// Removes the call; CallCleared goes to its parties, its caller and
    /// `also` (devices that just left).
    fn drop_call(&mut self, call: &str, also: &[String], fx: &mut Effects) {
        let Some(c) = self.calls.remove(call) else {
            return;
        };
        for p in &c.parties {
            if let Some(DeviceKind::HuntGroup { queue, .. }) =
                self.devices.get_mut(&p.device).map(|d| &mut d.kind)
            {
                queue.retain(|q| q != call);
            }
        }
        let mut devices = c.devices();
        devices.push(c.calling.clone());
        devices.extend_from_slice(also);
        devices.sort();
        devices.dedup();
        fx.note(
            devices,
            Some(call),
            EventKind::CallCleared {
                call: ConnectionId {
                    call_id: Some(call.to_owned()),
                    device_id: None,
                },
                info: cause("normalClearing"),
            },
        );
    }

    fn set_state(
        &mut self,
        conn: &ConnectionId,
        from: State,
        to: State,
    ) -> PbxResult<(String, String)> {
        let (call, device) = self.connection(conn)?;
        let c = self.call_mut(&call)?;
        let p = c.party_mut(&device).ok_or_else(super::invalid_connection)?;
        if p.state != from {
            return Err(invalid_state());
        }
        p.state = to;
        Ok((call, device))
    }

    pub fn hold(&mut self, conn: &ConnectionId, fx: &mut Effects) -> PbxResult<()> {
        let (call, device) = self.set_state(conn, State::Connected, State::Hold)?;
        if let Some(c) = self.call(&call) {
            fx.note(
                c.devices(),
                Some(&call),
                EventKind::Held {
                    connection: c.connection(&device),
                    holding_device: dev(&device),
                    info: cause("normal"),
                },
            );
        }
        Ok(())
    }

    pub fn retrieve(&mut self, conn: &ConnectionId, fx: &mut Effects) -> PbxResult<()> {
        let (call, device) = self.set_state(conn, State::Hold, State::Connected)?;
        if let Some(c) = self.call(&call) {
            fx.note(
                c.devices(),
                Some(&call),
                EventKind::Retrieved {
                    connection: c.connection(&device),
                    retrieving_device: dev(&device),
                    info: cause("normal"),
                },
            );
        }
        Ok(())
    }

    /// Holds the existing call and calls `consulted` from the same device.
    pub fn consultation(
        &mut self,
        existing: &ConnectionId,
        consulted: &str,
        fx: &mut Effects,
    ) -> PbxResult<ConnectionId> {
        let (call, device) = self.connection(existing)?;
        match self.state_of(&call, &device) {
            State::Connected => self.hold(existing, fx)?,
            State::Hold => {}
            _ => return Err(invalid_state()),
        }
        self.make_call(&device, consulted, fx)
    }

    /// Joins the other parties of the held and the active call, and
    /// removes the transferring device. Returns the resulting call.
    pub fn transfer(
        &mut self,
        held: &ConnectionId,
        active: &ConnectionId,
        fx: &mut Effects,
    ) -> PbxResult<ConnectionId> {
        let (c1, a) = self.connection(held)?;
        let (c2, a2) = self.connection(active)?;
        if a != a2 || c1 == c2 {
            return Err(super::invalid_connection());
        }
        let old = self.calls.remove(&c1).ok_or_else(super::invalid_call)?;
        let moved: Vec<Party> = old.parties.into_iter().filter(|p| p.device != a).collect();
        let c = self.call_mut(&c2)?;
        c.parties.retain(|p| p.device != a);
        let transferred_to = c.parties.first().map(|p| p.device.clone());
        let mut connections: Vec<ConnectionListItem> = moved
            .iter()
            .map(|p| list_item(&c1, &c2, &p.device))
            .collect();
        connections.extend(c.parties.iter().map(|p| list_item(&c2, &c2, &p.device)));
        c.parties.extend(moved);
        c.calling = c
            .parties
            .first()
            .map_or(c.calling.clone(), |p| p.device.clone());
        let mut devices = c.devices();
        devices.push(a.clone());
        fx.note(
            devices,
            Some(&c2),
            EventKind::Transferred {
                primary_old_call: ConnectionId::new(c1.clone(), a.clone()),
                secondary_old_call: Some(ConnectionId::new(c2.clone(), a.clone())),
                transferring_device: dev(&a),
                transferred_to_device: transferred_to.as_deref().and_then(dev),
                connections,
                info: cause("transfer"),
            },
        );
        let result = ConnectionId::new(c2.clone(), transferred_to.unwrap_or_default());
        if self.call(&c2).is_some_and(|c| c.parties.len() <= 1) {
            self.drop_call(&c2, &[], fx);
        }
        Ok(result)
    }

    /// Merges the held call into the active one; the conferencing device
    /// stays connected.
    pub fn conference(
        &mut self,
        held: &ConnectionId,
        active: &ConnectionId,
        fx: &mut Effects,
    ) -> PbxResult<ConnectionId> {
        let (c1, a) = self.connection(held)?;
        let (c2, a2) = self.connection(active)?;
        if a != a2 || c1 == c2 {
            return Err(super::invalid_connection());
        }
        let old = self.calls.remove(&c1).ok_or_else(super::invalid_call)?;
        let moved: Vec<Party> = old.parties.into_iter().filter(|p| p.device != a).collect();
        let added = moved.first().map(|p| p.device.clone());
        let c = self.call_mut(&c2)?;
        if let Some(p) = c.party_mut(&a) {
            p.state = State::Connected;
        }
        let mut connections: Vec<ConnectionListItem> = moved
            .iter()
            .map(|p| list_item(&c1, &c2, &p.device))
            .collect();
        connections.extend(c.parties.iter().map(|p| list_item(&c2, &c2, &p.device)));
        c.parties.extend(moved);
        fx.note(
            c.devices(),
            Some(&c2),
            EventKind::Conferenced {
                primary_old_call: ConnectionId::new(c1.clone(), a.clone()),
                secondary_old_call: Some(ConnectionId::new(c2.clone(), a.clone())),
                conferencing_device: dev(&a),
                added_party: added.as_deref().and_then(dev),
                connections,
                info: cause("conference"),
            },
        );
        Ok(ConnectionId::new(c2, a))
    }

    /// Sends a ringing call elsewhere (DeflectCall).
    pub fn deflect(&mut self, conn: &ConnectionId, to: &str, fx: &mut Effects) -> PbxResult<()> {
        let (call, device) = self.connection(conn)?;
        if self.state_of(&call, &device) != State::Alerting {
            return Err(invalid_state());
        }
        let to = self.resolve(to)?;
        self.divert(&call, &device, &to, "redirected", 0, fx);
        Ok(())
    }

    /// The connected device leaves and its partner is offered to `to`.
    pub fn single_step_transfer(
        &mut self,
        conn: &ConnectionId,
        to: &str,
        fx: &mut Effects,
    ) -> PbxResult<ConnectionId> {
        let (call, device) = self.connection(conn)?;
        if self.state_of(&call, &device) != State::Connected {
            return Err(invalid_state());
        }
        let to = self.resolve(to)?;
        let c = self.call_mut(&call)?;
        let mut devices = c.devices();
        c.parties.retain(|p| p.device != device);
        c.last_redirection = Some(device.clone());
        let connections = c
            .parties
            .iter()
            .map(|p| list_item(&call, &call, &p.device))
            .collect();
        if let Some(first) = c.parties.first() {
            c.calling = first.device.clone();
        }
        devices.push(to.clone());
        fx.note(
            devices,
            Some(&call),
            EventKind::Transferred {
                primary_old_call: ConnectionId::new(call.clone(), device.clone()),
                secondary_old_call: None,
                transferring_device: dev(&device),
                transferred_to_device: dev(&to),
                connections,
                info: cause("singleStepTransfer"),
            },
        );
        self.route(&call, &to, 0, fx);
        Ok(ConnectionId::new(call, to))
    }

    /// `requesting` takes a call ringing at another device.
    pub fn directed_pickup(
        &mut self,
        conn: &ConnectionId,
        requesting: &str,
        fx: &mut Effects,
    ) -> PbxResult<ConnectionId> {
        let (call, ringing) = self.connection(conn)?;
        if self.state_of(&call, &ringing) != State::Alerting {
            return Err(invalid_state());
        }
        if !self
            .device(requesting)
            .is_some_and(|d| matches!(d.kind, DeviceKind::Extension { .. }))
        {
            return Err(invalid_device(requesting));
        }
        let c = self.call_mut(&call)?;
        let mut devices = c.devices();
        devices.push(requesting.to_owned());
        c.parties.retain(|p| p.device != ringing);
        c.last_redirection = Some(ringing.clone());
        let (calling, called) = (c.calling.clone(), c.called.clone());
        fx.note(
            devices,
            Some(&call),
            EventKind::Diverted {
                connection: ConnectionId::new(call.clone(), ringing.clone()),
                diverting_device: dev(&ringing),
                new_destination: dev(requesting),
                calling_device: dev(&calling),
                called_device: dev(&called),
                info: cause("callPickup"),
            },
        );
        self.add_party(&call, requesting, State::Connected);
        self.note_established(&call, requesting, fx);
        Ok(ConnectionId::new(call, requesting))
    }

    /// Picks up any call ringing in the pickup group of `requesting` (or
    /// at `pickup_device` when given).
    pub fn group_pickup(
        &mut self,
        requesting: &str,
        pickup_device: Option<&str>,
        fx: &mut Effects,
    ) -> PbxResult<ConnectionId> {
        let group = self
            .device(requesting)
            .ok_or_else(|| invalid_device(requesting))?
            .pickup_group
            .clone();
        let ringing = self.calls.values().find_map(|c| {
            c.parties
                .iter()
                .find(|p| {
                    p.state == State::Alerting
                        && p.device != requesting
                        && match pickup_device {
                            Some(d) => p.device == d,
                            None => {
                                group.is_some()
                                    && self.device(&p.device).and_then(|d| d.pickup_group.as_ref())
                                        == group.as_ref()
                            }
                        }
                })
                .map(|p| c.connection(&p.device))
        });
        let conn = ringing.ok_or_else(|| {
            twp_csta::CstaError::new(twp_csta::ErrorCategory::Operation, "noCallToPickUp")
        })?;
        self.directed_pickup(&conn, requesting, fx)
    }

    pub fn generate_digits(&self, conn: &ConnectionId) -> PbxResult<()> {
        let (call, device) = self.connection(conn)?;
        if self.state_of(&call, &device) != State::Connected {
            return Err(invalid_state());
        }
        Ok(())
    }
}

fn list_item(old_call: &str, new_call: &str, device: &str) -> ConnectionListItem {
    ConnectionListItem {
        new_connection: Some(ConnectionId::new(new_call, device)),
        old_connection: Some(ConnectionId::new(old_call, device)),
        endpoint: dev(device),
    }
}
