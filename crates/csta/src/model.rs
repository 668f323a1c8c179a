//! The typed CSTA model: ECMA-269 services and events as TWP uses them.
//! Names follow ECMA-269/ECMA-323 (`call_to_be_answered` is
//! `callToBeAnswered`). Nothing here knows XML; see [`crate::codec`].

use crate::device::DeviceId;

/// A connection: a call at a device (ECMA-269 ConnectionID).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ConnectionId {
    pub call_id: Option<String>,
    pub device_id: Option<DeviceId>,
}

impl ConnectionId {
    pub fn new(call_id: impl Into<String>, device: impl Into<String>) -> ConnectionId {
        ConnectionId {
            call_id: Some(call_id.into()),
            device_id: Some(DeviceId::new(device)),
        }
    }

    /// The number of the device, if the connection names one.
    pub fn device_number(&self) -> Option<&str> {
        self.device_id.as_ref().map(DeviceId::number)
    }
}

macro_rules! token_enum {
    ($(#[$meta:meta])* $name:ident, $expected:literal { $($variant:ident = $token:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in ECMA-323 order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The ECMA-323 token.
            pub fn token(self) -> &'static str {
                match self { $($name::$variant => $token),+ }
            }
        }

        impl crate::xml::read::Token for $name {
            const EXPECTED: &'static str = $expected;
            fn from_token(s: &str) -> Option<Self> {
                match s { $($token => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.token())
            }
        }
    };
}

token_enum!(
    /// ECMA-269 LocalConnectionState.
    LocalConnectionState, "a local connection state (null, initiated, alerting, connected, hold, queued, fail)" {
        Null = "null",
        Initiated = "initiated",
        Alerting = "alerting",
        Connected = "connected",
        Hold = "hold",
        Queued = "queued",
        Fail = "fail",
    }
);

token_enum!(
    /// ECMA-269 SystemStatus values.
    SystemStatusValue, "a system status (normal, initializing, enabled, disabled, ...)" {
        Initializing = "initializing",
        Enabled = "enabled",
        Normal = "normal",
        MessagesLost = "messagesLost",
        Disabled = "disabled",
        PartiallyDisabled = "partiallyDisabled",
        OverloadImminent = "overloadImminent",
        OverloadReached = "overloadReached",
        OverloadRelieved = "overloadRelieved",
    }
);

token_enum!(
    /// What a monitor watches.
    MonitorType, "call or device" {
        Call = "call",
        Device = "device",
    }
);

token_enum!(
    /// MakeCall autoOriginate.
    AutoOriginate, "prompt or doNotPrompt" {
        Prompt = "prompt",
        DoNotPrompt = "doNotPrompt",
    }
);

token_enum!(
    /// ECMA-269 ForwardingType: immediate, busy, no answer, do not
    /// disturb, each also restricted to internal or external callers.
    ForwardingType, "a forwarding type (forwardImmediate, forwardBusy, forwardNoAns, ...)" {
        Immediate = "forwardImmediate",
        Busy = "forwardBusy",
        NoAnswer = "forwardNoAns",
        BusyInternal = "forwardBusyInt",
        BusyExternal = "forwardBusyExt",
        DoNotDisturb = "forwardDND",
        DoNotDisturbInternal = "forwardDNDInt",
        DoNotDisturbExternal = "forwardDNDExt",
        ImmediateInternal = "forwardImmInt",
        ImmediateExternal = "forwardImmExt",
        NoAnswerInternal = "forwardNoAnsInt",
        NoAnswerExternal = "forwardNoAnsExt",
    }
);

token_enum!(
    /// ECMA-269 DeviceCategory: what kind of device a switch lists in
    /// `SwitchingFunctionDevices` (and what `GetSwitchingFunctionDevices`
    /// may ask for).
    DeviceCategory, "a device category (acd, group, networkInterface, park, routeingDevice, station, voiceUnit, other)" {
        Acd = "acd",
        Group = "group",
        NetworkInterface = "networkInterface",
        Park = "park",
        RouteingDevice = "routeingDevice",
        Station = "station",
        VoiceUnit = "voiceUnit",
        Other = "other",
    }
);

