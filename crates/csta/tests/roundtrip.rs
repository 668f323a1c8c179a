//! Property tests: encode → decode round-trips for frames and every message
//! type; arbitrary bytes never panic.

#![allow(clippy::unwrap_used)]

use bytes::{BufMut, BytesMut};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use twp_csta::*;

fn text() -> impl Strategy<Value = String> {
    // No leading/trailing whitespace (the decoder trims), XML specials in.
    "[A-Za-z0-9_<>&'\".:+-][A-Za-z0-9_<>&'\".:+ -]{0,10}[A-Za-z0-9_<>&'\".:+-]|[A-Za-z0-9]"
}

fn token() -> impl Strategy<Value = String> {
    "[a-z][A-Za-z]{0,15}"
}

fn number() -> impl Strategy<Value = String> {
    "\\+?[0-9]{1,14}"
}

fn device() -> impl Strategy<Value = DeviceId> {
    prop_oneof![
        number().prop_map(DeviceId::new),
        number().prop_map(|n| DeviceId::from_wire(&format!("N<{n}>;noa=nk"))),
        (number(), "[A-Za-z0-9]{1,8}")
            .prop_map(|(n, l)| DeviceId::from_wire(&format!("N<{n}>{l};displayNumber={n}"))),
    ]
}

fn call_id() -> impl Strategy<Value = String> {
    "[0-9A-F]{1,32}"
}

fn connection() -> impl Strategy<Value = ConnectionId> {
    (option::of(call_id()), option::of(device()))
        .prop_map(|(call_id, device_id)| ConnectionId { call_id, device_id })
}

fn opt_device() -> impl Strategy<Value = Option<DeviceId>> {
    option::of(device())
}

fn tok<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    select(all)
}

fn info() -> impl Strategy<Value = CallEventInfo> {
    (
        option::of(tok(LocalConnectionState::ALL)),
        option::of(token()),
    )
        .prop_map(|(state, cause)| CallEventInfo { state, cause })
}

