//! Events: element names, decoding and encoding.

use crate::model::{CallEventInfo, ConnectionListItem, Event, EventKind};
use crate::xml::read::{FieldResult, connection_in, device_in};
use crate::xml::tree::Element;
use crate::xml::write::XmlWriter;

impl EventKind {
    /// The ECMA-323 root element name (`TransferedEvent` with ECMA's spelling).
    pub fn name(&self) -> &str {
        match self {
            EventKind::ServiceInitiated { .. } => "ServiceInitiatedEvent",
            EventKind::Originated { .. } => "OriginatedEvent",
            EventKind::Delivered { .. } => "DeliveredEvent",
            EventKind::Established { .. } => "EstablishedEvent",
            EventKind::ConnectionCleared { .. } => "ConnectionClearedEvent",
            EventKind::CallCleared { .. } => "CallClearedEvent",
            EventKind::Diverted { .. } => "DivertedEvent",
            EventKind::Transferred { .. } => "TransferedEvent",
            EventKind::Conferenced { .. } => "ConferencedEvent",
            EventKind::Held { .. } => "HeldEvent",
            EventKind::Retrieved { .. } => "RetrievedEvent",
            EventKind::Queued { .. } => "QueuedEvent",
            EventKind::Failed { .. } => "FailedEvent",
            EventKind::Forwarding { .. } => "ForwardingEvent",
            EventKind::DoNotDisturb { .. } => "DoNotDisturbEvent",
            EventKind::MessageWaiting { .. } => "MessageWaitingEvent",
            EventKind::Unknown { name } => name,
        }
    }

    /// The common call-event fields, when this is a call event.
    pub fn info(&self) -> Option<&CallEventInfo> {
        match self {
            EventKind::ServiceInitiated { info, .. }
            | EventKind::Originated { info, .. }
            | EventKind::Delivered { info, .. }
            | EventKind::Established { info, .. }
            | EventKind::ConnectionCleared { info, .. }
            | EventKind::CallCleared { info, .. }
            | EventKind::Diverted { info, .. }
            | EventKind::Transferred { info, .. }
            | EventKind::Conferenced { info, .. }
            | EventKind::Held { info, .. }
            | EventKind::Retrieved { info, .. }
            | EventKind::Queued { info, .. }
            | EventKind::Failed { info, .. } => Some(info),
            EventKind::Forwarding { .. }
            | EventKind::DoNotDisturb { .. }
            | EventKind::MessageWaiting { .. }
            | EventKind::Unknown { .. } => None,
        }
    }

    /// Mutable access to the common call-event fields.
    pub fn info_mut(&mut self) -> Option<&mut CallEventInfo> {
        match self {
            EventKind::ServiceInitiated { info, .. }
            | EventKind::Originated { info, .. }
            | EventKind::Delivered { info, .. }
            | EventKind::Established { info, .. }
            | EventKind::ConnectionCleared { info, .. }
            | EventKind::CallCleared { info, .. }
            | EventKind::Diverted { info, .. }
            | EventKind::Transferred { info, .. }
            | EventKind::Conferenced { info, .. }
            | EventKind::Held { info, .. }
            | EventKind::Retrieved { info, .. }
            | EventKind::Queued { info, .. }
            | EventKind::Failed { info, .. } => Some(info),
            EventKind::Forwarding { .. }
            | EventKind::DoNotDisturb { .. }
            | EventKind::MessageWaiting { .. }
            | EventKind::Unknown { .. } => None,
        }
    }
}

impl Event {
    /// Root names ending in `Event` are events; unknown ones decode to
    /// [`EventKind::Unknown`]. `None` when `name` is not an event.
    pub(crate) fn read(name: &str, el: &Element) -> Option<FieldResult<Event>> {
        if !name.ends_with("Event") {
            return None;
        }
        Some(read_event(name, el))
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.leaf("monitorCrossRefID", &self.cross_ref_id);
        write_kind(&self.kind, w);
    }
}