token_enum!(
    /// Category of a CSTAErrorCode.
    ErrorCategory, "an error category (operation, stateIncompatibility, ...)" {
        Operation = "operation",
        Security = "security",
        StateIncompatibility = "stateIncompatibility",
        SystemResourceAvailability = "systemResourceAvailability",
        SubscribedResourceAvailability = "subscribedResourceAvailability",
        PerformanceManagement = "performanceManagement",
        Unspecified = "unspecified",
    }
);

/// A negative response (ECMA-269 CSTAErrorCode), e.g.
/// `operation` / `invalidDeviceID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CstaError {
    pub category: ErrorCategory,
    pub value: String,
}

impl CstaError {
    pub fn new(category: ErrorCategory, value: impl Into<String>) -> CstaError {
        CstaError {
            category,
            value: value.into(),
        }
    }
}

impl std::fmt::Display for CstaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.category, self.value)
    }
}

/// One call at a device in a SnapshotDevice response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotCall {
    pub connection: ConnectionId,
    pub state: Option<LocalConnectionState>,
}

/// One forwarding rule in a GetForwarding response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardingEntry {
    pub forwarding_type: ForwardingType,
    pub forward_status: bool,
    pub forward_dn: Option<DeviceId>,
}

/// One entry of the `deviceList` of a `SwitchingFunctionDevices` message
/// (ECMA-269 Switching Function Devices). ECMA-269 carries no subscriber
/// name: only the device, its category and its model name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedDevice {
    pub device_id: DeviceId,
    pub device_category: Option<DeviceCategory>,
    /// `deviceModelName`: the terminal's model, e.g. `4039`.
    pub device_model_name: Option<String>,
}

/// One party of a transfer or conference (ECMA-269 ConnectionList item).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectionListItem {
    pub new_connection: Option<ConnectionId>,
    pub old_connection: Option<ConnectionId>,
    pub endpoint: Option<DeviceId>,
}

/// Requests, client to switch (and SystemStatus both ways).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// ECMA-354 application session opening.
    StartApplicationSession {
        application_id: String,
        requested_protocol_versions: Vec<String>,
        requested_session_duration: Option<u32>,
    },
    StopApplicationSession {
        session_id: String,
    },
    /// ECMA-354 keep-alive of an application session.
    ResetApplicationSessionTimer {
        session_id: String,
        requested_session_duration: Option<u32>,
    },
    /// Heartbeat in either direction.
    SystemStatus {
        status: Option<SystemStatusValue>,
    },
    SystemRegister,
    MonitorStart {
        monitor_object: DeviceId,
        monitor_type: Option<MonitorType>,
    },
    MonitorStop {
        cross_ref_id: String,
    },
    SnapshotDevice {
        snapshot_object: DeviceId,
    },
    MakeCall {
        calling_device: DeviceId,
        called_directory_number: DeviceId,
        auto_originate: Option<AutoOriginate>,
    },
    AnswerCall {
        call_to_be_answered: ConnectionId,
    },
    ClearConnection {
        connection_to_be_cleared: ConnectionId,
    },
    ClearCall {
        call_to_be_cleared: ConnectionId,
    },
    HoldCall {
        call_to_be_held: ConnectionId,
    },
    RetrieveCall {
        call_to_be_retrieved: ConnectionId,
    },
    ConsultationCall {
        existing_call: ConnectionId,
        consulted_device: DeviceId,
    },
    TransferCall {
        held_call: ConnectionId,
        active_call: ConnectionId,
    },
    ConferenceCall {
        held_call: ConnectionId,
        active_call: ConnectionId,
    },
    /// Divert a ringing call elsewhere.
    DeflectCall {
        call_to_be_diverted: ConnectionId,
        new_destination: DeviceId,
    },
    SingleStepTransferCall {
        active_call: ConnectionId,
        transferred_to: DeviceId,
    },
    /// Pick up a call ringing in the pickup group of `new_destination`.
    GroupPickupCall {
        new_destination: DeviceId,
        pickup_device: Option<DeviceId>,
    },
    /// Pick up a given call ringing at another device (interception).
    DirectedPickupCall {
        call_to_be_picked_up: ConnectionId,
        requesting_device: DeviceId,
    },
    SetForwarding {
        device: DeviceId,
        forwarding_type: ForwardingType,
        activate_forward: bool,
        forward_dn: Option<DeviceId>,
        ring_count: Option<u32>,
    },
    GetForwarding {
        device: DeviceId,
    },
    SetDoNotDisturb {
        device: DeviceId,
        do_not_disturb_on: bool,
    },
    GetDoNotDisturb {
        device: DeviceId,
    },
    GenerateDigits {
        connection_to_send_digits: ConnectionId,
        chars_to_send: String,
    },
    /// ECMA-269 Get Switching Function Devices: asks the switch for the
    /// devices it controls (every device when both filters are absent).
    /// The positive response only acknowledges; the list follows in
    /// [`Request::SwitchingFunctionDevices`] messages.
    GetSwitchingFunctionDevices {
        requested_device_id: Option<DeviceId>,
        requested_device_category: Option<DeviceCategory>,
    },
    /// ECMA-269 Switching Function Devices, switch to client: one segment
    /// of the list asked for by the request that `service_cross_ref_id`
    /// answered.
    SwitchingFunctionDevices {
        service_cross_ref_id: String,
        segment_id: Option<u32>,
        last_segment: bool,
        device_list: Vec<ListedDevice>,
    },
}

