//! Misbehaving PBXs: garbage on the wire, a malformed body mid-session, a
//! silent (half-open) peer. The engine must close and reopen the faulty
//! link only, report why, and never panic.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use twp_csta::{Message, Request, Response};
use twp_telephony::{ControlError, DeviceSettings, Telephony, TelephonyConfig};

#[derive(Clone, Copy)]
enum Fault {
    /// Bytes that are no frame at all, at once.
    Garbage,
    /// Opens the session, then answers the next request with a frame whose
    /// body is not XML.
    BadBody,
    /// Opens the session, then never answers again (half-open TCP).
    Silent,
}

/// Reads one frame (8-byte header: 0x00 0x00, length, invoke id).
async fn read_frame(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut header = [0u8; 8];
    s.read_exact(&mut header).await.ok()?;
    let len = u16::from_be_bytes([header[2], header[3]]) as usize;
    let mut body = vec![0u8; len.checked_sub(8)?];
    s.read_exact(&mut body).await.ok()?;
    Some((String::from_utf8_lossy(&header[4..]).into_owned(), body))
}

async fn write_frame(s: &mut TcpStream, invoke_id: &str, body: &[u8]) {
    let len = (body.len() + 8) as u16;
    let mut out = vec![0, 0];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(invoke_id.as_bytes());
    out.extend_from_slice(body);
    let _ = s.write_all(&out).await;
}