fn list_item() -> impl Strategy<Value = ConnectionListItem> {
    (
        option::of(connection()),
        option::of(connection()),
        opt_device(),
    )
        .prop_map(
            |(new_connection, old_connection, endpoint)| ConnectionListItem {
                new_connection,
                old_connection,
                endpoint,
            },
        )
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        (text(), vec(text(), 0..3), option::of(any::<u32>())).prop_map(|(a, v, d)| {
            Request::StartApplicationSession {
                application_id: a,
                requested_protocol_versions: v,
                requested_session_duration: d,
            }
        }),
        text().prop_map(|session_id| Request::StopApplicationSession { session_id }),
        (text(), option::of(any::<u32>())).prop_map(|(session_id, d)| {
            Request::ResetApplicationSessionTimer {
                session_id,
                requested_session_duration: d,
            }
        }),
        option::of(tok(SystemStatusValue::ALL)).prop_map(|status| Request::SystemStatus { status }),
        Just(Request::SystemRegister),
        (device(), option::of(tok(MonitorType::ALL))).prop_map(|(d, t)| Request::MonitorStart {
            monitor_object: d,
            monitor_type: t
        }),
        text().prop_map(|cross_ref_id| Request::MonitorStop { cross_ref_id }),
        device().prop_map(|snapshot_object| Request::SnapshotDevice { snapshot_object }),
        (device(), device(), option::of(tok(AutoOriginate::ALL))).prop_map(|(a, b, o)| {
            Request::MakeCall {
                calling_device: a,
                called_directory_number: b,
                auto_originate: o,
            }
        }),
        connection().prop_map(|c| Request::AnswerCall {
            call_to_be_answered: c
        }),
        connection().prop_map(|c| Request::ClearConnection {
            connection_to_be_cleared: c
        }),
        connection().prop_map(|c| Request::ClearCall {
            call_to_be_cleared: c
        }),
        connection().prop_map(|c| Request::HoldCall { call_to_be_held: c }),
        connection().prop_map(|c| Request::RetrieveCall {
            call_to_be_retrieved: c
        }),
        (connection(), device()).prop_map(|(c, d)| Request::ConsultationCall {
            existing_call: c,
            consulted_device: d
        }),
        (connection(), connection()).prop_map(|(h, a)| Request::TransferCall {
            held_call: h,
            active_call: a
        }),
        (connection(), connection()).prop_map(|(h, a)| Request::ConferenceCall {
            held_call: h,
            active_call: a
        }),
        (connection(), device()).prop_map(|(c, d)| Request::DeflectCall {
            call_to_be_diverted: c,
            new_destination: d
        }),
        (connection(), device()).prop_map(|(c, d)| Request::SingleStepTransferCall {
            active_call: c,
            transferred_to: d
        }),
        (device(), opt_device()).prop_map(|(d, p)| Request::GroupPickupCall {
            new_destination: d,
            pickup_device: p
        }),
        (connection(), device()).prop_map(|(c, d)| Request::DirectedPickupCall {
            call_to_be_picked_up: c,
            requesting_device: d
        }),
        (
            device(),
            tok(ForwardingType::ALL),
            any::<bool>(),
            opt_device(),
            option::of(any::<u32>())
        )
            .prop_map(|(device, t, on, dn, rc)| Request::SetForwarding {
                device,
                forwarding_type: t,
                activate_forward: on,
                forward_dn: dn,
                ring_count: rc,
            }),
        device().prop_map(|device| Request::GetForwarding { device }),
        (device(), any::<bool>()).prop_map(|(device, on)| Request::SetDoNotDisturb {
            device,
            do_not_disturb_on: on
        }),
        device().prop_map(|device| Request::GetDoNotDisturb { device }),
        (connection(), "[0-9*#]{1,20}").prop_map(|(c, d)| Request::GenerateDigits {
            connection_to_send_digits: c,
            chars_to_send: d
        }),
        (opt_device(), option::of(tok(DeviceCategory::ALL))).prop_map(|(d, c)| {
            Request::GetSwitchingFunctionDevices {
                requested_device_id: d,
                requested_device_category: c,
            }
        }),
        (
            text(),
            option::of(any::<u32>()),
            any::<bool>(),
            vec(listed_device(), 0..5)
        )
            .prop_map(|(x, s, last, list)| Request::SwitchingFunctionDevices {
                service_cross_ref_id: x,
                segment_id: s,
                last_segment: last,
                device_list: list,
            }),
    ]
}

fn listed_device() -> impl Strategy<Value = ListedDevice> {
    (
        device(),
        option::of(tok(DeviceCategory::ALL)),
        option::of(text()),
    )
        .prop_map(
            |(device_id, device_category, device_model_name)| ListedDevice {
                device_id,
                device_category,
                device_model_name,
            },
        )
}

fn response() -> impl Strategy<Value = Response> {
    let snapshot = vec(
        (connection(), option::of(tok(LocalConnectionState::ALL)))
            .prop_map(|(connection, state)| SnapshotCall { connection, state }),
        0..4,
    );
    let forwarding = vec(
        (tok(ForwardingType::ALL), any::<bool>(), opt_device()).prop_map(|(t, s, dn)| {
            ForwardingEntry {
                forwarding_type: t,
                forward_status: s,
                forward_dn: dn,
            }
        }),
        0..4,
    );
    prop_oneof![
        (text(), option::of(text()), option::of(any::<u32>())).prop_map(|(s, v, d)| {
            Response::StartApplicationSessionPos {
                session_id: s,
                actual_protocol_version: v,
                actual_session_duration: d,
            }
        }),
        text().prop_map(|error| Response::StartApplicationSessionNeg { error }),
        Just(Response::StopApplicationSessionPos),
        option::of(any::<u32>()).prop_map(|d| Response::ResetApplicationSessionTimerPos {
            actual_session_duration: d
        }),
        Just(Response::SystemStatus),
        text().prop_map(|id| Response::SystemRegister {
            sys_stat_register_id: id
        }),
        text().prop_map(|cross_ref_id| Response::MonitorStart { cross_ref_id }),
        Just(Response::MonitorStop),
        snapshot.prop_map(|calls| Response::SnapshotDevice { calls }),
        connection().prop_map(|c| Response::MakeCall { calling_device: c }),
        Just(Response::AnswerCall),
        Just(Response::ClearConnection),
        Just(Response::ClearCall),
        Just(Response::HoldCall),
        Just(Response::RetrieveCall),
        connection().prop_map(|c| Response::ConsultationCall { initiated_call: c }),
        option::of(connection()).prop_map(|c| Response::TransferCall {
            transferred_call: c
        }),
        connection().prop_map(|c| Response::ConferenceCall { conference_call: c }),
        Just(Response::DeflectCall),
        option::of(connection()).prop_map(|c| Response::SingleStepTransferCall {
            transferred_call: c
        }),
        option::of(connection()).prop_map(|c| Response::GroupPickupCall { picked_call: c }),
        option::of(connection()).prop_map(|c| Response::DirectedPickupCall { picked_call: c }),
        Just(Response::SetForwarding),
        forwarding.prop_map(|forwarding| Response::GetForwarding { forwarding }),
        Just(Response::SetDoNotDisturb),
        any::<bool>().prop_map(|on| Response::GetDoNotDisturb {
            do_not_disturb_on: on
        }),
        Just(Response::GenerateDigits),
        text().prop_map(|x| Response::GetSwitchingFunctionDevices {
            service_cross_ref_id: x
        }),
    ]
}

