//! Every third-party capture in ../shared/csta-captures must decode.
//! The directory is test data kept outside the repository; its absence is a
//! failure, not a skip.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use bytes::BytesMut;
use twp_csta::{
    DeviceId, EventKind, FrameDecoder, InvokeId, LocalConnectionState, Message, Request, Response,
    decode,
};

fn captures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/csta-captures")
}

fn decode_capture(name: &str, bytes: &[u8]) -> Vec<(Option<InvokeId>, Message)> {
    if name.ends_with(".bin") {
        let mut buf = BytesMut::from(bytes);
        let mut dec = FrameDecoder::default();
        let mut out = Vec::new();
        while let Some(frame) = dec
            .decode(&mut buf)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
        {
            let msg = decode(&frame.body).unwrap_or_else(|e| panic!("{name}: {e}"));
            out.push((Some(frame.invoke_id), msg));
        }
        assert!(buf.is_empty(), "{name}: {} trailing bytes", buf.len());
        assert!(!out.is_empty(), "{name}: no frame");
        out
    } else {
        vec![(
            None,
            decode(bytes).unwrap_or_else(|e| panic!("{name}: {e}")),
        )]
    }
}

#[test]
fn every_capture_decodes() {
    let dir = captures_dir();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("capture directory {} is missing: {e}", dir.display()));
    let mut count = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".bin") || name.ends_with(".xml")) {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let msgs = decode_capture(&name, &bytes);
        for (_, msg) in &msgs {
            assert!(
                !matches!(msg, Message::Unknown { .. }),
                "{name}: root not recognised: {msg:?}"
            );
        }
        count += 1;
    }
    assert!(count >= 14, "expected at least 14 captures, found {count}");
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(captures_dir().join(name)).unwrap()
}

#[test]
fn service_initiated_frame_fields() {
    let msgs = decode_capture("x.bin", &read("frame-01-ServiceInitiatedEvent.bin"));
    let (id, Message::Event(ev)) = &msgs[0] else {
        panic!("{msgs:?}")
    };
    assert_eq!(*id, Some(InvokeId::EVENT));
    assert_eq!(ev.cross_ref_id, "1169730059");
    let EventKind::ServiceInitiated {
        connection,
        initiating_device,
        info,
    } = &ev.kind
    else {
        panic!("{ev:?}")
    };
    assert_eq!(
        connection.call_id.as_deref(),
        Some("FF000100000000002D65C85C1C750000")
    );
    assert_eq!(connection.device_number(), Some("302118840100"));
    assert_eq!(
        initiating_device.as_ref().map(DeviceId::number),
        Some("302118840100")
    );
    assert_eq!(info.state, Some(LocalConnectionState::Initiated));
    assert_eq!(info.cause.as_deref(), Some("makeCall"));
}

#[test]
fn originated_frame_fields() {
    let msgs = decode_capture("x.bin", &read("frame-02-OriginatedEvent.bin"));
    let (_, Message::Event(ev)) = &msgs[0] else {
        panic!("{msgs:?}")
    };
    let EventKind::Originated { called_device, .. } = &ev.kind else {
        panic!("{ev:?}")
    };
    assert_eq!(called_device.as_ref().unwrap().number(), "302118840101");
}

#[test]
fn delivered_body_reduces_decorated_devices() {
    let Message::Event(ev) = decode(&read("body-14-DeliveredEvent.xml")).unwrap() else {
        panic!()
    };
    let EventKind::Delivered {
        connection,
        alerting_device,
        calling_device,
        last_redirection_device,
        info,
        ..
    } = ev.kind
    else {
        panic!()
    };
    assert_eq!(connection.device_number(), Some("3021061290002"));
    assert_eq!(alerting_device.unwrap().number(), "3021061290002");
    let calling = calling_device.unwrap();
    assert_eq!(calling.number(), "7868772298");
    assert!(calling.raw().starts_with("N<7868772298>Line71001"));
    assert_eq!(last_redirection_device, None);
    assert_eq!(info.state, Some(LocalConnectionState::Alerting));
    assert_eq!(info.cause.as_deref(), Some("enteringDistribution"));
}

#[test]
fn session_and_monitor_bodies() {
    assert_eq!(
        decode(&read("body-04-StartApplicationSessionPosResponse.xml")).unwrap(),
        Message::Response(Response::StartApplicationSessionPos {
            session_id: "009968951".into(),
            actual_protocol_version: Some(
                "http://www.ecma-international.org/standards/ecma-323/csta/ed4".into()
            ),
            actual_session_duration: Some(600),
        })
    );
    assert_eq!(
        decode(&read("body-11-MonitorStart.xml")).unwrap(),
        Message::Request(Request::MonitorStart {
            monitor_object: DeviceId::new("3021033"),
            monitor_type: None,
        })
    );
    assert_eq!(
        decode(&read("body-03-MonitorStop.xml")).unwrap(),
        Message::Request(Request::MonitorStop {
            cross_ref_id: "1193240031".into()
        })
    );
    let Message::Request(Request::DeflectCall {
        call_to_be_diverted,
        new_destination,
    }) = decode(&read("body-12-DeflectCall.xml")).unwrap()
    else {
        panic!()
    };
    assert_eq!(call_to_be_diverted.device_number(), Some("SUB_C"));
    assert_eq!(new_destination.number(), "SUB_D");
}

#[test]
fn unmodelled_event_decodes_as_unknown() {
    let Message::Event(ev) = decode(&read("body-13-CallInformationEvent.xml")).unwrap() else {
        panic!()
    };
    assert_eq!(ev.cross_ref_id, "1166743342");
    assert_eq!(
        ev.kind,
        EventKind::Unknown {
            name: "CallInformationEvent".into()
        }
    );
}
