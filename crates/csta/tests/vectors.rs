//! Public test vectors and hand-written edge cases of the codec.

#![allow(clippy::unwrap_used)]

use bytes::BytesMut;
use twp_csta::frame::frame_to_bytes;
use twp_csta::{
    CstaError, ErrorCategory, Frame, FrameDecoder, InvokeId, Message, Request, XmlError, decode,
    encode,
};

/// The psco-tech test vector: a StartApplicationSession of 415 XML bytes
/// framed as `00 00 01 A7` + `0001`. The body here is ours, padded to the
/// same length, to check the arithmetic (415 + 8 = 423 = 0x01A7).
#[test]
fn start_application_session_415_bytes() {
    let mut body = String::from(
        "<StartApplicationSession xmlns=\"http://www.ecma-international.org/standards/ecma-354/appl_session\">\
         <applicationInfo><applicationID>TWP</applicationID></applicationInfo>\
         <requestedProtocolVersions><protocolVersion>http://www.ecma-international.org/standards/ecma-323/csta/ed4</protocolVersion></requestedProtocolVersions>\
         <requestedSessionDuration>180</requestedSessionDuration>",
    );
    let close = "</StartApplicationSession>";
    let pad = 415 - body.len() - close.len();
    body.push_str(&" ".repeat(pad));
    body.push_str(close);
    assert_eq!(body.len(), 415);

    let frame = Frame::new(InvokeId::new(1).unwrap(), body.clone().into_bytes());
    let wire = frame_to_bytes(&frame).unwrap();
    assert_eq!(
        &wire[..8],
        &[0x00, 0x00, 0x01, 0xA7, b'0', b'0', b'0', b'1']
    );
    assert_eq!(wire.len(), 423);

    let mut buf = BytesMut::from(&wire[..]);
    let back = FrameDecoder::default().decode(&mut buf).unwrap().unwrap();
    assert_eq!(back, frame);
    assert_eq!(
        decode(&back.body).unwrap(),
        Message::Request(Request::StartApplicationSession {
            application_id: "TWP".into(),
            requested_protocol_versions: vec![
                "http://www.ecma-international.org/standards/ecma-323/csta/ed4".into()
            ],
            requested_session_duration: Some(180),
        })
    );
}

#[test]
fn namespaces_of_editions_2_to_6_and_prefixes() {
    for ns in [
        "http://www.ecma.ch/standards/ecma-323/csta/ed2",
        "http://www.ecma-international.org/standards/ecma-323/csta/ed3",
        "http://www.ecma-international.org/standards/ecma-323/csta/ed4",
        "http://www.ecma-international.org/standards/ecma-323/csta/ed5",
        "http://www.ecma-international.org/standards/ecma-323/csta/ed6",
    ] {
        let plain = format!("<MonitorStopResponse xmlns=\"{ns}\"/>");
        let prefixed = format!(
            "<csta:MonitorStop xmlns:csta=\"{ns}\"><csta:monitorCrossRefID>7</csta:monitorCrossRefID></csta:MonitorStop>"
        );
        assert!(decode(plain.as_bytes()).is_ok(), "{ns}");
        assert_eq!(
            decode(prefixed.as_bytes()).unwrap(),
            Message::Request(Request::MonitorStop {
                cross_ref_id: "7".into()
            })
        );
    }
    let err = decode(
        b"<MonitorStop xmlns=\"urn:other\"><monitorCrossRefID>7</monitorCrossRefID></MonitorStop>",
    )
    .unwrap_err();
    assert!(
        matches!(err, XmlError::UnsupportedNamespace { .. }),
        "{err}"
    );
}

#[test]
fn errors_name_message_and_field() {
    let err =
        decode(b"<MonitorStart><monitorType>device</monitorType></MonitorStart>").unwrap_err();
    assert_eq!(
        err.to_string(),
        "<MonitorStart>: required element <monitorObject> is missing"
    );
    let err = decode(
        b"<SetDoNotDisturb><device>1</device><doNotDisturbOn>maybe</doNotDisturbOn></SetDoNotDisturb>",
    )
    .unwrap_err();
    assert!(err.to_string().contains("doNotDisturbOn"), "{err}");
    assert!(err.to_string().contains("maybe"), "{err}");
    assert!(matches!(
        decode(b"<a><b></a>").unwrap_err(),
        XmlError::Syntax { .. }
    ));
    assert!(matches!(decode(b"").unwrap_err(), XmlError::Empty));
    assert!(matches!(
        decode(b"<a/>\xff").unwrap_err(),
        XmlError::NotUtf8 { valid_up_to: 4 }
    ));
    assert!(matches!(
        decode(b"<a/><b/>").unwrap_err(),
        XmlError::TrailingContent { .. }
    ));
    let deep = "<a>".repeat(100) + &"</a>".repeat(100);
    assert!(matches!(
        decode(deep.as_bytes()).unwrap_err(),
        XmlError::TooDeep { .. }
    ));
}