fn event_kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        (connection(), opt_device(), info()).prop_map(|(connection, d, info)| {
            EventKind::ServiceInitiated {
                connection,
                initiating_device: d,
                info,
            }
        }),
        (connection(), opt_device(), opt_device(), info()).prop_map(|(connection, a, b, info)| {
            EventKind::Originated {
                connection,
                calling_device: a,
                called_device: b,
                info,
            }
        }),
        (
            connection(),
            opt_device(),
            opt_device(),
            opt_device(),
            opt_device(),
            info()
        )
            .prop_map(|(connection, a, b, c, r, info)| EventKind::Delivered {
                connection,
                alerting_device: a,
                calling_device: b,
                called_device: c,
                last_redirection_device: r,
                info,
            }),
        (
            connection(),
            opt_device(),
            opt_device(),
            opt_device(),
            opt_device(),
            info()
        )
            .prop_map(|(connection, a, b, c, r, info)| EventKind::Established {
                connection,
                answering_device: a,
                calling_device: b,
                called_device: c,
                last_redirection_device: r,
                info,
            }),
        (connection(), opt_device(), info()).prop_map(|(connection, d, info)| {
            EventKind::ConnectionCleared {
                connection,
                releasing_device: d,
                info,
            }
        }),
        (connection(), info()).prop_map(|(call, info)| EventKind::CallCleared { call, info }),
        (
            connection(),
            opt_device(),
            opt_device(),
            opt_device(),
            opt_device(),
            info()
        )
            .prop_map(|(connection, a, b, c, d, info)| EventKind::Diverted {
                connection,
                diverting_device: a,
                new_destination: b,
                calling_device: c,
                called_device: d,
                info,
            }),
        (
            connection(),
            option::of(connection()),
            opt_device(),
            opt_device(),
            vec(list_item(), 0..3),
            info()
        )
            .prop_map(|(p, s, a, b, connections, info)| EventKind::Transferred {
                primary_old_call: p,
                secondary_old_call: s,
                transferring_device: a,
                transferred_to_device: b,
                connections,
                info,
            }),
        (
            connection(),
            option::of(connection()),
            opt_device(),
            opt_device(),
            vec(list_item(), 0..3),
            info()
        )
            .prop_map(|(p, s, a, b, connections, info)| EventKind::Conferenced {
                primary_old_call: p,
                secondary_old_call: s,
                conferencing_device: a,
                added_party: b,
                connections,
                info,
            }),
        (connection(), opt_device(), info()).prop_map(|(connection, d, info)| EventKind::Held {
            connection,
            holding_device: d,
            info
        }),
        (connection(), opt_device(), info()).prop_map(|(connection, d, info)| {
            EventKind::Retrieved {
                connection,
                retrieving_device: d,
                info,
            }
        }),
        (
            connection(),
            opt_device(),
            opt_device(),
            opt_device(),
            option::of(any::<u32>()),
            info()
        )
            .prop_map(|(connection, q, a, b, n, info)| EventKind::Queued {
                connection,
                queue: q,
                calling_device: a,
                called_device: b,
                number_queued: n,
                info,
            }),
        (
            connection(),
            opt_device(),
            opt_device(),
            opt_device(),
            info()
        )
            .prop_map(|(connection, f, a, b, info)| EventKind::Failed {
                connection,
                failing_device: f,
                calling_device: a,
                called_device: b,
                info,
            }),
        (
            opt_device(),
            option::of(tok(ForwardingType::ALL)),
            any::<bool>(),
            opt_device()
        )
            .prop_map(|(device, t, s, to)| EventKind::Forwarding {
                device,
                forwarding_type: t,
                forward_status: s,
                forward_to: to,
            }),
        (opt_device(), any::<bool>()).prop_map(|(device, on)| EventKind::DoNotDisturb {
            device,
            do_not_disturb_on: on
        }),
        (opt_device(), opt_device(), any::<bool>()).prop_map(|(t, d, on)| {
            EventKind::MessageWaiting {
                target_device: t,
                device_for_message: d,
                message_waiting_on: on,
            }
        }),
        "Vendor[A-Z][a-z]{1,8}Event".prop_map(|name| EventKind::Unknown { name }),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        request().prop_map(Message::Request),
        response().prop_map(Message::Response),
        (text(), event_kind())
            .prop_map(|(cross_ref_id, kind)| Message::Event(Event { cross_ref_id, kind })),
        (tok(ErrorCategory::ALL), text()).prop_map(|(c, v)| Message::Error(CstaError::new(c, v))),
        "Vendor[A-Z][a-z]{1,8}".prop_map(|name| Message::Unknown { name }),
    ]
}