/// Positive responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    StartApplicationSessionPos {
        session_id: String,
        actual_protocol_version: Option<String>,
        actual_session_duration: Option<u32>,
    },
    StartApplicationSessionNeg {
        error: String,
    },
    StopApplicationSessionPos,
    ResetApplicationSessionTimerPos {
        actual_session_duration: Option<u32>,
    },
    SystemStatus,
    SystemRegister {
        sys_stat_register_id: String,
    },
    MonitorStart {
        cross_ref_id: String,
    },
    MonitorStop,
    SnapshotDevice {
        calls: Vec<SnapshotCall>,
    },
    MakeCall {
        calling_device: ConnectionId,
    },
    AnswerCall,
    ClearConnection,
    ClearCall,
    HoldCall,
    RetrieveCall,
    ConsultationCall {
        initiated_call: ConnectionId,
    },
    TransferCall {
        transferred_call: Option<ConnectionId>,
    },
    ConferenceCall {
        conference_call: ConnectionId,
    },
    DeflectCall,
    SingleStepTransferCall {
        transferred_call: Option<ConnectionId>,
    },
    GroupPickupCall {
        picked_call: Option<ConnectionId>,
    },
    DirectedPickupCall {
        picked_call: Option<ConnectionId>,
    },
    SetForwarding,
    GetForwarding {
        forwarding: Vec<ForwardingEntry>,
    },
    SetDoNotDisturb,
    GetDoNotDisturb {
        do_not_disturb_on: bool,
    },
    GenerateDigits,
    /// Acknowledges `GetSwitchingFunctionDevices`; the segments that follow
    /// carry this cross reference.
    GetSwitchingFunctionDevices {
        service_cross_ref_id: String,
    },
}

/// An unsolicited event, tagged with the monitor it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub cross_ref_id: String,
    pub kind: EventKind,
}

