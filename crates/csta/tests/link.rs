//! The client link against a scripted switch over an in-memory stream.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use twp_csta::frame::frame_to_bytes;
use twp_csta::*;

struct FakeSwitch {
    io: DuplexStream,
    buf: BytesMut,
    dec: FrameDecoder,
}

impl FakeSwitch {
    async fn recv(&mut self) -> (InvokeId, Message) {
        loop {
            if let Some(f) = self.dec.decode(&mut self.buf).unwrap() {
                return (f.invoke_id, from_frame(&f).unwrap());
            }
            let n = self.io.read_buf(&mut self.buf).await.unwrap();
            assert!(n > 0, "client closed");
        }
    }

    async fn send(&mut self, id: InvokeId, msg: impl Into<Message>) {
        let bytes = frame_to_bytes(&to_frame(id, &msg.into())).unwrap();
        self.io.write_all(&bytes).await.unwrap();
    }
}

fn pair(config: LinkConfig) -> (Link, tokio::sync::mpsc::Receiver<LinkEvent>, FakeSwitch) {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let (link, events) = Link::from_stream(client, config);
    let switch = FakeSwitch {
        io: server,
        buf: BytesMut::new(),
        dec: FrameDecoder::default(),
    };
    (link, events, switch)
}

fn quiet() -> LinkConfig {
    LinkConfig {
        heartbeat_interval: None,
        request_timeout: Duration::from_secs(2),
        ..LinkConfig::default()
    }
}

#[tokio::test]
async fn responses_match_requests_out_of_order() {
    let (link, _events, mut switch) = pair(quiet());
    let a = tokio::spawn({
        let link = link.clone();
        async move { link.monitor_start(&DeviceId::new("100")).await }
    });
    let (id_a, msg_a) = switch.recv().await;
    let b = tokio::spawn({
        let link = link.clone();
        async move { link.monitor_start(&DeviceId::new("200")).await }
    });
    let (id_b, msg_b) = switch.recv().await;
    assert_eq!(id_a.get(), 1);
    assert_eq!(id_b.get(), 2);
    assert!(
        matches!(msg_a, Message::Request(Request::MonitorStart { ref monitor_object, .. }) if monitor_object.number() == "100")
    );
    assert!(matches!(
        msg_b,
        Message::Request(Request::MonitorStart { .. })
    ));
    switch
        .send(
            id_b,
            Response::MonitorStart {
                cross_ref_id: "B".into(),
            },
        )
        .await;
    switch
        .send(
            id_a,
            Response::MonitorStart {
                cross_ref_id: "A".into(),
            },
        )
        .await;
    assert_eq!(a.await.unwrap().unwrap(), "A");
    assert_eq!(b.await.unwrap().unwrap(), "B");
}

#[tokio::test]
async fn events_are_delivered_unknown_ones_skipped_heartbeats_answered() {
    let (link, mut events, mut switch) = pair(quiet());
    switch
        .send(
            InvokeId::EVENT,
            Event {
                cross_ref_id: "1".into(),
                kind: EventKind::Unknown {
                    name: "CallInformationEvent".into(),
                },
            },
        )
        .await;
    // The switch probes the client: answered by the link itself.
    switch
        .send(
            InvokeId::new(77).unwrap(),
            Request::SystemStatus {
                status: Some(SystemStatusValue::Normal),
            },
        )
        .await;
    let held = Event {
        cross_ref_id: "1".into(),
        kind: EventKind::Held {
            connection: ConnectionId::new("C1", "100"),
            holding_device: Some(DeviceId::new("100")),
            info: CallEventInfo::default(),
        },
    };
    switch.send(InvokeId::EVENT, held.clone()).await;
    assert_eq!(events.recv().await.unwrap(), LinkEvent::Event(held));
    let (id, msg) = switch.recv().await;
    assert_eq!(id.get(), 77);
    assert_eq!(msg, Message::Response(Response::SystemStatus));
    assert!(link.is_open());
}