#[test]
fn csta_error_code_both_styles() {
    assert_eq!(
        decode(b"<CSTAErrorCode><operation>invalidDeviceID</operation></CSTAErrorCode>").unwrap(),
        Message::Error(CstaError::new(ErrorCategory::Operation, "invalidDeviceID"))
    );
    assert_eq!(
        decode(b"<CSTAErrorCode><stateIncompatibility><invalidConnectionState/></stateIncompatibility></CSTAErrorCode>").unwrap(),
        Message::Error(CstaError::new(
            ErrorCategory::StateIncompatibility,
            "invalidConnectionState"
        ))
    );
    let msg = Message::Error(CstaError::new(ErrorCategory::Security, "x<&>"));
    assert_eq!(decode(encode(&msg).as_bytes()).unwrap(), msg);
}

#[test]
fn private_data_anywhere_is_skipped() {
    let xml = b"<MonitorStartResponse><extensions><privateData><private><x:a xmlns:x='v'><monitorCrossRefID>bad</monitorCrossRefID></x:a></private></privateData></extensions><monitorCrossRefID>good</monitorCrossRefID><privateData/></MonitorStartResponse>";
    assert_eq!(
        decode(xml).unwrap(),
        Message::Response(twp_csta::Response::MonitorStart {
            cross_ref_id: "good".into()
        })
    );
}

/// Found by the xml_decoder fuzz target: a root name that is not an XML
/// name decoded to `Unknown` and re-encoded into broken XML.
#[test]
fn invalid_root_names_are_refused() {
    for input in [&b"<-<-:/:/>"[..], b"<a:/>", b"<1x/>"] {
        match decode(input) {
            Err(XmlError::Syntax { .. }) => {}
            Ok(msg) => assert_eq!(decode(encode(&msg).as_bytes()).unwrap(), msg),
            Err(e) => panic!("{e}"),
        }
    }
}

/// A device list as a switch may write it: prefixed elements, `device`
/// instead of `deviceID`, a decorated number, no segment id; bad values
/// are named.
#[test]
fn switching_function_devices_tolerant_and_strict() {
    use twp_csta::{DeviceCategory, DeviceId, ListedDevice};
    let body = r#"<?xml version="1.0"?>
<csta:SwitchingFunctionDevices xmlns:csta="http://www.ecma-international.org/standards/ecma-323/csta/ed5">
  <csta:serviceCrossRefID>12</csta:serviceCrossRefID>
  <csta:lastSegment>true</csta:lastSegment>
  <csta:deviceList>
    <csta:deviceEntry><csta:deviceID>N&lt;1000&gt;;noa=nk</csta:deviceID><csta:deviceCategory>station</csta:deviceCategory><csta:deviceModelName>4039</csta:deviceModelName></csta:deviceEntry>
    <csta:deviceEntry><csta:device>1900</csta:device><csta:deviceCategory>group</csta:deviceCategory></csta:deviceEntry>
    <csta:deviceEntry><csta:deviceID>1001</csta:deviceID><privateData><x>1</x></privateData></csta:deviceEntry>
  </csta:deviceList>
</csta:SwitchingFunctionDevices>"#;
    let Message::Request(Request::SwitchingFunctionDevices {
        service_cross_ref_id,
        segment_id,
        last_segment,
        device_list,
    }) = decode(body.as_bytes()).unwrap()
    else {
        panic!("not a device list");
    };
    assert_eq!(
        (service_cross_ref_id.as_str(), segment_id, last_segment),
        ("12", None, true)
    );
    assert_eq!(
        device_list
            .iter()
            .map(|d| d.device_id.number())
            .collect::<Vec<_>>(),
        ["1000", "1900", "1001"]
    );
    assert_eq!(
        device_list[0],
        ListedDevice {
            device_id: DeviceId::from_wire("N<1000>;noa=nk"),
            device_category: Some(DeviceCategory::Station),
            device_model_name: Some("4039".into()),
        }
    );
    assert_eq!(device_list[2].device_category, None);

    let bad = |from: &str, to: &str| decode(body.replace(from, to).as_bytes()).unwrap_err();
    let e = bad(">true<", ">yes<").to_string();
    assert!(
        e.contains("SwitchingFunctionDevices") && e.contains("lastSegment"),
        "{e}"
    );
    let e = bad(">group<", ">team<").to_string();
    assert!(e.contains("deviceCategory") && e.contains("team"), "{e}");
    let e = bad("<csta:device>1900</csta:device>", "").to_string();
    assert!(e.contains("deviceID"), "{e}");
    let e = bad("<csta:serviceCrossRefID>12</csta:serviceCrossRefID>", "").to_string();
    assert!(e.contains("serviceCrossRefID"), "{e}");

    let ack = r#"<GetSwitchingFunctionDevicesResponse xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed4"><serviceCrossRefID>12</serviceCrossRefID></GetSwitchingFunctionDevicesResponse>"#;
    assert_eq!(
        decode(ack.as_bytes()).unwrap(),
        Message::Response(twp_csta::Response::GetSwitchingFunctionDevices {
            service_cross_ref_id: "12".into()
        })
    );
}