/// Fields every call event carries besides its own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallEventInfo {
    /// `localConnectionInfo`: the state of the monitored device's connection.
    pub state: Option<LocalConnectionState>,
    /// ECMA-269 EventCause token (`newCall`, `transfer`, `enteringDistribution`...).
    pub cause: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    ServiceInitiated {
        connection: ConnectionId,
        initiating_device: Option<DeviceId>,
        info: CallEventInfo,
    },
    Originated {
        connection: ConnectionId,
        calling_device: Option<DeviceId>,
        called_device: Option<DeviceId>,
        info: CallEventInfo,
    },
    Delivered {
        connection: ConnectionId,
        alerting_device: Option<DeviceId>,
        calling_device: Option<DeviceId>,
        called_device: Option<DeviceId>,
        last_redirection_device: Option<DeviceId>,
        info: CallEventInfo,
    },
    Established {
        connection: ConnectionId,
        answering_device: Option<DeviceId>,
        calling_device: Option<DeviceId>,
        called_device: Option<DeviceId>,
        last_redirection_device: Option<DeviceId>,
        info: CallEventInfo,
    },
    ConnectionCleared {
        connection: ConnectionId,
        releasing_device: Option<DeviceId>,
        info: CallEventInfo,
    },
    CallCleared {
        call: ConnectionId,
        info: CallEventInfo,
    },
    Diverted {
        connection: ConnectionId,
        diverting_device: Option<DeviceId>,
        new_destination: Option<DeviceId>,
        calling_device: Option<DeviceId>,
        called_device: Option<DeviceId>,
        info: CallEventInfo,
    },
    /// ECMA-323 spells the element `TransferedEvent`.
    Transferred {
        primary_old_call: ConnectionId,
        secondary_old_call: Option<ConnectionId>,
        transferring_device: Option<DeviceId>,
        transferred_to_device: Option<DeviceId>,
        connections: Vec<ConnectionListItem>,
        info: CallEventInfo,
    },
    Conferenced {
        primary_old_call: ConnectionId,
        secondary_old_call: Option<ConnectionId>,
        conferencing_device: Option<DeviceId>,
        added_party: Option<DeviceId>,
        connections: Vec<ConnectionListItem>,
        info: CallEventInfo,
    },
    Held {
        connection: ConnectionId,
        holding_device: Option<DeviceId>,
        info: CallEventInfo,
    },
    Retrieved {
        connection: ConnectionId,
        retrieving_device: Option<DeviceId>,
        info: CallEventInfo,
    },
    Queued {
        connection: ConnectionId,
        queue: Option<DeviceId>,
        calling_device: Option<DeviceId>,
        called_device: Option<DeviceId>,
        number_queued: Option<u32>,
        info: CallEventInfo,
    },
    Failed {
        connection: ConnectionId,
        failing_device: Option<DeviceId>,
        calling_device: Option<DeviceId>,
        called_device: Option<DeviceId>,
        info: CallEventInfo,
    },
    Forwarding {
        device: Option<DeviceId>,
        forwarding_type: Option<ForwardingType>,
        forward_status: bool,
        forward_to: Option<DeviceId>,
    },
    DoNotDisturb {
        device: Option<DeviceId>,
        do_not_disturb_on: bool,
    },
    MessageWaiting {
        target_device: Option<DeviceId>,
        device_for_message: Option<DeviceId>,
        message_waiting_on: bool,
    },
    /// An event this codec does not model (e.g. `CallInformationEvent`):
    /// log it and skip it.
    Unknown { name: String },
}

/// Anything that travels in a frame body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Request(Request),
    Response(Response),
    Event(Event),
    /// `CSTAErrorCode`: the negative response to a request.
    Error(CstaError),
    /// A root element that is neither a known message nor an event.
    Unknown {
        name: String,
    },
}

impl From<Request> for Message {
    fn from(r: Request) -> Self {
        Message::Request(r)
    }
}

impl From<Response> for Message {
    fn from(r: Response) -> Self {
        Message::Response(r)
    }
}

impl From<Event> for Message {
    fn from(e: Event) -> Self {
        Message::Event(e)
    }
}

impl From<CstaError> for Message {
    fn from(e: CstaError) -> Self {
        Message::Error(e)
    }
}