fn info(el: &Element) -> FieldResult<CallEventInfo> {
    Ok(CallEventInfo {
        state: el.opt_token("localConnectionInfo")?,
        cause: el.opt_text("cause").filter(|c| !c.is_empty()),
    })
}

fn connection_list(el: &Element, name: &str) -> Vec<ConnectionListItem> {
    let Some(list) = el.child(name) else {
        return Vec::new();
    };
    list.children_named("connectionListItem")
        .map(|item| ConnectionListItem {
            new_connection: item.child("newConnection").map(connection_in),
            old_connection: item.child("oldConnection").map(connection_in),
            endpoint: item.child("endpoint").and_then(device_in),
        })
        .collect()
}

fn read_event(name: &str, el: &Element) -> FieldResult<Event> {
    let dev = |n: &str| el.subject_device(n);
    let kind = match name {
        "ServiceInitiatedEvent" => EventKind::ServiceInitiated {
            connection: el.req_connection("initiatedConnection")?,
            initiating_device: dev("initiatingDevice"),
            info: info(el)?,
        },
        "OriginatedEvent" => EventKind::Originated {
            connection: el.req_connection("originatedConnection")?,
            calling_device: dev("callingDevice"),
            called_device: dev("calledDevice"),
            info: info(el)?,
        },
        "DeliveredEvent" => EventKind::Delivered {
            connection: el.req_connection("connection")?,
            alerting_device: dev("alertingDevice"),
            calling_device: dev("callingDevice"),
            called_device: dev("calledDevice"),
            last_redirection_device: dev("lastRedirectionDevice"),
            info: info(el)?,
        },
        "EstablishedEvent" => EventKind::Established {
            connection: el.req_connection("establishedConnection")?,
            answering_device: dev("answeringDevice"),
            calling_device: dev("callingDevice"),
            called_device: dev("calledDevice"),
            last_redirection_device: dev("lastRedirectionDevice"),
            info: info(el)?,
        },
        "ConnectionClearedEvent" => EventKind::ConnectionCleared {
            connection: el.req_connection("droppedConnection")?,
            releasing_device: dev("releasingDevice"),
            info: info(el)?,
        },
        "CallClearedEvent" => EventKind::CallCleared {
            call: el.req_connection("clearedCall")?,
            info: info(el)?,
        },
        "DivertedEvent" => EventKind::Diverted {
            connection: el.req_connection("connection")?,
            diverting_device: dev("divertingDevice"),
            new_destination: dev("newDestination"),
            calling_device: dev("callingDevice"),
            called_device: dev("calledDevice"),
            info: info(el)?,
        },
        "TransferedEvent" | "TransferredEvent" => EventKind::Transferred {
            primary_old_call: el.req_connection("primaryOldCall")?,
            secondary_old_call: el.opt_connection("secondaryOldCall")?,
            transferring_device: dev("transferringDevice"),
            transferred_to_device: dev("transferredToDevice"),
            connections: connection_list(el, "transferredConnections"),
            info: info(el)?,
        },
        "ConferencedEvent" => EventKind::Conferenced {
            primary_old_call: el.req_connection("primaryOldCall")?,
            secondary_old_call: el.opt_connection("secondaryOldCall")?,
            conferencing_device: dev("conferencingDevice"),
            added_party: dev("addedParty"),
            connections: connection_list(el, "conferenceConnections"),
            info: info(el)?,
        },
        "HeldEvent" => EventKind::Held {
            connection: el.req_connection("heldConnection")?,
            holding_device: dev("holdingDevice"),
            info: info(el)?,
        },
        "RetrievedEvent" => EventKind::Retrieved {
            connection: el.req_connection("retrievedConnection")?,
            retrieving_device: dev("retrievingDevice"),
            info: info(el)?,
        },
        "QueuedEvent" => EventKind::Queued {
            connection: el.req_connection("queuedConnection")?,
            queue: dev("queue"),
            calling_device: dev("callingDevice"),
            called_device: dev("calledDevice"),
            number_queued: el.opt_parse("numberQueued", "a count")?,
            info: info(el)?,
        },
        "FailedEvent" => EventKind::Failed {
            connection: el.req_connection("failedConnection")?,
            failing_device: dev("failingDevice"),
            calling_device: dev("callingDevice"),
            called_device: dev("calledDevice"),
            info: info(el)?,
        },
        "ForwardingEvent" => EventKind::Forwarding {
            device: dev("device"),
            forwarding_type: el.opt_token("forwardingType")?,
            forward_status: el.req_bool("forwardStatus")?,
            forward_to: dev("forwardTo"),
        },
        "DoNotDisturbEvent" => EventKind::DoNotDisturb {
            device: dev("device"),
            do_not_disturb_on: el.req_bool("doNotDisturbOn")?,
        },
        "MessageWaitingEvent" => EventKind::MessageWaiting {
            target_device: dev("targetDevice"),
            device_for_message: dev("deviceForMessage"),
            message_waiting_on: el.req_bool("messageWaitingOn")?,
        },
        other => {
            return Ok(Event {
                cross_ref_id: el.opt_text("monitorCrossRefID").unwrap_or_default(),
                kind: EventKind::Unknown {
                    name: other.to_owned(),
                },
            });
        }
    };
    Ok(Event {
        cross_ref_id: el.req_text("monitorCrossRefID")?,
        kind,
    })
}