#[tokio::test]
async fn negative_response_is_refused_error() {
    let (link, _events, mut switch) = pair(quiet());
    let call = tokio::spawn({
        let link = link.clone();
        async move {
            link.request(Request::AnswerCall {
                call_to_be_answered: ConnectionId::new("X", "100"),
            })
            .await
        }
    });
    let (id, _) = switch.recv().await;
    switch
        .send(
            id,
            CstaError::new(
                ErrorCategory::StateIncompatibility,
                "invalidConnectionState",
            ),
        )
        .await;
    let err = call.await.unwrap().unwrap_err();
    assert_eq!(
        err.to_string(),
        "switch refused AnswerCall: stateIncompatibility/invalidConnectionState"
    );
}

#[tokio::test]
async fn garbage_frame_closes_link_and_fails_pending() {
    let (link, mut events, mut switch) = pair(quiet());
    let pending = tokio::spawn({
        let link = link.clone();
        async move { link.system_status().await }
    });
    let _ = switch.recv().await;
    switch
        .io
        .write_all(b"GET / HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let Some(LinkEvent::Closed(LinkError::Frame(FrameError::BadMarker { offset: 0, .. }))) =
        events.recv().await
    else {
        panic!("expected a frame error")
    };
    assert!(matches!(pending.await.unwrap(), Err(LinkError::Frame(_))));
    assert!(!link.is_open());
    assert!(matches!(
        link.system_status().await,
        Err(LinkError::Frame(_))
    ));
    assert_eq!(events.recv().await, None, "channel ends after Closed");
}

#[tokio::test]
async fn malformed_body_is_a_link_error() {
    let (_link, mut events, mut switch) = pair(quiet());
    let bytes = frame_to_bytes(&Frame::new(InvokeId::EVENT, b"<HeldEvent><oops".to_vec())).unwrap();
    switch.io.write_all(&bytes).await.unwrap();
    let ev = events.recv().await.unwrap();
    assert!(
        matches!(ev, LinkEvent::Closed(LinkError::Body { invoke_id, .. }) if invoke_id == InvokeId::EVENT),
        "{ev:?}"
    );
}

#[tokio::test]
async fn silent_switch_loses_heartbeat() {
    let (_link, mut events, _switch) = pair(LinkConfig {
        heartbeat_interval: Some(Duration::from_millis(30)),
        request_timeout: Duration::from_millis(50),
        ..LinkConfig::default()
    });
    let ev = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap();
    assert_eq!(ev, Some(LinkEvent::Closed(LinkError::HeartbeatLost)));
}

#[tokio::test]
async fn peer_close_and_request_timeout() {
    let (link, mut events, switch) = pair(LinkConfig {
        request_timeout: Duration::from_millis(30),
        ..quiet()
    });
    assert!(matches!(
        link.system_status().await,
        Err(LinkError::Timeout {
            request: "SystemStatus",
            ..
        })
    ));
    drop(switch);
    assert_eq!(
        events.recv().await,
        Some(LinkEvent::Closed(LinkError::PeerClosed))
    );
}

#[tokio::test]
async fn invoke_ids_cycle_and_skip_pending() {
    let (link, _events, mut switch) = pair(quiet());
    // Walk the counter to the end of the range quickly.
    for expected in 1..=3u16 {
        let l = link.clone();
        let t = tokio::spawn(async move { l.system_status().await });
        let (id, _) = switch.recv().await;
        assert_eq!(id.get(), expected);
        switch.send(id, Response::SystemStatus).await;
        t.await.unwrap().unwrap();
    }
}

/// Keeps every traced PDU as its record line.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<TraceLine>>);

impl PduSink for Recorder {
    fn pdu(&self, pdu: &Pdu<'_>) {
        self.0.lock().unwrap().push(TraceLine::of(pdu));
    }
}

impl Recorder {
    fn lines(&self) -> Vec<(Direction, Option<u16>, String)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|l| {
                let name = decode(l.body.as_bytes())
                    .map(|m| m.name().to_owned())
                    .unwrap_or_else(|_| "undecodable".to_owned());
                (l.direction, l.invoke_id.map(InvokeId::get), name)
            })
            .collect()
    }
}