fn edition() -> impl Strategy<Value = Edition> {
    select(&[
        Edition::Ed2,
        Edition::Ed3,
        Edition::Ed4,
        Edition::Ed5,
        Edition::Ed6,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_message_round_trips(msg in message(), ed in edition()) {
        let xml = encode_with(&msg, ed);
        let back = decode(xml.as_bytes());
        prop_assert_eq!(back.as_ref(), Ok(&msg), "{}", xml);
    }

    #[test]
    fn messages_round_trip_through_frames(msgs in vec((0u16..=9999, message()), 1..5), chunk in 1usize..200) {
        let codec = FrameDecoder::default();
        let mut wire = BytesMut::new();
        for (id, m) in &msgs {
            codec.encode(&to_frame(InvokeId::new(*id).unwrap(), m), &mut wire).unwrap();
        }
        let mut dec = FrameDecoder::default();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for piece in wire.chunks(chunk) {
            buf.put_slice(piece);
            while let Some(f) = dec.decode(&mut buf).unwrap() {
                got.push((f.invoke_id.get(), from_frame(&f).unwrap()));
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(got, msgs);
    }

    #[test]
    fn frames_round_trip(frames in vec((0u16..=9999, vec(any::<u8>(), 1..600)), 1..6), chunk in 1usize..700) {
        let codec = FrameDecoder::default();
        let mut wire = BytesMut::new();
        let frames: Vec<Frame> = frames.into_iter().map(|(id, b)| Frame::new(InvokeId::new(id).unwrap(), b)).collect();
        for f in &frames {
            codec.encode(f, &mut wire).unwrap();
        }
        let mut dec = FrameDecoder::default();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for piece in wire.chunks(chunk) {
            buf.put_slice(piece);
            while let Some(f) = dec.decode(&mut buf).unwrap() {
                got.push(f);
            }
        }
        prop_assert_eq!(got, frames);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..512), limit in 0usize..70000) {
        let mut dec = FrameDecoder::new(Framing::LengthPrefixed, limit);
        let mut buf = BytesMut::from(&bytes[..]);
        while let Ok(Some(_)) = dec.decode(&mut buf) {}
        let _ = decode(&bytes);
        let _ = decode_report(&bytes).to_string();
    }

    #[test]
    fn xml_like_input_never_panics(s in "(<[/?!]?[a-zA-Z:]{0,6}( [a-z:]+=\"[^\"]{0,5}\")?/?>|[a-z&;<>]{0,4}|privateData){0,30}") {
        let _ = decode(s.as_bytes());
        let _ = decode_report(s.as_bytes()).to_string();
    }
}
