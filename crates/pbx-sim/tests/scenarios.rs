//! End to end: a twp-csta client link against the simulator over TCP.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc::Receiver;
use twp_csta::*;
use twp_pbx_sim::{DeviceConfig, LoadConfig, SimConfig, Simulator, run};

fn config() -> SimConfig {
    SimConfig {
        external_answer_after: None,
        no_answer_timeout: Duration::from_millis(150),
        ..SimConfig::default()
    }
    .with_extensions(100, 6, "1.1")
    .with_device(DeviceConfig::extension("200", "2.1"))
    .with_device(DeviceConfig::hunt_group(
        "300",
        vec!["101".into(), "102".into()],
    ))
    .with_device(DeviceConfig::voicemail_server("999"))
}

async fn start(cfg: SimConfig) -> (Simulator, Vec<std::net::SocketAddr>) {
    let running = run(cfg, std::future::pending()).await.unwrap();
    (running.simulator, running.addrs)
}

async fn connect(addr: std::net::SocketAddr) -> (Link, Receiver<LinkEvent>) {
    let (link, events) = Link::connect(
        addr,
        LinkConfig {
            heartbeat_interval: None,
            ..LinkConfig::default()
        },
    )
    .await
    .unwrap();
    link.start_application_session("twp-test", Some(600))
        .await
        .unwrap();
    (link, events)
}

/// Next event, skipping none; panics after 2 s.
async fn next(events: &mut Receiver<LinkEvent>) -> Event {
    match tokio::time::timeout(Duration::from_secs(2), events.recv()).await {
        Ok(Some(LinkEvent::Event(e))) => e,
        other => panic!("expected an event, got {other:?}"),
    }
}

/// Waits for the first event whose kind name is `name` (skipping others).
async fn until(events: &mut Receiver<LinkEvent>, name: &str) -> Event {
    loop {
        let e = next(events).await;
        if e.kind.name() == name {
            return e;
        }
    }
}

fn state(e: &Event) -> Option<LocalConnectionState> {
    e.kind.info().and_then(|i| i.state)
}

#[tokio::test]
async fn external_call_rings_is_answered_transferred_and_cleared() {
    let (sim, addrs) = start(config()).await;
    let (link, mut events) = connect(addrs[0]).await;
    let x100 = link.monitor_start(&DeviceId::new("100")).await.unwrap();
    let x200 = link.monitor_start(&DeviceId::new("200")).await.unwrap();
    assert_ne!(x100, x200);

    // The outside calls 100: Delivered, alerting.
    let call = sim.external_call("0612345678", "100").unwrap();
    let ev = next(&mut events).await;
    assert_eq!(ev.cross_ref_id, x100);
    let EventKind::Delivered {
        connection,
        calling_device,
        ..
    } = &ev.kind
    else {
        panic!("{ev:?}")
    };
    assert_eq!(connection.call_id.as_deref(), Some(call.as_str()));
    assert_eq!(calling_device.as_ref().unwrap().number(), "0612345678");
    assert_eq!(state(&ev), Some(LocalConnectionState::Alerting));

    // Snapshot shows the ringing call.
    let Response::SnapshotDevice { calls } = link
        .request(Request::SnapshotDevice {
            snapshot_object: DeviceId::new("100"),
        })
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].state, Some(LocalConnectionState::Alerting));

    // Answered through CSTA.
    let conn_100 = ConnectionId::new(call.clone(), "100");
    link.request(Request::AnswerCall {
        call_to_be_answered: conn_100.clone(),
    })
    .await
    .unwrap();
    let ev = next(&mut events).await;
    assert_eq!(ev.kind.name(), "EstablishedEvent");
    assert_eq!(state(&ev), Some(LocalConnectionState::Connected));

    // Consultation to 200, then transfer.
    let Response::ConsultationCall { initiated_call } = link
        .request(Request::ConsultationCall {
            existing_call: conn_100.clone(),
            consulted_device: DeviceId::new("200"),
        })
        .await
        .unwrap()
    else {
        panic!()
    };
    let held = until(&mut events, "HeldEvent").await;
    assert_eq!(state(&held), Some(LocalConnectionState::Hold));
    let delivered_200 = until(&mut events, "DeliveredEvent").await;
    assert!(delivered_200.cross_ref_id == x200 || delivered_200.cross_ref_id == x100);
    sim.answer("200").unwrap();
    until(&mut events, "EstablishedEvent").await;
    let Response::TransferCall { transferred_call } = link
        .request(Request::TransferCall {
            held_call: conn_100,
            active_call: initiated_call.clone(),
        })
        .await
        .unwrap()
    else {
        panic!()
    };
    let transferred_call = transferred_call.unwrap();
    assert_eq!(transferred_call.call_id, initiated_call.call_id);
    let tr = until(&mut events, "TransferedEvent").await;
    let EventKind::Transferred {
        transferring_device,
        ..
    } = &tr.kind
    else {
        panic!()
    };
    assert_eq!(transferring_device.as_ref().unwrap().number(), "100");
    let status = sim.device("200").unwrap();
    assert_eq!(status.calls.len(), 1);
    assert!(sim.device("100").unwrap().calls.is_empty());
    let parties: Vec<String> = sim.calls()[0].parties.iter().map(|p| p.0.clone()).collect();
    assert!(parties.contains(&"0612345678".to_owned()) && parties.contains(&"200".to_owned()));

    // The outside hangs up: 200 sees the connection and the call cleared.
    sim.hang_up("0612345678").unwrap();
    let cleared = until(&mut events, "ConnectionClearedEvent").await;
    assert_eq!(cleared.cross_ref_id, x200);
    until(&mut events, "CallClearedEvent").await;
    assert!(sim.calls().is_empty());

    link.monitor_stop(&x200).await.unwrap();
    assert_eq!(sim.monitor_count(), 1);
}

