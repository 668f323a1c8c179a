//! Positive responses: element names, decoding and encoding.

use crate::model::{ForwardingEntry, Response, SnapshotCall};
use crate::xml::read::FieldResult;
use crate::xml::tree::Element;
use crate::xml::write::XmlWriter;

impl Response {
    /// The ECMA-323 root element name.
    pub fn name(&self) -> &'static str {
        match self {
            Response::StartApplicationSessionPos { .. } => "StartApplicationSessionPosResponse",
            Response::StartApplicationSessionNeg { .. } => "StartApplicationSessionNegResponse",
            Response::StopApplicationSessionPos => "StopApplicationSessionPosResponse",
            Response::ResetApplicationSessionTimerPos { .. } => {
                "ResetApplicationSessionTimerPosResponse"
            }
            Response::SystemStatus => "SystemStatusResponse",
            Response::SystemRegister { .. } => "SystemRegisterResponse",
            Response::MonitorStart { .. } => "MonitorStartResponse",
            Response::MonitorStop => "MonitorStopResponse",
            Response::SnapshotDevice { .. } => "SnapshotDeviceResponse",
            Response::MakeCall { .. } => "MakeCallResponse",
            Response::AnswerCall => "AnswerCallResponse",
            Response::ClearConnection => "ClearConnectionResponse",
            Response::ClearCall => "ClearCallResponse",
            Response::HoldCall => "HoldCallResponse",
            Response::RetrieveCall => "RetrieveCallResponse",
            Response::ConsultationCall { .. } => "ConsultationCallResponse",
            Response::TransferCall { .. } => "TransferCallResponse",
            Response::ConferenceCall { .. } => "ConferenceCallResponse",
            Response::DeflectCall => "DeflectCallResponse",
            Response::SingleStepTransferCall { .. } => "SingleStepTransferCallResponse",
            Response::GroupPickupCall { .. } => "GroupPickupCallResponse",
            Response::DirectedPickupCall { .. } => "DirectedPickupCallResponse",
            Response::SetForwarding => "SetForwardingResponse",
            Response::GetForwarding { .. } => "GetForwardingResponse",
            Response::SetDoNotDisturb => "SetDoNotDisturbResponse",
            Response::GetDoNotDisturb { .. } => "GetDoNotDisturbResponse",
            Response::GenerateDigits => "GenerateDigitsResponse",
            Response::GetSwitchingFunctionDevices { .. } => "GetSwitchingFunctionDevicesResponse",
        }
    }

    pub(crate) fn read(name: &str, el: &Element) -> Option<FieldResult<Response>> {
        Some(match name {
            "StartApplicationSessionPosResponse" => (|| {
                Ok(Response::StartApplicationSessionPos {
                    session_id: el.req_text("sessionID")?,
                    actual_protocol_version: el.opt_text("actualProtocolVersion"),
                    actual_session_duration: el.opt_parse("actualSessionDuration", "seconds")?,
                })
            })(),
            "StartApplicationSessionNegResponse" => {
                let error = el
                    .child("errorCode")
                    .map(|c| {
                        c.children
                            .first()
                            .map(|d| d.text().to_owned())
                            .unwrap_or_else(|| c.text().to_owned())
                    })
                    .unwrap_or_default();
                Ok(Response::StartApplicationSessionNeg { error })
            }
            "StopApplicationSessionPosResponse" => Ok(Response::StopApplicationSessionPos),
            "ResetApplicationSessionTimerPosResponse" => el
                .opt_parse("actualSessionDuration", "seconds")
                .map(
                    |actual_session_duration| Response::ResetApplicationSessionTimerPos {
                        actual_session_duration,
                    },
                ),
            "SystemStatusResponse" => Ok(Response::SystemStatus),
            "SystemRegisterResponse" => {
                el.req_text("sysStatRegisterID")
                    .map(|sys_stat_register_id| Response::SystemRegister {
                        sys_stat_register_id,
                    })
            }
            "MonitorStartResponse" => el
                .req_text("monitorCrossRefID")
                .map(|cross_ref_id| Response::MonitorStart { cross_ref_id }),
            "MonitorStopResponse" => Ok(Response::MonitorStop),
            "SnapshotDeviceResponse" => read_snapshot(el),
            "MakeCallResponse" => el
                .req_connection("callingDevice")
                .map(|calling_device| Response::MakeCall { calling_device }),
            "AnswerCallResponse" => Ok(Response::AnswerCall),
            "ClearConnectionResponse" => Ok(Response::ClearConnection),
            "ClearCallResponse" => Ok(Response::ClearCall),
            "HoldCallResponse" => Ok(Response::HoldCall),
            "RetrieveCallResponse" => Ok(Response::RetrieveCall),
            "ConsultationCallResponse" => el
                .req_connection("initiatedCall")
                .map(|initiated_call| Response::ConsultationCall { initiated_call }),
            "TransferCallResponse" => el
                .opt_connection("transferredCall")
                .map(|transferred_call| Response::TransferCall { transferred_call }),
            "ConferenceCallResponse" => el
                .req_connection("conferenceCall")
                .map(|conference_call| Response::ConferenceCall { conference_call }),
            "DeflectCallResponse" => Ok(Response::DeflectCall),
            "SingleStepTransferCallResponse" => el
                .opt_connection("transferredCall")
                .map(|transferred_call| Response::SingleStepTransferCall { transferred_call }),
            "GroupPickupCallResponse" => el
                .opt_connection("pickedCall")
                .map(|picked_call| Response::GroupPickupCall { picked_call }),
            "DirectedPickupCallResponse" => el
                .opt_connection("pickedCall")
                .map(|picked_call| Response::DirectedPickupCall { picked_call }),
            "SetForwardingResponse" => Ok(Response::SetForwarding),
            "GetForwardingResponse" => read_forwarding(el),
            "SetDoNotDisturbResponse" => Ok(Response::SetDoNotDisturb),
            "GetDoNotDisturbResponse" => el
                .req_bool("doNotDisturbOn")
                .map(|do_not_disturb_on| Response::GetDoNotDisturb { do_not_disturb_on }),
            "GenerateDigitsResponse" => Ok(Response::GenerateDigits),
            "GetSwitchingFunctionDevicesResponse" => {
                el.req_text("serviceCrossRefID")
                    .map(
                        |service_cross_ref_id| Response::GetSwitchingFunctionDevices {
                            service_cross_ref_id,
                        },
                    )
            }
            _ => return None,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        match self {
            Response::StartApplicationSessionPos {
                session_id,
                actual_protocol_version,
                actual_session_duration,
            } => {
                w.leaf("sessionID", session_id);
                w.opt_leaf("actualProtocolVersion", actual_protocol_version.as_deref());
                w.opt_display("actualSessionDuration", *actual_session_duration);
            }
            Response::StartApplicationSessionNeg { error } => {
                w.open("errorCode");
                w.leaf("definedError", error);
                w.close("errorCode");
            }
            Response::ResetApplicationSessionTimerPos {
                actual_session_duration,
            } => w.opt_display("actualSessionDuration", *actual_session_duration),
            Response::SystemRegister {
                sys_stat_register_id,
            } => w.leaf("sysStatRegisterID", sys_stat_register_id),
            Response::MonitorStart { cross_ref_id } => w.leaf("monitorCrossRefID", cross_ref_id),
            Response::SnapshotDevice { calls } => {
                w.open("crossRefIDorSnapshotData");
                w.open("snapshotData");
                for call in calls {
                    w.open("snapshotDeviceResponseInfo");
                    w.connection("connectionIdentifier", &call.connection);
                    if let Some(state) = call.state {
                        w.open("localCallState");
                        w.open("compoundCallState");
                        w.display("localConnectionState", state);
                        w.close("compoundCallState");
                        w.close("localCallState");
                    }
                    w.close("snapshotDeviceResponseInfo");
                }
                w.close("snapshotData");
                w.close("crossRefIDorSnapshotData");
            }
            Response::MakeCall { calling_device } => w.connection("callingDevice", calling_device),
            Response::ConsultationCall { initiated_call } => {
                w.connection("initiatedCall", initiated_call)
            }
            Response::TransferCall { transferred_call }
            | Response::SingleStepTransferCall { transferred_call } => {
                w.opt_connection("transferredCall", transferred_call.as_ref())
            }
            Response::ConferenceCall { conference_call } => {
                w.connection("conferenceCall", conference_call)
            }
            Response::GroupPickupCall { picked_call }
            | Response::DirectedPickupCall { picked_call } => {
                w.opt_connection("pickedCall", picked_call.as_ref())
            }
            Response::GetForwarding { forwarding } => {
                w.open("forwardingList");
                for f in forwarding {
                    w.open("forwardListItem");
                    w.display("forwardingType", f.forwarding_type);
                    w.bool("forwardStatus", f.forward_status);
                    w.opt_device("forwardDN", f.forward_dn.as_ref());
                    w.close("forwardListItem");
                }
                w.close("forwardingList");
            }
            Response::GetDoNotDisturb { do_not_disturb_on } => {
                w.bool("doNotDisturbOn", *do_not_disturb_on)
            }
            Response::GetSwitchingFunctionDevices {
                service_cross_ref_id,
            } => w.leaf("serviceCrossRefID", service_cross_ref_id),
            Response::StopApplicationSessionPos
            | Response::SystemStatus
            | Response::MonitorStop
            | Response::AnswerCall
            | Response::ClearConnection
            | Response::ClearCall
            | Response::HoldCall
            | Response::RetrieveCall
            | Response::DeflectCall
            | Response::SetForwarding
            | Response::SetDoNotDisturb
            | Response::GenerateDigits => {}
        }
    }
}

fn read_snapshot(el: &Element) -> FieldResult<Response> {
    let mut infos = Vec::new();
    el.descendants("snapshotDeviceResponseInfo", &mut infos);
    let mut calls = Vec::with_capacity(infos.len());
    for info in infos {
        let state = info
            .descendant("localConnectionState")
            .map(|s| s.as_token("localConnectionState"))
            .transpose()?;
        calls.push(SnapshotCall {
            connection: info.req_connection("connectionIdentifier")?,
            state,
        });
    }
    Ok(Response::SnapshotDevice { calls })
}

fn read_forwarding(el: &Element) -> FieldResult<Response> {
    let mut items = Vec::new();
    el.descendants("forwardListItem", &mut items);
    let mut forwarding = Vec::with_capacity(items.len());
    for item in items {
        forwarding.push(ForwardingEntry {
            forwarding_type: item.req_token("forwardingType")?,
            forward_status: item.req_bool("forwardStatus")?,
            forward_dn: item.opt_device("forwardDN")?,
        });
    }
    Ok(Response::GetForwarding { forwarding })
}
