//! Shared set-up: the in-process simulator and an engine over it.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use twp_pbx_sim::{SimConfig, Simulator, run};
use twp_telephony::backoff::Backoff;
use twp_telephony::{
    DeviceSettings, Envelope, LinkSettings, SiteCluster, Subscription, Telephony, TelephonyConfig,
    TelephonyEvent,
};

/// The demo PBX on two listeners (site 1 on the first, site 2 on the
/// second), outside parties answering only on demand.
pub async fn sim() -> (Simulator, Vec<SocketAddr>) {
    let cfg = SimConfig {
        listen: vec![
            SocketAddr::from(([127, 0, 0, 1], 0)),
            SocketAddr::from(([127, 0, 0, 1], 0)),
        ],
        external_answer_after: None,
        no_answer_timeout: Duration::from_secs(60),
        ..SimConfig::demo()
    };
    let running = run(cfg, std::future::pending()).await.unwrap();
    (running.simulator, running.addrs)
}

pub fn site(s: &str) -> SiteCluster {
    s.parse().unwrap()
}

/// The demo's internal devices with their site.
pub fn demo_devices() -> Vec<DeviceSettings> {
    let mut v: Vec<DeviceSettings> = (1000..1020)
        .map(|n| DeviceSettings::new(n.to_string(), site("1.1")))
        .collect();
    v.extend((2000..2010).map(|n| DeviceSettings::new(n.to_string(), site("2.1"))));
    v.push(DeviceSettings::new("1900", site("1.1")));
    v.push(DeviceSettings::new("1999", site("1.1")));
    v
}

pub fn link(addr: SocketAddr, capacity: usize, sites: &[&str]) -> LinkSettings {
    LinkSettings::csta(addr.ip().to_string(), addr.port(), capacity)
        .with_sites(&sites.iter().map(|s| s.parse().unwrap()).collect::<Vec<_>>())
}

pub fn config(addrs: &[SocketAddr]) -> TelephonyConfig {
    let mut c = TelephonyConfig::new("demo");
    c.links = vec![link(addrs[0], 100, &["1.*"]), link(addrs[1], 100, &["2.*"])];
    c.devices = demo_devices();
    c.backoff = Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(200),
        jitter: 0.3,
    };
    c.request_timeout = Duration::from_secs(2);
    c.heartbeat_interval = None;
    c
}

pub async fn engine(addrs: &[SocketAddr]) -> Telephony {
    let tel = Telephony::start(config(addrs)).unwrap();
    assert!(tel.wait_synced(Duration::from_secs(10)).await, "not synced");
    tel
}

/// The first event matching `pred` within 5 s (others skipped).
pub async fn until(
    sub: &mut Subscription,
    what: &str,
    pred: impl Fn(&TelephonyEvent) -> bool,
) -> Arc<Envelope> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, sub.recv()).await {
            Ok(Ok(e)) if pred(&e.event) => return e,
            Ok(Ok(_)) => {}
            Ok(Err(reason)) => panic!("subscription closed while waiting for {what}: {reason}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

/// A call event of `device` for a call in `state`.
pub fn call_state(
    device: &str,
    state: twp_telephony::LocalConnectionState,
) -> impl Fn(&TelephonyEvent) -> bool {
    let device = device.to_owned();
    move |e| {
        matches!(e, TelephonyEvent::CallStateChanged { device: d, call, .. }
            if *d == device && call.state == state)
    }
}

/// Polls `f` until true (5 s).
pub async fn eventually(what: &str, f: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `device` sees `party` connected in `call` (events of different links
/// are not ordered with each other: wait on the device's own).
pub fn sees_connected(device: &str, call: &str, party: &str) -> impl Fn(&TelephonyEvent) -> bool {
    let (device, call, party) = (device.to_owned(), call.to_owned(), party.to_owned());
    move |e| {
        matches!(e, TelephonyEvent::CallStateChanged { device: d, call: c, .. }
        if *d == device && c.call_id == call && c.parties.iter().any(|p| {
            p.device == party && p.state == Some(twp_telephony::LocalConnectionState::Connected)
        }))
    }
}