#[tokio::test]
async fn make_call_hold_retrieve_conference_and_errors() {
    let (sim, addrs) = start(config()).await;
    let (link, mut events) = connect(addrs[0]).await;
    link.monitor_start(&DeviceId::new("103")).await.unwrap();
    let Response::MakeCall { calling_device } = link
        .request(Request::MakeCall {
            calling_device: DeviceId::new("103"),
            called_directory_number: DeviceId::new("104"),
            auto_originate: None,
        })
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(next(&mut events).await.kind.name(), "ServiceInitiatedEvent");
    assert_eq!(next(&mut events).await.kind.name(), "OriginatedEvent");
    assert_eq!(next(&mut events).await.kind.name(), "DeliveredEvent");
    sim.answer("104").unwrap();
    until(&mut events, "EstablishedEvent").await;
    link.request(Request::HoldCall {
        call_to_be_held: calling_device.clone(),
    })
    .await
    .unwrap();
    until(&mut events, "HeldEvent").await;
    // Holding twice is a state error.
    let err = link
        .request(Request::HoldCall {
            call_to_be_held: calling_device.clone(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, LinkError::Refused { error, .. } if error.category == ErrorCategory::StateIncompatibility),
        "{err}"
    );
    // Consult 105 from the held state and conference everyone.
    let Response::ConsultationCall { initiated_call } = link
        .request(Request::ConsultationCall {
            existing_call: calling_device.clone(),
            consulted_device: DeviceId::new("105"),
        })
        .await
        .unwrap()
    else {
        panic!()
    };
    sim.answer("105").unwrap();
    until(&mut events, "EstablishedEvent").await;
    link.request(Request::ConferenceCall {
        held_call: calling_device,
        active_call: initiated_call,
    })
    .await
    .unwrap();
    let conf = until(&mut events, "ConferencedEvent").await;
    assert_eq!(state(&conf), Some(LocalConnectionState::Connected));
    assert_eq!(sim.calls().len(), 1);
    assert_eq!(sim.calls()[0].parties.len(), 3);
    // Unknown device.
    let err = link
        .monitor_start(&DeviceId::from_wire("N<555>;noa=nk"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "switch refused MonitorStart: operation/invalidDeviceID"
    );
    // Digits on the connected conference leg.
    let conn = ConnectionId::new(sim.calls()[0].id.clone(), "103");
    link.request(Request::GenerateDigits {
        connection_to_send_digits: conn,
        chars_to_send: "12#".into(),
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn forwarding_dnd_voicemail_and_message_waiting() {
    let (sim, addrs) = start(config()).await;
    let (link, mut events) = connect(addrs[0]).await;
    link.monitor_start(&DeviceId::new("101")).await.unwrap();
    // Immediate forwarding to an outside number.
    link.request(Request::SetForwarding {
        device: DeviceId::new("101"),
        forwarding_type: ForwardingType::Immediate,
        activate_forward: true,
        forward_dn: Some(DeviceId::new("0699")),
        ring_count: None,
    })
    .await
    .unwrap();
    let ev = next(&mut events).await;
    assert!(matches!(
        ev.kind,
        EventKind::Forwarding {
            forward_status: true,
            ..
        }
    ));
    let Response::GetForwarding { forwarding } = link
        .request(Request::GetForwarding {
            device: DeviceId::new("101"),
        })
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(forwarding.len(), 1);
    sim.external_call("0611", "101").unwrap();
    let ev = next(&mut events).await;
    let EventKind::Diverted {
        new_destination, ..
    } = &ev.kind
    else {
        panic!("{ev:?}")
    };
    assert_eq!(new_destination.as_ref().unwrap().number(), "0699");
    assert_eq!(sim.device("0699").unwrap().calls.len(), 1);
    sim.hang_up("0611").unwrap();
    sim.set_forwarding("101", ForwardingType::Immediate, None)
        .unwrap();
    until(&mut events, "ForwardingEvent").await;

    // Do not disturb: the call goes to voicemail; the lamp lights.
    link.request(Request::SetDoNotDisturb {
        device: DeviceId::new("101"),
        do_not_disturb_on: true,
    })
    .await
    .unwrap();
    until(&mut events, "DoNotDisturbEvent").await;
    sim.external_call("0622", "101").unwrap();
    until(&mut events, "DivertedEvent").await;
    let mw = until(&mut events, "MessageWaitingEvent").await;
    assert!(matches!(
        mw.kind,
        EventKind::MessageWaiting {
            message_waiting_on: true,
            ..
        }
    ));
    assert!(sim.device("101").unwrap().message_waiting);
    sim.hang_up("0622").unwrap();

    // No answer: after the timer the call goes to voicemail.
    sim.set_do_not_disturb("101", false).unwrap();
    sim.external_call("0633", "101").unwrap();
    until(&mut events, "DeliveredEvent").await;
    let ev = until(&mut events, "DivertedEvent").await;
    assert_eq!(
        ev.kind.info().unwrap().cause.as_deref(),
        Some("callForwardNoAnswer")
    );
    assert_eq!(sim.device("999").unwrap().calls.len(), 1);
}

#[tokio::test]
async fn pickup_deflect_and_hunt_group_queue() {
    let (sim, addrs) = start(config()).await;
    let (link, mut events) = connect(addrs[0]).await;
    link.monitor_start(&DeviceId::new("104")).await.unwrap();
    link.monitor_start(&DeviceId::new("300")).await.unwrap();

    // 104 picks up a call ringing at 103 (same pickup group 1.1).
    sim.external_call("0700", "103").unwrap();
    let Response::GroupPickupCall { picked_call } = link
        .request(Request::GroupPickupCall {
            new_destination: DeviceId::new("104"),
            pickup_device: None,
        })
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(picked_call.unwrap().device_number(), Some("104"));
    let ev = until(&mut events, "EstablishedEvent").await;
    assert_eq!(state(&ev), Some(LocalConnectionState::Connected));
    sim.hang_up("104").unwrap();
    until(&mut events, "CallClearedEvent").await;

    // Deflect a ringing call from 104 to 105.
    let call = sim.external_call("0701", "104").unwrap();
    until(&mut events, "DeliveredEvent").await;
    link.request(Request::DeflectCall {
        call_to_be_diverted: ConnectionId::new(call.clone(), "104"),
        new_destination: DeviceId::new("105"),
    })
    .await
    .unwrap();
    until(&mut events, "DivertedEvent").await;
    assert_eq!(sim.device("105").unwrap().calls.len(), 1);
    sim.hang_up("0701").unwrap();

    // Hunt group 300 with CCOs 101 and 102: the third call queues.
    sim.external_call("0801", "300").unwrap();
    sim.external_call("0802", "300").unwrap();
    sim.external_call("0803", "300").unwrap();
    let q = until(&mut events, "QueuedEvent").await;
    assert_eq!(state(&q), Some(LocalConnectionState::Queued));
    assert_eq!(sim.device("101").unwrap().calls.len(), 1);
    assert_eq!(sim.device("102").unwrap().calls.len(), 1);
    // A CCO frees up: the queued call is delivered to it.
    sim.hang_up("0801").unwrap();
    let busy_again =
        sim.device("101").unwrap().calls.len() + sim.device("102").unwrap().calls.len();
    assert_eq!(busy_again, 2);
    assert_eq!(sim.device("300").unwrap().calls.len(), 0);
}

#[tokio::test]
async fn garbage_and_dropped_links_are_reported_not_fatal() {
    let (sim, addrs) = start(config()).await;
    // Garbage: the simulator closes that link and logs why.
    let mut raw = tokio::net::TcpStream::connect(addrs[0]).await.unwrap();
    raw.write_all(b"\x00\x00\x00\x05junk").await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::io::AsyncReadExt::read(&mut raw, &mut buf),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(n, 0, "link closed");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        sim.link_log()
            .iter()
            .any(|l| l.contains("malformed frame") && l.contains("too small")),
        "{:?}",
        sim.link_log()
    );
    // A malformed body too.
    let mut raw = tokio::net::TcpStream::connect(addrs[0]).await.unwrap();
    let bad = twp_csta::frame::frame_to_bytes(&Frame::new(
        InvokeId::new(1).unwrap(),
        b"<MonitorStart><oops".to_vec(),
    ))
    .unwrap();
    raw.write_all(&bad).await.unwrap();
    let n = tokio::io::AsyncReadExt::read(&mut raw, &mut buf)
        .await
        .unwrap();
    assert_eq!(n, 0);

    // A healthy link survives both, then is dropped on demand.
    let (link, mut events) = connect(addrs[0]).await;
    link.monitor_start(&DeviceId::new("100")).await.unwrap();
    assert_eq!(sim.drop_links(None), 1);
    let closed = tokio::time::timeout(Duration::from_secs(2), events.recv())
        .await
        .unwrap();
    assert_eq!(closed, Some(LinkEvent::Closed(LinkError::PeerClosed)));
    assert_eq!(sim.monitor_count(), 0);
    // Refused while down, accepted again afterwards.
    sim.refuse_links(true);
    let (link2, mut events2) = Link::connect(addrs[0], LinkConfig::default())
        .await
        .unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(2), events2.recv())
        .await
        .unwrap();
    assert_eq!(closed, Some(LinkEvent::Closed(LinkError::PeerClosed)));
    assert!(!link2.is_open());
    sim.refuse_links(false);
    let (link3, _events3) = connect(addrs[0]).await;
    link3.monitor_start(&DeviceId::new("100")).await.unwrap();
    assert_eq!(sim.links().len(), 1);
}

#[tokio::test]
async fn several_listeners_and_capacity_per_link() {
    let cfg = SimConfig {
        listen: vec![
            "127.0.0.1:0".parse().unwrap(),
            "127.0.0.1:0".parse().unwrap(),
        ],
        monitors_per_link: 2,
        ..config()
    };
    let (sim, addrs) = start(cfg).await;
    assert_eq!(addrs.len(), 2);
    let (a, _ea) = connect(addrs[0]).await;
    let (b, _eb) = connect(addrs[1]).await;
    a.monitor_start(&DeviceId::new("100")).await.unwrap();
    a.monitor_start(&DeviceId::new("101")).await.unwrap();
    let err = a.monitor_start(&DeviceId::new("102")).await.unwrap_err();
    assert!(
        matches!(&err, LinkError::Refused { error, .. } if error.value == "objectMonitorLimitExceeded"),
        "{err}"
    );
    b.monitor_start(&DeviceId::new("102")).await.unwrap();
    let links = sim.links();
    assert_eq!(links.len(), 2);
    assert_eq!(links.iter().map(|l| l.monitors).sum::<usize>(), 3);
    // Dropping listener 1's links leaves listener 0's.
    assert_eq!(sim.drop_links(Some(1)), 1);
    assert!(a.system_status().await.is_ok());
}

#[tokio::test]
async fn load_mode_places_answers_and_clears_calls() {
    let (sim, addrs) = start(config()).await;
    let (link, mut events) = connect(addrs[0]).await;
    for n in (100..106).chain([200]) {
        link.monitor_start(&DeviceId::new(n.to_string()))
            .await
            .unwrap();
    }
    let report = sim
        .run_load(LoadConfig {
            calls_per_second: 50,
            duration: Duration::from_millis(400),
            ring_time: Duration::from_millis(10),
            talk_time: Duration::from_millis(10),
            ..LoadConfig::default()
        })
        .await;
    assert!(report.offered >= 5, "{report:?}");
    assert_eq!(report.failed, 0, "{report:?}");
    assert_eq!(report.completed, report.offered, "{report:?}");
    assert!(sim.calls().is_empty());
    let mut cleared = 0;
    while let Ok(Some(LinkEvent::Event(e))) =
        tokio::time::timeout(Duration::from_millis(200), events.recv()).await
    {
        if e.kind.name() == "CallClearedEvent" {
            cleared += 1;
        }
    }
    assert_eq!(cleared, report.completed);
}

/// Get Switching Function Devices: every internal device with its
/// category, in segments; a category filter; devices added and removed
/// while running; refused when the service is switched off.
#[tokio::test]
async fn device_list_in_segments_follows_changes_and_can_be_refused() {
    let (sim, addrs) = start(SimConfig {
        devices_per_segment: 3,
        ..config()
    })
    .await;
    let (link, _events) = connect(addrs[0]).await;
    let all = link.switching_function_devices(None, 100).await.unwrap();
    let listed: Vec<(&str, Option<DeviceCategory>)> = all
        .iter()
        .map(|d| (d.device_id.number(), d.device_category))
        .collect();
    let station = Some(DeviceCategory::Station);
    assert_eq!(
        listed,
        [
            ("100", station),
            ("101", station),
            ("102", station),
            ("103", station),
            ("104", station),
            ("105", station),
            ("200", station),
            ("300", Some(DeviceCategory::Group)),
            ("999", Some(DeviceCategory::VoiceUnit)),
        ]
    );
    assert!(
        sim.link_log()
            .iter()
            .any(|l| l.ends_with(": 9 devices in 3 segments")),
        "{:?}",
        sim.link_log()
    );

    sim.remove_device("103").unwrap();
    sim.add_device(&DeviceConfig::extension("106", "1.1"));
    let stations = link
        .switching_function_devices(Some(DeviceCategory::Station), 100)
        .await
        .unwrap();
    let numbers: Vec<&str> = stations.iter().map(|d| d.device_id.number()).collect();
    assert_eq!(numbers, ["100", "101", "102", "104", "105", "106", "200"]);

    // a device in a call is not removed
    sim.external_call("0612345678", "100").unwrap();
    assert!(sim.remove_device("100").is_err());

    let (_sim, addrs) = start(SimConfig {
        device_list: false,
        ..config()
    })
    .await;
    let (link, _events) = connect(addrs[0]).await;
    assert!(matches!(
        link.switching_function_devices(None, 100).await,
        Err(LinkError::Refused {
            request: "GetSwitchingFunctionDevices",
            ..
        })
    ));
}
