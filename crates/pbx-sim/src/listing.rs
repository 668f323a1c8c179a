//! ECMA-269 Get Switching Function Devices: the PBX's own device list
//! (the guide's "A5000 INT" subscriber list). The positive response
//! carries a service cross reference; the list follows in
//! `SwitchingFunctionDevices` messages of `devices_per_segment` devices,
//! the last one flagged `lastSegment`. ECMA-269 has no subscriber name:
//! entries carry the number and the device category only.

use twp_csta::{
    CstaError, DeviceCategory, DeviceId, ErrorCategory, Frame, InvokeId, ListedDevice, Message,
    Request, Response, encode,
};

use crate::config::SimConfig;
use crate::core::World;
use crate::pbx::{DeviceKind, Pbx};

/// The frames answering one `GetSwitchingFunctionDevices`, in order: the
/// response (or a refusal when the simulator is configured not to offer
/// the service), then every segment.
pub(crate) fn answer(
    w: &mut World,
    config: &SimConfig,
    invoke_id: InvokeId,
    requested_device: Option<&DeviceId>,
    requested_category: Option<DeviceCategory>,
) -> Vec<Frame> {
    let frame = |id: InvokeId, msg: Message| Frame::new(id, encode(&msg).into_bytes());
    if !config.device_list {
        // what a switch without the service answers
        let refusal = CstaError::new(ErrorCategory::Operation, "requestIncompatibleWithObject");
        return vec![frame(invoke_id, Message::Error(refusal))];
    }
    let devices = listed(
        &w.pbx,
        requested_device.map(DeviceId::number),
        requested_category,
    );
    w.next_xref += 1;
    let cross_ref = format!("sfd{}", w.next_xref);
    let per_segment = config.devices_per_segment.max(1);
    let mut frames = vec![frame(
        invoke_id,
        Message::Response(Response::GetSwitchingFunctionDevices {
            service_cross_ref_id: cross_ref.clone(),
        }),
    )];
    let segments: Vec<&[ListedDevice]> = if devices.is_empty() {
        vec![&devices[..]]
    } else {
        devices.chunks(per_segment).collect()
    };
    let count = segments.len();
    for (i, chunk) in segments.into_iter().enumerate() {
        let segment = Request::SwitchingFunctionDevices {
            service_cross_ref_id: cross_ref.clone(),
            segment_id: u32::try_from(i + 1).ok(),
            last_segment: i + 1 == count,
            device_list: chunk.to_vec(),
        };
        // a request of the switch's own, sent like its events
        frames.push(frame(InvokeId::EVENT, Message::Request(segment)));
    }
    w.log(format!(
        "device list {cross_ref}: {} devices in {count} segments",
        devices.len()
    ));
    frames
}

/// The PBX's devices (outside numbers excepted), sorted by number.
fn listed(pbx: &Pbx, number: Option<&str>, category: Option<DeviceCategory>) -> Vec<ListedDevice> {
    let mut out: Vec<ListedDevice> = pbx
        .devices()
        .filter_map(|d| {
            let c = match d.kind {
                DeviceKind::Extension { .. } => DeviceCategory::Station,
                DeviceKind::HuntGroup { .. } => DeviceCategory::Group,
                DeviceKind::Voicemail => DeviceCategory::VoiceUnit,
                DeviceKind::External => return None,
            };
            let wanted =
                number.is_none_or(|n| n == d.number) && category.is_none_or(|want| want == c);
            wanted.then(|| ListedDevice {
                device_id: DeviceId::new(d.number.clone()),
                device_category: Some(c),
                device_model_name: None,
            })
        })
        .collect();
    out.sort_by(|a, b| a.device_id.number().cmp(b.device_id.number()));
    out
}