impl Request {
    /// Session-level requests (ECMA-354 sessions, system status and
    /// registration, the switch's device list): they concern the link,
    /// not a device.
    pub fn is_session(&self) -> bool {
        matches!(
            self,
            Request::StartApplicationSession { .. }
                | Request::StopApplicationSession { .. }
                | Request::ResetApplicationSessionTimer { .. }
                | Request::SystemStatus { .. }
                | Request::SystemRegister
                | Request::GetSwitchingFunctionDevices { .. }
                | Request::SwitchingFunctionDevices { .. }
        )
    }

    /// Every device the request names, directly or in a connection.
    pub fn devices(&self) -> Vec<&DeviceId> {
        fn conn(c: &ConnectionId) -> Option<&DeviceId> {
            c.device_id.as_ref()
        }
        let mut out = Vec::new();
        match self {
            Request::StartApplicationSession { .. }
            | Request::StopApplicationSession { .. }
            | Request::ResetApplicationSessionTimer { .. }
            | Request::SystemStatus { .. }
            | Request::SystemRegister
            | Request::MonitorStop { .. }
            | Request::SwitchingFunctionDevices { .. } => {}
            Request::GetSwitchingFunctionDevices {
                requested_device_id,
                ..
            } => out.extend(requested_device_id),
            Request::MonitorStart {
                monitor_object: d, ..
            }
            | Request::SnapshotDevice { snapshot_object: d }
            | Request::SetForwarding { device: d, .. }
            | Request::GetForwarding { device: d }
            | Request::SetDoNotDisturb { device: d, .. }
            | Request::GetDoNotDisturb { device: d } => out.push(d),
            Request::MakeCall {
                calling_device,
                called_directory_number,
                ..
            } => out.extend([calling_device, called_directory_number]),
            Request::AnswerCall {
                call_to_be_answered: c,
            }
            | Request::ClearConnection {
                connection_to_be_cleared: c,
            }
            | Request::ClearCall {
                call_to_be_cleared: c,
            }
            | Request::HoldCall { call_to_be_held: c }
            | Request::RetrieveCall {
                call_to_be_retrieved: c,
            }
            | Request::GenerateDigits {
                connection_to_send_digits: c,
                ..
            } => out.extend(conn(c)),
            Request::ConsultationCall {
                existing_call: c,
                consulted_device: d,
            }
            | Request::DeflectCall {
                call_to_be_diverted: c,
                new_destination: d,
            }
            | Request::SingleStepTransferCall {
                active_call: c,
                transferred_to: d,
            }
            | Request::DirectedPickupCall {
                call_to_be_picked_up: c,
                requesting_device: d,
            } => {
                out.extend(conn(c));
                out.push(d);
            }
            Request::TransferCall {
                held_call,
                active_call,
            }
            | Request::ConferenceCall {
                held_call,
                active_call,
            } => out.extend(conn(held_call).into_iter().chain(conn(active_call))),
            Request::GroupPickupCall {
                new_destination,
                pickup_device,
            } => {
                out.push(new_destination);
                out.extend(pickup_device);
            }
        }
        out
    }
}

impl Response {
    /// Answers to the session-level requests of [`Request::is_session`].
    pub fn is_session(&self) -> bool {
        matches!(
            self,
            Response::StartApplicationSessionPos { .. }
                | Response::StartApplicationSessionNeg { .. }
                | Response::StopApplicationSessionPos
                | Response::ResetApplicationSessionTimerPos { .. }
                | Response::SystemStatus
                | Response::SystemRegister { .. }
                | Response::GetSwitchingFunctionDevices { .. }
        )
    }
}

