//! Requests: element names, decoding and encoding.

use crate::model::{ListedDevice, Request};
use crate::xml::read::FieldResult;
use crate::xml::tree::Element;
use crate::xml::write::XmlWriter;

impl Request {
    /// The ECMA-323 root element name.
    pub fn name(&self) -> &'static str {
        match self {
            Request::StartApplicationSession { .. } => "StartApplicationSession",
            Request::StopApplicationSession { .. } => "StopApplicationSession",
            Request::ResetApplicationSessionTimer { .. } => "ResetApplicationSessionTimer",
            Request::SystemStatus { .. } => "SystemStatus",
            Request::SystemRegister => "SystemRegister",
            Request::MonitorStart { .. } => "MonitorStart",
            Request::MonitorStop { .. } => "MonitorStop",
            Request::SnapshotDevice { .. } => "SnapshotDevice",
            Request::MakeCall { .. } => "MakeCall",
            Request::AnswerCall { .. } => "AnswerCall",
            Request::ClearConnection { .. } => "ClearConnection",
            Request::ClearCall { .. } => "ClearCall",
            Request::HoldCall { .. } => "HoldCall",
            Request::RetrieveCall { .. } => "RetrieveCall",
            Request::ConsultationCall { .. } => "ConsultationCall",
            Request::TransferCall { .. } => "TransferCall",
            Request::ConferenceCall { .. } => "ConferenceCall",
            Request::DeflectCall { .. } => "DeflectCall",
            Request::SingleStepTransferCall { .. } => "SingleStepTransferCall",
            Request::GroupPickupCall { .. } => "GroupPickupCall",
            Request::DirectedPickupCall { .. } => "DirectedPickupCall",
            Request::SetForwarding { .. } => "SetForwarding",
            Request::GetForwarding { .. } => "GetForwarding",
            Request::SetDoNotDisturb { .. } => "SetDoNotDisturb",
            Request::GetDoNotDisturb { .. } => "GetDoNotDisturb",
            Request::GenerateDigits { .. } => "GenerateDigits",
            Request::GetSwitchingFunctionDevices { .. } => "GetSwitchingFunctionDevices",
            Request::SwitchingFunctionDevices { .. } => "SwitchingFunctionDevices",
        }
    }

    /// `None` when `name` is not a request.
    pub(crate) fn read(name: &str, el: &Element) -> Option<FieldResult<Request>> {
        Some(match name {
            "StartApplicationSession" => read_start_session(el),
            "StopApplicationSession" => el
                .req_text("sessionID")
                .map(|session_id| Request::StopApplicationSession { session_id }),
            "ResetApplicationSessionTimer" => (|| {
                Ok(Request::ResetApplicationSessionTimer {
                    session_id: el.req_text("sessionID")?,
                    requested_session_duration: el
                        .opt_parse("requestedSessionDuration", "seconds")?,
                })
            })(),
            "SystemStatus" => el
                .opt_token("systemStatus")
                .map(|status| Request::SystemStatus { status }),
            "SystemRegister" => Ok(Request::SystemRegister),
            "MonitorStart" => (|| {
                let object = el.req("monitorObject")?;
                Ok(Request::MonitorStart {
                    monitor_object: object.req_device("deviceObject")?,
                    monitor_type: el.opt_token("monitorType")?,
                })
            })(),
            "MonitorStop" => el
                .req_text("monitorCrossRefID")
                .map(|cross_ref_id| Request::MonitorStop { cross_ref_id }),
            "SnapshotDevice" => el
                .req_device("snapshotObject")
                .map(|snapshot_object| Request::SnapshotDevice { snapshot_object }),
            "MakeCall" => (|| {
                Ok(Request::MakeCall {
                    calling_device: el.req_device("callingDevice")?,
                    called_directory_number: el.req_device("calledDirectoryNumber")?,
                    auto_originate: el.opt_token("autoOriginate")?,
                })
            })(),
            "AnswerCall" => el
                .req_connection("callToBeAnswered")
                .map(|call_to_be_answered| Request::AnswerCall {
                    call_to_be_answered,
                }),
            "ClearConnection" => {
                el.req_connection("connectionToBeCleared")
                    .map(|connection_to_be_cleared| Request::ClearConnection {
                        connection_to_be_cleared,
                    })
            }
            "ClearCall" => el
                .req_connection("callToBeCleared")
                .map(|call_to_be_cleared| Request::ClearCall { call_to_be_cleared }),
            "HoldCall" => el
                .req_connection("callToBeHeld")
                .map(|call_to_be_held| Request::HoldCall { call_to_be_held }),
            "RetrieveCall" => el
                .req_connection("callToBeRetrieved")
                .map(|call_to_be_retrieved| Request::RetrieveCall {
                    call_to_be_retrieved,
                }),
            "ConsultationCall" => (|| {
                Ok(Request::ConsultationCall {
                    existing_call: el.req_connection("existingCall")?,
                    consulted_device: el.req_device("consultedDevice")?,
                })
            })(),
            "TransferCall" => (|| {
                Ok(Request::TransferCall {
                    held_call: el.req_connection("heldCall")?,
                    active_call: el.req_connection("activeCall")?,
                })
            })(),
            "ConferenceCall" => (|| {
                Ok(Request::ConferenceCall {
                    held_call: el.req_connection("heldCall")?,
                    active_call: el.req_connection("activeCall")?,
                })
            })(),
            "DeflectCall" => (|| {
                Ok(Request::DeflectCall {
                    call_to_be_diverted: el.req_connection("callToBeDiverted")?,
                    new_destination: el.req_device("newDestination")?,
                })
            })(),
            "SingleStepTransferCall" => (|| {
                Ok(Request::SingleStepTransferCall {
                    active_call: el.req_connection("activeCall")?,
                    transferred_to: el.req_device("transferredTo")?,
                })
            })(),
            "GroupPickupCall" => (|| {
                Ok(Request::GroupPickupCall {
                    new_destination: el.req_device("newDestination")?,
                    pickup_device: el.opt_device("pickupDevice")?,
                })
            })(),
            "DirectedPickupCall" => (|| {
                Ok(Request::DirectedPickupCall {
                    call_to_be_picked_up: el.req_connection("callToBePickedUp")?,
                    requesting_device: el.req_device("requestingDevice")?,
                })
            })(),
            "SetForwarding" => (|| {
                Ok(Request::SetForwarding {
                    device: el.req_device("device")?,
                    forwarding_type: el.req_token("forwardingType")?,
                    activate_forward: el.req_bool("activateForward")?,
                    forward_dn: el.opt_device("forwardDN")?,
                    ring_count: el.opt_parse("ringCount", "a number of rings")?,
                })
            })(),
            "GetForwarding" => el
                .req_device("device")
                .map(|device| Request::GetForwarding { device }),
            "SetDoNotDisturb" => (|| {
                Ok(Request::SetDoNotDisturb {
                    device: el.req_device("device")?,
                    do_not_disturb_on: el.req_bool("doNotDisturbOn")?,
                })
            })(),
            "GetDoNotDisturb" => el
                .req_device("device")
                .map(|device| Request::GetDoNotDisturb { device }),
            "GenerateDigits" => (|| {
                Ok(Request::GenerateDigits {
                    connection_to_send_digits: el.req_connection("connectionToSendDigits")?,
                    chars_to_send: el.req_text("charactersToSend")?,
                })
            })(),
            "GetSwitchingFunctionDevices" => (|| {
                Ok(Request::GetSwitchingFunctionDevices {
                    requested_device_id: el.opt_device("requestedDeviceID")?,
                    requested_device_category: el.opt_token("requestedDeviceCategory")?,
                })
            })(),
            "SwitchingFunctionDevices" => read_device_list(el),
            _ => return None,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        match self {
            Request::StartApplicationSession {
                application_id,
                requested_protocol_versions,
                requested_session_duration,
            } => {
                w.open("applicationInfo");
                w.leaf("applicationID", application_id);
                w.close("applicationInfo");
                w.open("requestedProtocolVersions");
                for v in requested_protocol_versions {
                    w.leaf("protocolVersion", v);
                }
                w.close("requestedProtocolVersions");
                w.opt_display("requestedSessionDuration", *requested_session_duration);
            }
            Request::StopApplicationSession { session_id } => w.leaf("sessionID", session_id),
            Request::ResetApplicationSessionTimer {
                session_id,
                requested_session_duration,
            } => {
                w.leaf("sessionID", session_id);
                w.opt_display("requestedSessionDuration", *requested_session_duration);
            }
            Request::SystemStatus { status } => w.opt_display("systemStatus", *status),
            Request::SystemRegister => {}
            Request::MonitorStart {
                monitor_object,
                monitor_type,
            } => {
                w.open("monitorObject");
                w.device("deviceObject", monitor_object);
                w.close("monitorObject");
                w.opt_display("monitorType", *monitor_type);
            }
            Request::MonitorStop { cross_ref_id } => w.leaf("monitorCrossRefID", cross_ref_id),
            Request::SnapshotDevice { snapshot_object } => {
                w.device("snapshotObject", snapshot_object)
            }
            Request::MakeCall {
                calling_device,
                called_directory_number,
                auto_originate,
            } => {
                w.device("callingDevice", calling_device);
                w.device("calledDirectoryNumber", called_directory_number);
                w.opt_display("autoOriginate", *auto_originate);
            }
            Request::AnswerCall {
                call_to_be_answered,
            } => w.connection("callToBeAnswered", call_to_be_answered),
            Request::ClearConnection {
                connection_to_be_cleared,
            } => w.connection("connectionToBeCleared", connection_to_be_cleared),
            Request::ClearCall { call_to_be_cleared } => {
                w.connection("callToBeCleared", call_to_be_cleared)
            }
            Request::HoldCall { call_to_be_held } => w.connection("callToBeHeld", call_to_be_held),
            Request::RetrieveCall {
                call_to_be_retrieved,
            } => w.connection("callToBeRetrieved", call_to_be_retrieved),
            Request::ConsultationCall {
                existing_call,
                consulted_device,
            } => {
                w.connection("existingCall", existing_call);
                w.device("consultedDevice", consulted_device);
            }
            Request::TransferCall {
                held_call,
                active_call,
            }
            | Request::ConferenceCall {
                held_call,
                active_call,
            } => {
                w.connection("heldCall", held_call);
                w.connection("activeCall", active_call);
            }
            Request::DeflectCall {
                call_to_be_diverted,
                new_destination,
            } => {
                w.connection("callToBeDiverted", call_to_be_diverted);
                w.device("newDestination", new_destination);
            }
            Request::SingleStepTransferCall {
                active_call,
                transferred_to,
            } => {
                w.connection("activeCall", active_call);
                w.device("transferredTo", transferred_to);
            }
            Request::GroupPickupCall {
                new_destination,
                pickup_device,
            } => {
                w.device("newDestination", new_destination);
                w.opt_device("pickupDevice", pickup_device.as_ref());
            }
            Request::DirectedPickupCall {
                call_to_be_picked_up,
                requesting_device,
            } => {
                w.connection("callToBePickedUp", call_to_be_picked_up);
                w.device("requestingDevice", requesting_device);
            }
            Request::SetForwarding {
                device,
                forwarding_type,
                activate_forward,
                forward_dn,
                ring_count,
            } => {
                w.device("device", device);
                w.display("forwardingType", forwarding_type);
                w.bool("activateForward", *activate_forward);
                w.opt_device("forwardDN", forward_dn.as_ref());
                w.opt_display("ringCount", *ring_count);
            }
            Request::GetForwarding { device } | Request::GetDoNotDisturb { device } => {
                w.device("device", device)
            }
            Request::SetDoNotDisturb {
                device,
                do_not_disturb_on,
            } => {
                w.device("device", device);
                w.bool("doNotDisturbOn", *do_not_disturb_on);
            }
            Request::GenerateDigits {
                connection_to_send_digits,
                chars_to_send,
            } => {
                w.connection("connectionToSendDigits", connection_to_send_digits);
                w.leaf("charactersToSend", chars_to_send);
            }
            Request::GetSwitchingFunctionDevices {
                requested_device_id,
                requested_device_category,
            } => {
                w.opt_device("requestedDeviceID", requested_device_id.as_ref());
                w.opt_display("requestedDeviceCategory", *requested_device_category);
            }
            Request::SwitchingFunctionDevices {
                service_cross_ref_id,
                segment_id,
                last_segment,
                device_list,
            } => {
                w.leaf("serviceCrossRefID", service_cross_ref_id);
                w.opt_display("segmentID", *segment_id);
                w.bool("lastSegment", *last_segment);
                w.open("deviceList");
                for d in device_list {
                    w.open(DEVICE_ENTRY);
                    w.device("deviceID", &d.device_id);
                    w.opt_display("deviceCategory", d.device_category);
                    w.opt_leaf("deviceModelName", d.device_model_name.as_deref());
                    w.close(DEVICE_ENTRY);
                }
                w.close("deviceList");
            }
        }
    }
}

/// The element of one `deviceList` entry. ECMA-269's ASN.1 makes the list
/// a `SEQUENCE OF SEQUENCE` whose item has no name of its own; the
/// ECMA-323 schema text was not available to check the XML item name, so
/// TWP writes `deviceEntry` and reads any child of `deviceList` as an
/// entry (its device from `deviceID` or `device`).
const DEVICE_ENTRY: &str = "deviceEntry";

fn read_device_list(el: &Element) -> FieldResult<Request> {
    let list = el.req("deviceList")?;
    let mut device_list = Vec::with_capacity(list.children.len());
    for entry in &list.children {
        let device_id = entry
            .opt_device("deviceID")?
            .or(entry.opt_device("device")?)
            .ok_or(crate::xml::error::FieldError::Missing("deviceID"))?;
        device_list.push(ListedDevice {
            device_id,
            device_category: entry.opt_token("deviceCategory")?,
            device_model_name: entry.opt_text("deviceModelName").filter(|m| !m.is_empty()),
        });
    }
    Ok(Request::SwitchingFunctionDevices {
        service_cross_ref_id: el.req_text("serviceCrossRefID")?,
        segment_id: el.opt_parse("segmentID", "a segment number")?,
        last_segment: el.req_bool("lastSegment")?,
        device_list,
    })
}

fn read_start_session(el: &Element) -> FieldResult<Request> {
    let info = el.req("applicationInfo")?;
    let versions = el
        .child("requestedProtocolVersions")
        .map(|v| {
            v.children_named("protocolVersion")
                .map(|p| p.text().to_owned())
                .collect()
        })
        .unwrap_or_default();
    Ok(Request::StartApplicationSession {
        application_id: info.req_text("applicationID")?,
        requested_protocol_versions: versions,
        requested_session_duration: el.opt_parse("requestedSessionDuration", "seconds")?,
    })
}