#[tokio::test]
async fn tap_sees_both_directions_heartbeats_and_malformed_bodies() {
    let tap = Tap::new();
    let (link, mut events, mut switch) = pair(LinkConfig {
        tap: Some(tap.labelled("3")),
        ..quiet()
    });
    // Nothing attached: nothing recorded, the link works.
    let probe = tokio::spawn({
        let link = link.clone();
        async move { link.system_status().await }
    });
    let (id, _) = switch.recv().await;
    switch.send(id, Response::SystemStatus).await;
    probe.await.unwrap().unwrap();

    let rec = std::sync::Arc::new(Recorder::default());
    let attachment = tap.attach(rec.clone());
    let monitor = tokio::spawn({
        let link = link.clone();
        async move { link.monitor_start(&DeviceId::new("100")).await }
    });
    let (id, _) = switch.recv().await;
    switch
        .send(
            id,
            Response::MonitorStart {
                cross_ref_id: "X".into(),
            },
        )
        .await;
    assert_eq!(monitor.await.unwrap().unwrap(), "X");
    switch
        .send(
            InvokeId::new(77).unwrap(),
            Request::SystemStatus {
                status: Some(SystemStatusValue::Normal),
            },
        )
        .await;
    let (reply_id, _) = switch.recv().await;
    assert_eq!(reply_id.get(), 77);
    let bytes = frame_to_bytes(&Frame::new(InvokeId::EVENT, b"<HeldEvent><oops".to_vec())).unwrap();
    switch.io.write_all(&bytes).await.unwrap();
    assert!(matches!(
        events.recv().await,
        Some(LinkEvent::Closed(LinkError::Body { .. }))
    ));
    assert_eq!(
        rec.lines(),
        vec![
            (Direction::Sent, Some(2), "MonitorStart".to_owned()),
            (
                Direction::Received,
                Some(2),
                "MonitorStartResponse".to_owned()
            ),
            (Direction::Received, Some(77), "SystemStatus".to_owned()),
            (Direction::Sent, Some(77), "SystemStatusResponse".to_owned()),
            (Direction::Received, Some(9999), "undecodable".to_owned()),
        ]
    );
    let first = rec.0.lock().unwrap()[0].clone();
    assert_eq!((first.link.as_str(), first.peer.as_str()), ("3", "stream"));
    assert!(tap.detach(attachment));
    assert!(!tap.detach(attachment), "already detached");
}

#[tokio::test]
async fn tap_records_frames_that_cannot_be_cut() {
    let tap = Tap::new();
    let rec = std::sync::Arc::new(Recorder::default());
    tap.attach(rec.clone());
    let (_link, mut events, mut switch) = pair(LinkConfig {
        tap: Some(tap.clone()),
        ..quiet()
    });
    switch
        .io
        .write_all(b"GET / HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    assert!(matches!(
        events.recv().await,
        Some(LinkEvent::Closed(LinkError::Frame(_)))
    ));
    let lines = rec.0.lock().unwrap().clone();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].invoke_id, None);
    assert!(lines[0].body.starts_with("!"), "{}", lines[0]);
    let report = decode_report(format!("{}\n", lines[0]).as_bytes());
    assert_eq!(report.errors(), 1, "{report}");
}

fn station(n: u32) -> ListedDevice {
    ListedDevice {
        device_id: DeviceId::new(n.to_string()),
        device_category: Some(DeviceCategory::Station),
        device_model_name: None,
    }
}