fn write_info(info: &CallEventInfo, w: &mut XmlWriter) {
    w.opt_display("localConnectionInfo", info.state);
    w.opt_leaf("cause", info.cause.as_deref());
}

fn write_list(name: &str, items: &[ConnectionListItem], w: &mut XmlWriter) {
    w.open(name);
    for item in items {
        w.open("connectionListItem");
        w.opt_connection("newConnection", item.new_connection.as_ref());
        w.opt_connection("oldConnection", item.old_connection.as_ref());
        if let Some(d) = &item.endpoint {
            w.open("endpoint");
            w.device("deviceID", d);
            w.close("endpoint");
        }
        w.close("connectionListItem");
    }
    w.close(name);
}

fn write_kind(kind: &EventKind, w: &mut XmlWriter) {
    match kind {
        EventKind::ServiceInitiated {
            connection,
            initiating_device,
            info,
        } => {
            w.connection("initiatedConnection", connection);
            w.subject_device("initiatingDevice", initiating_device.as_ref());
            write_info(info, w);
        }
        EventKind::Originated {
            connection,
            calling_device,
            called_device,
            info,
        } => {
            w.connection("originatedConnection", connection);
            w.subject_device("callingDevice", calling_device.as_ref());
            w.subject_device("calledDevice", called_device.as_ref());
            write_info(info, w);
        }
        EventKind::Delivered {
            connection,
            alerting_device,
            calling_device,
            called_device,
            last_redirection_device,
            info,
        } => {
            w.connection("connection", connection);
            w.subject_device("alertingDevice", alerting_device.as_ref());
            w.subject_device("callingDevice", calling_device.as_ref());
            w.subject_device("calledDevice", called_device.as_ref());
            w.subject_device("lastRedirectionDevice", last_redirection_device.as_ref());
            write_info(info, w);
        }
        EventKind::Established {
            connection,
            answering_device,
            calling_device,
            called_device,
            last_redirection_device,
            info,
        } => {
            w.connection("establishedConnection", connection);
            w.subject_device("answeringDevice", answering_device.as_ref());
            w.subject_device("callingDevice", calling_device.as_ref());
            w.subject_device("calledDevice", called_device.as_ref());
            w.subject_device("lastRedirectionDevice", last_redirection_device.as_ref());
            write_info(info, w);
        }
        EventKind::ConnectionCleared {
            connection,
            releasing_device,
            info,
        } => {
            w.connection("droppedConnection", connection);
            w.subject_device("releasingDevice", releasing_device.as_ref());
            write_info(info, w);
        }
        EventKind::CallCleared { call, info } => {
            w.connection("clearedCall", call);
            write_info(info, w);
        }
        EventKind::Diverted {
            connection,
            diverting_device,
            new_destination,
            calling_device,
            called_device,
            info,
        } => {
            w.connection("connection", connection);
            w.subject_device("divertingDevice", diverting_device.as_ref());
            w.subject_device("newDestination", new_destination.as_ref());
            w.subject_device("callingDevice", calling_device.as_ref());
            w.subject_device("calledDevice", called_device.as_ref());
            write_info(info, w);
        }
        EventKind::Transferred {
            primary_old_call,
            secondary_old_call,
            transferring_device,
            transferred_to_device,
            connections,
            info,
        } => {
            w.connection("primaryOldCall", primary_old_call);
            w.opt_connection("secondaryOldCall", secondary_old_call.as_ref());
            w.subject_device("transferringDevice", transferring_device.as_ref());
            w.subject_device("transferredToDevice", transferred_to_device.as_ref());
            write_list("transferredConnections", connections, w);
            write_info(info, w);
        }
        EventKind::Conferenced {
            primary_old_call,
            secondary_old_call,
            conferencing_device,
            added_party,
            connections,
            info,
        } => {
            w.connection("primaryOldCall", primary_old_call);
            w.opt_connection("secondaryOldCall", secondary_old_call.as_ref());
            w.subject_device("conferencingDevice", conferencing_device.as_ref());
            w.subject_device("addedParty", added_party.as_ref());
            write_list("conferenceConnections", connections, w);
            write_info(info, w);
        }
        EventKind::Held {
            connection,
            holding_device,
            info,
        } => {
            w.connection("heldConnection", connection);
            w.subject_device("holdingDevice", holding_device.as_ref());
            write_info(info, w);
        }
        EventKind::Retrieved {
            connection,
            retrieving_device,
            info,
        } => {
            w.connection("retrievedConnection", connection);
            w.subject_device("retrievingDevice", retrieving_device.as_ref());
            write_info(info, w);
        }
        EventKind::Queued {
            connection,
            queue,
            calling_device,
            called_device,
            number_queued,
            info,
        } => {
            w.connection("queuedConnection", connection);
            w.subject_device("queue", queue.as_ref());
            w.subject_device("callingDevice", calling_device.as_ref());
            w.subject_device("calledDevice", called_device.as_ref());
            w.opt_display("numberQueued", *number_queued);
            write_info(info, w);
        }
        EventKind::Failed {
            connection,
            failing_device,
            calling_device,
            called_device,
            info,
        } => {
            w.connection("failedConnection", connection);
            w.subject_device("failingDevice", failing_device.as_ref());
            w.subject_device("callingDevice", calling_device.as_ref());
            w.subject_device("calledDevice", called_device.as_ref());
            write_info(info, w);
        }
        EventKind::Forwarding {
            device,
            forwarding_type,
            forward_status,
            forward_to,
        } => {
            w.subject_device("device", device.as_ref());
            w.opt_display("forwardingType", *forwarding_type);
            w.bool("forwardStatus", *forward_status);
            w.subject_device("forwardTo", forward_to.as_ref());
        }
        EventKind::DoNotDisturb {
            device,
            do_not_disturb_on,
        } => {
            w.subject_device("device", device.as_ref());
            w.bool("doNotDisturbOn", *do_not_disturb_on);
        }
        EventKind::MessageWaiting {
            target_device,
            device_for_message,
            message_waiting_on,
        } => {
            w.subject_device("targetDevice", target_device.as_ref());
            w.subject_device("deviceForMessage", device_for_message.as_ref());
            w.bool("messageWaitingOn", *message_waiting_on);
        }
        EventKind::Unknown { .. } => {}
    }
}