async fn serve(mut s: TcpStream, fault: Fault) {
    match fault {
        Fault::Garbage => {
            let _ = s
                .write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n\xff\xfe")
                .await;
        }
        Fault::BadBody | Fault::Silent => {
            let Some((id, _)) = read_frame(&mut s).await else {
                return;
            };
            let ok = Message::Response(Response::StartApplicationSessionPos {
                session_id: "1".into(),
                actual_protocol_version: None,
                actual_session_duration: Some(600),
            });
            write_frame(&mut s, &id, twp_csta::encode(&ok).as_bytes()).await;
            if let Fault::BadBody = fault
                && let Some((id, _)) = read_frame(&mut s).await
            {
                write_frame(&mut s, &id, b"<<<not xml").await;
            }
        }
    }
    // Keep the connection open: the client must notice by itself.
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(n) = s.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// A fake PBX; returns its address and the count of accepted links.
async fn fake_pbx(fault: Fault) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(s, fault));
        }
    });
    (addr, count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_closes_and_reopens_that_link_only() {
    let (_sim, addrs) = sim().await;
    let (bad, accepted) = fake_pbx(Fault::Garbage).await;
    let mut cfg = config(&addrs);
    cfg.links[1] = link(bad, 100, &["2.*"]);
    let tel = Telephony::start(cfg).unwrap();
    eventually("link 0 synced", || tel.providers()[0].synced).await;
    eventually("three attempts on the bad link", || {
        accepted.load(Ordering::SeqCst) >= 3
    })
    .await;
    let p = tel.providers();
    assert!(p[0].connected && p[0].current == 22, "{:?}", p[0]);
    assert!(!p[1].connected && p[1].current == 0);
    let why = p[1].last_error.clone().unwrap();
    assert!(why.contains("malformed"), "{why}");
    // Site 1 works; site 2 fails fast and says why.
    tel.make_call("1000", "1001").await.unwrap();
    let err = tel.make_call("2000", "1001").await.unwrap_err();
    assert!(
        matches!(&err, ControlError::LinkDown { link: 1, reason: Some(r), .. } if r.contains("malformed")),
        "{err}"
    );
    assert!(tel.device("1000").unwrap().supervised);
    assert!(!tel.device("2000").unwrap().supervised);
    tel.shutdown().await;
}

fn one_device(addr: SocketAddr) -> TelephonyConfig {
    let mut cfg = config(&[addr, addr]);
    cfg.links.truncate(1);
    cfg.devices = vec![DeviceSettings::new("1000", site("1.1"))];
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_body_mid_session_reopens_the_link() {
    let (bad, accepted) = fake_pbx(Fault::BadBody).await;
    let tel = Telephony::start(one_device(bad)).unwrap();
    let mut sub = tel
        .subscribe(twp_telephony::Filter::All, 1024, None)
        .unwrap();
    until(&mut sub, "link up", |e| {
        matches!(
            e,
            twp_telephony::TelephonyEvent::LinkStateChanged {
                connected: true,
                ..
            }
        )
    })
    .await;
    let down = until(&mut sub, "link down", |e| {
        matches!(
            e,
            twp_telephony::TelephonyEvent::LinkStateChanged {
                connected: false,
                ..
            }
        )
    })
    .await;
    let twp_telephony::TelephonyEvent::LinkStateChanged { reason, .. } = &down.event else {
        unreachable!()
    };
    assert!(
        reason.as_deref().unwrap().contains("malformed body"),
        "{reason:?}"
    );
    eventually("reopened", || accepted.load(Ordering::SeqCst) >= 2).await;
    eventually("reconnect counted", || tel.providers()[0].reconnects >= 1).await;
    tel.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_peer_is_detected_by_heartbeat() {
    let (bad, accepted) = fake_pbx(Fault::Silent).await;
    let mut cfg = one_device(bad);
    cfg.heartbeat_interval = Some(Duration::from_millis(100));
    cfg.request_timeout = Duration::from_millis(300);
    let tel = Telephony::start(cfg).unwrap();
    eventually("first link up", || accepted.load(Ordering::SeqCst) >= 1).await;
    eventually("heartbeat loss reported", || {
        tel.providers()[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("heartbeat"))
    })
    .await;
    eventually("reconnecting", || accepted.load(Ordering::SeqCst) >= 2).await;
    tel.shutdown().await;
}

#[tokio::test]
async fn vti_xml_and_bad_configs_are_refused_clearly() {
    let mut cfg = one_device("127.0.0.1:1".parse().unwrap());
    cfg.links[0].protocol = twp_telephony::Protocol::VtiXml;
    let err = Telephony::start(cfg).err().unwrap();
    assert!(err.to_string().contains("not available"), "{err}");
    let mut cfg = one_device("127.0.0.1:1".parse().unwrap());
    cfg.devices.push(DeviceSettings::new("1000", site("1.1")));
    assert!(matches!(
        Telephony::start(cfg),
        Err(twp_telephony::ConfigError::DuplicateDevice { .. })
    ));
    assert!(matches!(
        Telephony::start(TelephonyConfig::new("x")),
        Err(twp_telephony::ConfigError::NoLinks)
    ));
}

#[test]
fn starting_outside_a_runtime_is_an_error_not_a_panic() {
    let cfg = one_device("127.0.0.1:1".parse().unwrap());
    assert!(matches!(
        Telephony::start(cfg),
        Err(twp_telephony::ConfigError::NoRuntime)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_pbx_fails_fast_and_backs_off() {
    // A port nobody listens on.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let tel = Telephony::start(one_device(addr)).unwrap();
    eventually("connect error recorded", || {
        tel.providers()[0].last_error.is_some()
    })
    .await;
    let started = std::time::Instant::now();
    let err = tel.answer("1000", None).await.unwrap_err();
    assert!(matches!(err, ControlError::LinkDown { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_millis(50));
    assert!(!tel.providers()[0].connected);
    tel.shutdown().await;
}

/// A well-behaved minimal PBX that counts session timer resets.
async fn session_pbx(resets: Arc<AtomicUsize>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let resets = resets.clone();
            tokio::spawn(async move {
                while let Some((id, body)) = read_frame(&mut s).await {
                    let answer = match twp_csta::decode(&body) {
                        Ok(Message::Request(Request::StartApplicationSession { .. })) => {
                            Response::StartApplicationSessionPos {
                                session_id: "S1".into(),
                                actual_protocol_version: None,
                                actual_session_duration: Some(2),
                            }
                        }
                        Ok(Message::Request(Request::ResetApplicationSessionTimer {
                            session_id,
                            ..
                        })) => {
                            assert_eq!(session_id, "S1");
                            resets.fetch_add(1, Ordering::SeqCst);
                            Response::ResetApplicationSessionTimerPos {
                                actual_session_duration: Some(2),
                            }
                        }
                        Ok(Message::Request(Request::MonitorStart { .. })) => {
                            Response::MonitorStart {
                                cross_ref_id: "X1".into(),
                            }
                        }
                        Ok(Message::Request(Request::SnapshotDevice { .. })) => {
                            Response::SnapshotDevice { calls: Vec::new() }
                        }
                        _ => Response::SystemStatus,
                    };
                    let body = twp_csta::encode(&Message::Response(answer));
                    write_frame(&mut s, &id, body.as_bytes()).await;
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_session_is_kept_alive() {
    let resets = Arc::new(AtomicUsize::new(0));
    let addr = session_pbx(resets.clone()).await;
    let mut cfg = one_device(addr);
    cfg.links[0].session = twp_telephony::SessionMode::ApplicationSession {
        application_id: "twp-test".into(),
        duration_secs: Some(2),
    };
    cfg.resync.features = false;
    let tel = Telephony::start(cfg).unwrap();
    assert!(tel.wait_synced(Duration::from_secs(5)).await);
    assert!(tel.device("1000").unwrap().supervised);
    eventually("a session timer reset", || {
        resets.load(Ordering::SeqCst) >= 1
    })
    .await;
    assert!(tel.providers()[0].connected);
    tel.shutdown().await;
}