fn segment(xref: &str, id: u32, last: bool, numbers: std::ops::Range<u32>) -> Request {
    Request::SwitchingFunctionDevices {
        service_cross_ref_id: xref.into(),
        segment_id: Some(id),
        last_segment: last,
        device_list: numbers.map(station).collect(),
    }
}

/// The response and every segment in one write: the segments cannot
/// overtake the registration of the listing; a segment of another
/// listing is ignored; the list ends with `lastSegment`.
#[tokio::test]
async fn device_list_collects_segments_until_the_last() {
    let (link, _events, mut switch) = pair(quiet());
    let list = tokio::spawn({
        let link = link.clone();
        async move { link.switching_function_devices(None, 1000).await }
    });
    let (id, msg) = switch.recv().await;
    assert_eq!(
        msg,
        Message::Request(Request::GetSwitchingFunctionDevices {
            requested_device_id: None,
            requested_device_category: None,
        })
    );
    let mut wire = Vec::new();
    let frames: Vec<(InvokeId, Message)> = vec![
        (
            id,
            Response::GetSwitchingFunctionDevices {
                service_cross_ref_id: "7".into(),
            }
            .into(),
        ),
        (InvokeId::EVENT, segment("7", 1, false, 100..200).into()),
        (InvokeId::EVENT, segment("other", 1, true, 900..901).into()),
        (InvokeId::EVENT, segment("7", 2, true, 200..250).into()),
    ];
    for (i, m) in &frames {
        wire.extend_from_slice(&frame_to_bytes(&to_frame(*i, m)).unwrap());
    }
    switch.io.write_all(&wire).await.unwrap();
    let devices = list.await.unwrap().unwrap();
    assert_eq!(devices, (100..250).map(station).collect::<Vec<_>>());
    // the link goes on serving requests
    let beat = tokio::spawn(async move { link.system_status().await });
    let (id, _) = switch.recv().await;
    switch.send(id, Response::SystemStatus).await;
    beat.await.unwrap().unwrap();
}

#[tokio::test]
async fn device_list_refused_missing_segment_and_too_long() {
    let (link, _events, mut switch) = pair(LinkConfig {
        request_timeout: Duration::from_millis(200),
        ..quiet()
    });
    let ask = |link: &Link, limit| {
        let link = link.clone();
        tokio::spawn(async move { link.switching_function_devices(None, limit).await })
    };

    // a switch without the service
    let list = ask(&link, 1000);
    let (id, _) = switch.recv().await;
    let refusal = CstaError::new(ErrorCategory::Operation, "requestIncompatibleWithObject");
    switch.send(id, refusal.clone()).await;
    assert_eq!(
        list.await.unwrap(),
        Err(LinkError::Refused {
            request: "GetSwitchingFunctionDevices",
            error: refusal
        })
    );

    // the last segment never comes
    let list = ask(&link, 1000);
    let (id, _) = switch.recv().await;
    let ack = Response::GetSwitchingFunctionDevices {
        service_cross_ref_id: "8".into(),
    };
    switch.send(id, ack).await;
    switch
        .send(InvokeId::EVENT, segment("8", 1, false, 0..10))
        .await;
    assert!(matches!(
        list.await.unwrap(),
        Err(LinkError::Timeout {
            request: "SwitchingFunctionDevices",
            ..
        })
    ));

    // more devices than the caller accepts
    let list = ask(&link, 15);
    let (id, _) = switch.recv().await;
    let ack = Response::GetSwitchingFunctionDevices {
        service_cross_ref_id: "9".into(),
    };
    switch.send(id, ack).await;
    switch
        .send(InvokeId::EVENT, segment("9", 1, false, 0..10))
        .await;
    switch
        .send(InvokeId::EVENT, segment("9", 2, true, 10..20))
        .await;
    assert_eq!(
        list.await.unwrap(),
        Err(LinkError::TooManyDevices { limit: 15 })
    );
    assert!(link.is_open());
}