impl EventKind {
    /// Every device the event names, in its connections or as a party.
    pub fn devices(&self) -> Vec<&DeviceId> {
        let mut out: Vec<&DeviceId> = Vec::new();
        fn conn<'a>(out: &mut Vec<&'a DeviceId>, c: &'a ConnectionId) {
            out.extend(c.device_id.as_ref());
        }
        fn list<'a>(out: &mut Vec<&'a DeviceId>, items: &'a [ConnectionListItem]) {
            for i in items {
                out.extend(i.new_connection.as_ref().and_then(|c| c.device_id.as_ref()));
                out.extend(i.old_connection.as_ref().and_then(|c| c.device_id.as_ref()));
                out.extend(i.endpoint.as_ref());
            }
        }
        match self {
            EventKind::ServiceInitiated {
                connection,
                initiating_device,
                ..
            } => {
                conn(&mut out, connection);
                out.extend(initiating_device);
            }
            EventKind::Originated {
                connection,
                calling_device,
                called_device,
                ..
            } => {
                conn(&mut out, connection);
                out.extend(calling_device.iter().chain(called_device));
            }
            EventKind::Delivered {
                connection,
                alerting_device,
                calling_device,
                called_device,
                last_redirection_device,
                ..
            } => {
                conn(&mut out, connection);
                out.extend(
                    alerting_device
                        .iter()
                        .chain(calling_device)
                        .chain(called_device)
                        .chain(last_redirection_device),
                );
            }
            EventKind::Established {
                connection,
                answering_device,
                calling_device,
                called_device,
                last_redirection_device,
                ..
            } => {
                conn(&mut out, connection);
                out.extend(
                    answering_device
                        .iter()
                        .chain(calling_device)
                        .chain(called_device)
                        .chain(last_redirection_device),
                );
            }
            EventKind::ConnectionCleared {
                connection,
                releasing_device,
                ..
            } => {
                conn(&mut out, connection);
                out.extend(releasing_device);
            }
            EventKind::CallCleared { call, .. } => conn(&mut out, call),
            EventKind::Diverted {
                connection,
                diverting_device,
                new_destination,
                calling_device,
                called_device,
                ..
            } => {
                conn(&mut out, connection);
                out.extend(
                    diverting_device
                        .iter()
                        .chain(new_destination)
                        .chain(calling_device)
                        .chain(called_device),
                );
            }
            EventKind::Transferred {
                primary_old_call,
                secondary_old_call,
                transferring_device,
                transferred_to_device,
                connections,
                ..
            } => {
                conn(&mut out, primary_old_call);
                if let Some(c) = secondary_old_call {
                    conn(&mut out, c);
                }
                out.extend(transferring_device.iter().chain(transferred_to_device));
                list(&mut out, connections);
            }
            EventKind::Conferenced {
                primary_old_call,
                secondary_old_call,
                conferencing_device,
                added_party,
                connections,
                ..
            } => {
                conn(&mut out, primary_old_call);
                if let Some(c) = secondary_old_call {
                    conn(&mut out, c);
                }
                out.extend(conferencing_device.iter().chain(added_party));
                list(&mut out, connections);
            }
            EventKind::Held {
                connection,
                holding_device: d,
                ..
            }
            | EventKind::Retrieved {
                connection,
                retrieving_device: d,
                ..
            } => {
                conn(&mut out, connection);
                out.extend(d);
            }
            EventKind::Queued {
                connection,
                queue,
                calling_device,
                called_device,
                ..
            } => {
                conn(&mut out, connection);
                out.extend(queue.iter().chain(calling_device).chain(called_device));
            }
            EventKind::Failed {
                connection,
                failing_device,
                calling_device,
                called_device,
                ..
            } => {
                conn(&mut out, connection);
                out.extend(
                    failing_device
                        .iter()
                        .chain(calling_device)
                        .chain(called_device),
                );
            }
            EventKind::Forwarding { device, .. } | EventKind::DoNotDisturb { device, .. } => {
                out.extend(device)
            }
            EventKind::MessageWaiting {
                target_device,
                device_for_message,
                ..
            } => out.extend(target_device.iter().chain(device_for_message)),
            EventKind::Unknown { .. } => {}
        }
        out
    }
}
