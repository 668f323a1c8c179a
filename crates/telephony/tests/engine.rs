//! The engine against the in-process PBX simulator: monitoring, events,
//! call control, link loss and recovery.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use twp_telephony::{
    Activity, CloseReason, ControlError, Filter, ForwardingType, LocalConnectionState as S,
    Telephony, TelephonyEvent,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitors_the_demo_devices_on_their_site_links() {
    let (sim, addrs) = sim().await;
    let tel = engine(&addrs).await;
    assert_eq!(sim.monitor_count(), 32);
    let providers = tel.providers();
    assert_eq!(providers.len(), 2);
    assert_eq!((providers[0].current, providers[0].allocated), (22, 22));
    assert_eq!((providers[1].current, providers[1].allocated), (10, 10));
    for p in &providers {
        assert!(p.connected && p.synced, "{p:?}");
        assert_eq!(p.domain, "demo");
        assert_eq!(p.count, 100);
        assert_eq!(p.reconnects, 0);
    }
    assert_eq!(providers[0].sites, vec!["1.*"]);
    let d = tel.device("2003").unwrap();
    assert!(d.supervised);
    assert_eq!(d.provider, Some(1));
    assert_eq!(d.activity(), Activity::Idle);
    let range = tel.devices_in_range("1998", "2001");
    let numbers: Vec<&str> = range.iter().map(|d| d.number.as_str()).collect();
    assert_eq!(numbers, vec!["1999", "2000", "2001"]);
    assert!(tel.device("555").is_none());
    let (_sub, states) = tel
        .subscribe_with_state(Filter::devices(["1001", "2002", "555"]), 16)
        .unwrap();
    let numbers: Vec<&str> = states.iter().map(|d| d.number.as_str()).collect();
    assert_eq!(numbers, vec!["1001", "2002"]);
    tel.shutdown().await;
    assert!(!tel.providers()[0].connected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_call_is_answered_transferred_and_hung_up() {
    let (sim, addrs) = sim().await;
    let tel = engine(&addrs).await;
    let mut sub = tel
        .subscribe(Filter::devices(["1000", "2001"]), 1024, None)
        .unwrap();

    sim.external_call("0612345678", "1000").unwrap();
    let e = until(&mut sub, "1000 ringing", call_state("1000", S::Alerting)).await;
    let TelephonyEvent::CallStateChanged { call, .. } = &e.event else {
        unreachable!()
    };
    assert_eq!(call.calling.as_deref(), Some("0612345678"));
    assert!(call.parties.iter().any(|p| p.device == "0612345678"));
    assert_eq!(tel.device("1000").unwrap().activity(), Activity::Ringing);

    tel.answer("1000", None).await.unwrap();
    until(&mut sub, "1000 connected", call_state("1000", S::Connected)).await;
    assert_eq!(tel.device("1000").unwrap().activity(), Activity::InCall);

    // Consultation of 2001 (another link), which answers; then transfer.
    let consult = tel.consult("1000", None, "2001").await.unwrap();
    until(&mut sub, "2001 ringing", call_state("2001", S::Alerting)).await;
    tel.answer("2001", None).await.unwrap();
    // Events of different links are not ordered with each other: wait on
    // 1000's own view of the answer.
    until(
        &mut sub,
        "1000 sees 2001",
        sees_connected("1000", &consult, "2001"),
    )
    .await;
    let before = tel.device("1000").unwrap();
    tel.transfer("1000", None)
        .await
        .unwrap_or_else(|e| panic!("{e}: {before:#?}"));
    until(&mut sub, "1000 leaves", call_state("1000", S::Null)).await;
    eventually("1000 idle, 2001 talking to the caller", || {
        let d = tel.device("2001").unwrap();
        tel.device("1000").unwrap().calls.is_empty()
            && d.calls.len() == 1
            && d.calls[0].call_id == consult
            && d.calls[0].parties.iter().any(|p| p.device == "0612345678")
    })
    .await;

    tel.hang_up("2001", None).await.unwrap();
    until(&mut sub, "2001 hangs up", call_state("2001", S::Null)).await;
    assert!(sim.calls().is_empty());
    assert_eq!(tel.device("2001").unwrap().activity(), Activity::Idle);
    // Sequence numbers only grow.
    let last = sub.try_recv();
    if let Some(Ok(env)) = last {
        assert!(env.seq > e.seq);
    }
    tel.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_loss_fails_fast_then_reconnects_remonitors_and_resyncs() {
    let (sim, addrs) = sim().await;
    let tel = engine(&addrs).await;
    let mut sub = tel
        .subscribe(Filter::devices(["1000"]), 4096, None)
        .unwrap();
    sim.external_call("0611111111", "1000").unwrap();
    until(&mut sub, "ringing", call_state("1000", S::Alerting)).await;
    tel.answer("1000", None).await.unwrap();
    until(&mut sub, "connected", call_state("1000", S::Connected)).await;

    // The PBX's CSTA server goes down mid-call.
    sim.refuse_links(true);
    assert_eq!(sim.drop_links(None), 2);
    until(&mut sub, "link 0 down", |e| {
        matches!(
            e,
            TelephonyEvent::LinkStateChanged {
                link: 0,
                connected: false,
                ..
            }
        )
    })
    .await;
    let p = &tel.providers()[0];
    assert!(!p.connected && !p.synced);
    assert_eq!(p.current, 0);
    assert!(p.last_error.is_some());
    assert!(!tel.device("1000").unwrap().supervised);

    // Requests fail at once, with the link named.
    let started = std::time::Instant::now();
    let err = tel.hang_up("1000", None).await.unwrap_err();
    assert!(
        matches!(err, ControlError::LinkDown { link: 0, .. }),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_millis(100));
    assert!(err.to_string().contains("retry"));

    // Meanwhile at the PBX: the caller hangs up, 1001 starts ringing.
    sim.hang_up("0611111111").unwrap();
    sim.external_call("0622222222", "1001").unwrap();

    sim.refuse_links(false);
    assert!(tel.wait_synced(Duration::from_secs(10)).await);
    until(&mut sub, "link 0 up", |e| {
        matches!(
            e,
            TelephonyEvent::LinkStateChanged {
                link: 0,
                connected: true,
                ..
            }
        )
    })
    .await;
    // Resync: the call that ended during the outage is gone, the new one
    // is known, monitors are back.
    until(&mut sub, "1000's call ended", call_state("1000", S::Null)).await;
    let d1000 = tel.device("1000").unwrap();
    assert!(d1000.supervised && d1000.calls.is_empty());
    let d1001 = tel.device("1001").unwrap();
    assert_eq!(d1001.calls.len(), 1);
    assert_eq!(d1001.calls[0].state, S::Alerting);
    assert_eq!(sim.monitor_count(), 32);
    for p in tel.providers() {
        assert!(p.connected && p.synced);
        assert!(p.reconnects >= 1, "{p:?}");
    }
    // Control works again, and events flow on the new monitors.
    tel.answer("1001", None).await.unwrap();
    eventually("1001 connected", || {
        tel.device("1001").unwrap().calls.first().map(|c| c.state) == Some(S::Connected)
    })
    .await;
    tel.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_subscriber_is_cut_off_while_a_fast_one_gets_everything() {
    let (sim, addrs) = sim().await;
    let tel = engine(&addrs).await;
    let mut slow = tel.subscribe(Filter::All, 4, None).unwrap();
    let mut fast = tel.subscribe(Filter::All, 10_000, None).unwrap();
    let start = tel.bus().last_seq();
    for n in 0..10 {
        let to = format!("{}", 1000 + n);
        sim.external_call(&format!("06000000{n:02}"), &to).unwrap();
    }
    eventually("all 10 ringing", || {
        (1000..1010).all(|n| tel.device(&n.to_string()).unwrap().activity() == Activity::Ringing)
    })
    .await;
    for n in 0..10 {
        sim.hang_up(&format!("06000000{n:02}")).unwrap();
    }
    eventually("all 10 calls cleared in state", || {
        (1000..1010).all(|n| tel.device(&n.to_string()).unwrap().calls.is_empty())
    })
    .await;
    let last = tel.bus().last_seq();
    assert!(last - start > 20);
    let mut expected = start + 1;
    while expected <= last {
        let e = fast.recv().await.unwrap();
        assert_eq!(e.seq, expected, "fast subscriber skipped an event");
        expected += 1;
    }
    let mut got = 0;
    let reason = loop {
        match slow.recv().await {
            Ok(_) => got += 1,
            Err(r) => break r,
        }
    };
    assert_eq!(got, 4);
    assert_eq!(
        reason,
        CloseReason::Lagged {
            capacity: 4,
            last_delivered: start + 4
        }
    );
    assert!(reason.to_string().contains("resubscribe"));
    // It resumes where it stopped.
    let mut again = tel.subscribe(Filter::All, 10_000, Some(start + 4)).unwrap();
    assert_eq!(again.recv().await.unwrap().seq, start + 5);
    assert_eq!(tel.bus().lagged_count(), 1);
    tel.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_retrieve_conference_digits_and_single_step_transfer() {
    let (sim, addrs) = sim().await;
    let tel = engine(&addrs).await;
    let mut sub = tel.subscribe(Filter::All, 4096, None).unwrap();
    let call = tel.make_call("1002", "1003").await.unwrap();
    until(&mut sub, "1003 ringing", call_state("1003", S::Alerting)).await;
    tel.answer("1003", Some(&call)).await.unwrap();
    until(&mut sub, "1003 connected", call_state("1003", S::Connected)).await;
    tel.send_digits("1002", None, "12#").await.unwrap();
    assert!(matches!(
        tel.send_digits("1002", None, "x").await,
        Err(ControlError::InvalidNumber { .. })
    ));
    tel.hold("1002", None).await.unwrap();
    until(&mut sub, "1002 holds", call_state("1002", S::Hold)).await;
    assert_eq!(tel.device("1002").unwrap().activity(), Activity::OnHold);
    tel.retrieve("1002", None).await.unwrap();
    until(&mut sub, "1002 back", call_state("1002", S::Connected)).await;

    // Conference 1004 in.
    let second = tel.consult("1002", None, "1004").await.unwrap();
    until(&mut sub, "1004 ringing", call_state("1004", S::Alerting)).await;
    tel.answer("1004", None).await.unwrap();
    until(
        &mut sub,
        "1002 sees 1004",
        sees_connected("1002", &second, "1004"),
    )
    .await;
    let conf = tel.conference("1002", None).await.unwrap();
    eventually("three parties", || {
        let d = tel.device("1002").unwrap();
        d.calls.len() == 1 && d.calls[0].call_id == conf && d.calls[0].parties.len() == 3
    })
    .await;
    tel.hang_up("1002", None).await.unwrap();
    // (1002's first call already ended, as a Null event, when it merged.)
    eventually("1003 sees 1002 leave the conference", || {
        let d = tel.device("1003").unwrap();
        d.calls.len() == 1
            && d.calls[0].call_id == conf
            && !d.calls[0].parties.iter().any(|p| p.device == "1002")
    })
    .await;

    // 1003 passes its call to 1005 without consultation.
    tel.single_step_transfer("1003", None, "1005")
        .await
        .unwrap();
    until(&mut sub, "1005 ringing", call_state("1005", S::Alerting)).await;
    eventually("1003 idle", || tel.device("1003").unwrap().calls.is_empty()).await;
    sim.hang_up("1005").unwrap();
    sim.hang_up("1004").ok();
    eventually("all idle", || sim.calls().is_empty()).await;
    tel.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflect_pickup_forwarding_and_do_not_disturb() {
    let (sim, addrs) = sim().await;
    let tel = engine(&addrs).await;
    let mut sub = tel.subscribe(Filter::All, 4096, None).unwrap();

    // Deflect a ringing call elsewhere.
    sim.external_call("0633333333", "1006").unwrap();
    until(&mut sub, "1006 ringing", call_state("1006", S::Alerting)).await;
    tel.deflect("1006", None, "1007").await.unwrap();
    until(&mut sub, "1007 ringing", call_state("1007", S::Alerting)).await;
    // 1008 intercepts it.
    tel.pickup("1008", "1007", None).await.unwrap();
    until(&mut sub, "1008 connected", call_state("1008", S::Connected)).await;
    eventually("1007 idle", || tel.device("1007").unwrap().calls.is_empty()).await;
    tel.hang_up("1008", None).await.unwrap();
    // Group pickup (same site.cluster group).
    sim.external_call("0644444444", "1009").unwrap();
    until(&mut sub, "1009 ringing", call_state("1009", S::Alerting)).await;
    tel.group_pickup("1013").await.unwrap();
    until(&mut sub, "1013 connected", call_state("1013", S::Connected)).await;
    tel.hang_up("1013", None).await.unwrap();

    // Forwarding.
    tel.set_forwarding("1010", ForwardingType::Immediate, Some("2005"))
        .await
        .unwrap();
    until(&mut sub, "forwarding event", |e| {
        matches!(e, TelephonyEvent::ForwardingChanged { device, forwarding }
            if device == "1010" && forwarding.len() == 1)
    })
    .await;
    let f = tel.get_forwarding("1010").await.unwrap();
    assert_eq!(f[0].destination, "2005");
    assert_eq!(f[0].kind, ForwardingType::Immediate);
    tel.set_forwarding("1010", ForwardingType::Immediate, None)
        .await
        .unwrap();
    assert!(tel.get_forwarding("1010").await.unwrap().is_empty());

    // Do not disturb.
    tel.set_do_not_disturb("1011", true).await.unwrap();
    until(&mut sub, "dnd on", |e| {
        matches!(e, TelephonyEvent::DeviceStateChanged { device, do_not_disturb: true, .. }
            if device == "1011")
    })
    .await;
    assert!(tel.device("1011").unwrap().do_not_disturb);

    // Errors say what is wrong.
    assert!(matches!(
        tel.answer("1011", None).await,
        Err(ControlError::NoSuchCall {
            wanted: "ringing",
            ..
        })
    ));
    assert!(matches!(
        tel.make_call("4242", "1000").await,
        Err(ControlError::UnknownDevice { .. })
    ));
    assert!(matches!(
        tel.make_call("1000", "12ab").await,
        Err(ControlError::InvalidNumber { .. })
    ));
    let refused = tel.answer("1011", Some("NOPE")).await.unwrap_err();
    assert!(matches!(refused, ControlError::Refused { .. }), "{refused}");
    tel.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_calls_the_user_then_the_customer_and_joins_them() {
    let (sim, addrs) = sim().await;
    let mut cfg = config(&addrs);
    cfg.callback_device = Some("1019".into());
    cfg.callback_answer_timeout = Duration::from_secs(5);
    let tel = Telephony::start(cfg).unwrap();
    assert!(tel.wait_synced(Duration::from_secs(10)).await);
    let mut sub = tel
        .subscribe(Filter::devices(["1005"]), 1024, None)
        .unwrap();
    let task = {
        let tel = tel.clone();
        tokio::spawn(async move { tel.callback("1005", "0655555555").await })
    };
    // The user's phone rings and the user answers; then the customer does.
    until(&mut sub, "user rung", call_state("1005", S::Alerting)).await;
    sim.answer("1005").unwrap();
    eventually("customer rung", || {
        sim.calls().iter().any(|c| {
            c.parties
                .iter()
                .any(|(d, s)| d == "0655555555" && *s == S::Alerting)
        })
    })
    .await;
    sim.answer("0655555555").unwrap();
    let joined = task.await.unwrap().unwrap();
    let calls = sim.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, joined);
    let mut parties: Vec<&str> = calls[0].parties.iter().map(|(d, _)| d.as_str()).collect();
    parties.sort();
    assert_eq!(parties, vec!["0655555555", "1005"]);
    eventually("1019 idle", || tel.device("1019").unwrap().calls.is_empty()).await;

    // Not configured: a clear error.
    let plain = Telephony::start(config(&addrs)).unwrap();
    assert_eq!(
        plain.callback("1005", "0600").await,
        Err(ControlError::CallbackNotConfigured)
    );
    plain.shutdown().await;
    tel.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_reports_a_user_who_does_not_answer() {
    let (sim, addrs) = sim().await;
    let mut cfg = config(&addrs);
    cfg.callback_device = Some("1019".into());
    cfg.callback_answer_timeout = Duration::from_millis(300);
    let tel = Telephony::start(cfg).unwrap();
    assert!(tel.wait_synced(Duration::from_secs(10)).await);
    let err = tel.callback("1005", "0655555555").await.unwrap_err();
    assert!(
        matches!(&err, ControlError::CallbackNoAnswer { party, .. } if party == "1005"),
        "{err}"
    );
    eventually("attempt cleared", || sim.calls().is_empty()).await;
    tel.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_survives_a_quick_reconnect_and_events_resume() {
    let (sim, addrs) = sim().await;
    let tel = engine(&addrs).await;
    let mut sub = tel
        .subscribe(Filter::devices(["1015"]), 4096, None)
        .unwrap();
    sim.external_call("0677777777", "1015").unwrap();
    until(&mut sub, "ringing", call_state("1015", S::Alerting)).await;
    tel.answer("1015", None).await.unwrap();
    until(&mut sub, "connected", call_state("1015", S::Connected)).await;
    let call = tel.device("1015").unwrap().calls[0].call_id.clone();

    assert_eq!(sim.drop_links(Some(0)), 1);
    until(&mut sub, "link 0 down", |e| {
        matches!(
            e,
            TelephonyEvent::LinkStateChanged {
                link: 0,
                connected: false,
                ..
            }
        )
    })
    .await;
    until(&mut sub, "1015 supervised again", |e| {
        matches!(e, TelephonyEvent::DeviceStateChanged { device, supervised: true, .. } if device == "1015")
    })
    .await;
    assert!(tel.wait_synced(Duration::from_secs(10)).await);
    // The other link never noticed.
    assert_eq!(tel.providers()[1].reconnects, 0);
    assert_eq!(tel.providers()[0].reconnects, 1);
    let d = tel.device("1015").unwrap();
    assert_eq!(d.calls.len(), 1);
    assert_eq!(
        (d.calls[0].call_id.as_str(), d.calls[0].state),
        (call.as_str(), S::Connected)
    );
    // Parties learnt before the outage are kept.
    assert!(d.calls[0].parties.iter().any(|p| p.device == "0677777777"));

    sim.hang_up("0677777777").unwrap();
    until(
        &mut sub,
        "call ends after the reconnect",
        call_state("1015", S::Null),
    )
    .await;
    tel.shutdown().await;
}

#[tokio::test]
async fn placements_follow_the_site_lists() {
    let addrs: Vec<std::net::SocketAddr> = vec![
        "127.0.0.1:9".parse().unwrap(),
        "127.0.0.1:9".parse().unwrap(),
    ];
    let mut cfg = config(&addrs);
    cfg.links[1].capacity = 5;
    let tel = Telephony::start(cfg).unwrap();
    let p = tel.placements();
    let on = |n: &str| p.iter().find(|x| x.number == n).unwrap().clone();
    assert_eq!(on("1000").link, Some(0));
    assert_eq!(
        on("1000").placement,
        Some(twp_telephony::Placement::Explicit)
    );
    // Site 2 has 10 devices for 5 places on its link: 5 overflow to link 0.
    let overflow = p
        .iter()
        .filter(|x| x.placement == Some(twp_telephony::Placement::Overflow))
        .count();
    assert_eq!(overflow, 5);
    assert!(p.iter().all(|x| x.link.is_some()));
    assert_eq!(tel.providers()[1].allocated, 5);
    tel.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_handle_closes_the_links() {
    let (sim, addrs) = sim().await;
    let tel = engine(&addrs).await;
    assert_eq!(sim.links().len(), 2);
    let mut sub = tel.subscribe(Filter::All, 4096, None).unwrap();
    drop(tel);
    eventually("links closed", || sim.links().is_empty()).await;
    // Subscriptions end too, once drained.
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Err(reason) = sub.recv().await {
                break reason;
            }
        }
    })
    .await;
    assert_eq!(end.unwrap(), CloseReason::Shutdown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_states_carry_voicemail_and_ccos_from_the_configuration() {
    use twp_pbx_sim::{DeviceRole, SimConfig};
    let (_sim, addrs) = sim().await;
    // What a deployment knows from its PBX configuration: the hunt
    // group's agents, the voicemail server of extensions that use it.
    let pbx = SimConfig::demo();
    let voicemail = pbx
        .devices
        .iter()
        .find(|d| d.role == DeviceRole::Voicemail)
        .map(|d| d.number.clone())
        .unwrap();
    let mut cfg = config(&addrs);
    for d in &mut cfg.devices {
        let Some(at_pbx) = pbx.devices.iter().find(|p| p.number == d.number) else {
            continue;
        };
        match &at_pbx.role {
            DeviceRole::HuntGroup { members } => d.ccos = Some(members.len() as u32),
            DeviceRole::Extension { .. } if at_pbx.voicemail => {
                d.voicemail = Some(voicemail.clone())
            }
            _ => {}
        }
    }
    let tel = Telephony::start(cfg.clone()).unwrap();
    assert!(tel.wait_synced(Duration::from_secs(10)).await);
    let hunt = tel.device("1900").unwrap();
    assert_eq!((hunt.ccos, hunt.voicemail.as_deref()), (Some(3), None));
    let d = tel.device("1000").unwrap();
    assert_eq!((d.ccos, d.voicemail.as_deref()), (None, Some("1999")));
    let server = tel.device("1999").unwrap();
    assert_eq!((server.ccos, server.voicemail), (None, None));
    tel.shutdown().await;

    cfg.devices[0].voicemail = Some(" ".into());
    assert!(matches!(
        Telephony::start(cfg),
        Err(twp_telephony::ConfigError::EmptyVoicemail { .. })
    ));
}

/// The PBX's device list through a running link; a link index that is
/// not configured and a link that is down fail at once, saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_list_through_a_running_link() {
    use twp_telephony::{DeviceCategory, ListError};
    let (sim, addrs) = sim().await;
    let tel = engine(&addrs).await;
    let all = tel.switching_function_devices(1, None).await.unwrap();
    // the demo PBX: 30 extensions, the hunt group 1900 and voicemail 1999
    assert_eq!(all.len(), 32);
    let stations = tel
        .switching_function_devices(0, Some(DeviceCategory::Station))
        .await
        .unwrap();
    assert_eq!(stations.len(), 30);
    assert_eq!(stations[0].device_id.number(), "1000");
    assert_eq!(
        tel.switching_function_devices(7, None).await,
        Err(ListError::UnknownLink { link: 7 })
    );
    sim.refuse_links(true);
    sim.drop_links(None);
    let mut down = None;
    for _ in 0..100 {
        match tel.switching_function_devices(0, None).await {
            Err(e @ ListError::LinkDown { .. }) => {
                down = Some(e);
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let down = down.expect("the link goes down").to_string();
    assert!(down.contains(&addrs[0].port().to_string()), "{down}");
    tel.shutdown().await;
}
