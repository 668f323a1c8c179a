//! PDU traces (guide 10.6) through real links to the PBX simulator, read
//! back with `twp_csta::decode_report` as `twp csta decode` does.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use twp_csta::{Message, Request, Response};
use twp_telephony::{
    Filter, Telephony, TelephonyEvent, TraceError, TraceSpec, TraceStatus, TraceTarget,
};

/// A fresh, empty directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("twp-traces-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn spec(target: &str, dir: &Path) -> TraceSpec {
    TraceSpec::new(target.parse().unwrap(), dir)
}

/// One decoded record: sent?, invoke id, message.
#[derive(Debug)]
struct Rec {
    sent: bool,
    invoke: Option<u16>,
    msg: Message,
}

/// The kept files, in order, decoded; every record must decode.
fn records(status: &TraceStatus) -> Vec<Rec> {
    let mut text = String::new();
    for f in &status.files {
        text.push_str(&std::fs::read_to_string(f).unwrap());
    }
    let report = twp_csta::decode_report(text.as_bytes());
    assert_eq!(report.errors(), 0, "{report}");
    report
        .entries
        .into_iter()
        .map(|e| {
            let ctx = e.context.unwrap();
            assert!(ctx.contains(" link="), "{ctx}");
            Rec {
                sent: ctx.contains(" >> "),
                invoke: e.invoke_id.map(|i| i.get()),
                msg: e.outcome.unwrap(),
            }
        })
        .collect()
}

fn devices_of(msg: &Message) -> Vec<String> {
    let ids = match msg {
        Message::Request(r) => r.devices(),
        Message::Event(e) => e.kind.devices(),
        _ => Vec::new(),
    };
    ids.iter().map(|d| d.number().to_owned()).collect()
}

fn is_session(msg: &Message) -> bool {
    match msg {
        Message::Request(r) => r.is_session(),
        Message::Response(r) => r.is_session(),
        _ => false,
    }
}

fn monitor_start_of(r: &Rec) -> Option<String> {
    match &r.msg {
        Message::Request(Request::MonitorStart { monitor_object, .. }) if r.sent => {
            Some(monitor_object.number().to_owned())
        }
        _ => None,
    }
}

/// Drops both links and waits until the engine has reconnected and
/// resynced.
async fn bounce_links(sim: &twp_pbx_sim::Simulator, tel: &Telephony) {
    let mut sub = tel.subscribe(Filter::All, 4096, None).unwrap();
    assert_eq!(sim.drop_links(None), 2);
    let mut up = [false, false];
    while up != [true, true] {
        let e = until(&mut sub, "a link back up", |e| {
            matches!(
                e,
                TelephonyEvent::LinkStateChanged {
                    connected: true,
                    ..
                }
            )
        })
        .await;
        if let TelephonyEvent::LinkStateChanged { link, .. } = e.event {
            up[link] = true;
        }
    }
    assert!(tel.wait_synced(Duration::from_secs(10)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_trace_keeps_its_pdus_only_through_a_link_loss() {
    let (sim, addrs) = sim().await;
    let tel = engine(&addrs).await;
    let dir = scratch("device");
    let started = tel.start_trace(spec("1000", &dir)).await.unwrap();
    assert!(started.running);
    assert_eq!(started.files.len(), 1);

    tel.set_do_not_disturb("1000", true).await.unwrap();
    tel.set_do_not_disturb("1005", true).await.unwrap();
    sim.external_call("0611111111", "1002").unwrap();
    bounce_links(&sim, &tel).await;
    tel.set_do_not_disturb("1000", false).await.unwrap();
    sim.external_call("0622222222", "1000").unwrap();
    eventually("1000 rings", || {
        !tel.device("1000").unwrap().calls.is_empty()
    })
    .await;

    let status = tel.stop_trace().await.unwrap();
    assert!(!status.running);
    assert_eq!(status.stop_reason.as_deref(), Some("stopped"));
    assert_eq!(status.records_dropped, 0);
    let recs = records(&status);
    assert_eq!(recs.len() as u64, status.records_written);

    // Each request for 1000 and its answer, with the same invoke id.
    let dnd: Vec<&Rec> = recs
        .iter()
        .filter(|r| matches!(r.msg, Message::Request(Request::SetDoNotDisturb { .. })))
        .collect();
    assert_eq!(dnd.len(), 2, "{recs:#?}");
    for req in dnd {
        assert!(req.sent);
        assert!(recs.iter().any(|r| !r.sent
            && r.invoke == req.invoke
            && matches!(r.msg, Message::Response(Response::SetDoNotDisturb))));
    }
    // Re-monitored once after the loss, answer included.
    let starts: Vec<&Rec> = recs
        .iter()
        .filter(|r| monitor_start_of(r).is_some())
        .collect();
    assert_eq!(starts.len(), 1, "{recs:#?}");
    assert_eq!(monitor_start_of(starts[0]).as_deref(), Some("1000"));
    assert!(recs.iter().any(|r| !r.sent
        && r.invoke == starts[0].invoke
        && matches!(r.msg, Message::Response(Response::MonitorStart { .. }))));
    // Events before and after the loss.
    let events: Vec<&Rec> = recs
        .iter()
        .filter(|r| matches!(r.msg, Message::Event(_)))
        .collect();
    assert!(events.len() >= 3, "{recs:#?}");
    assert!(
        events
            .iter()
            .any(|r| devices_of(&r.msg).contains(&"0622222222".to_owned()))
    );
    // Nothing about 1005 or 1002, no session traffic.
    for r in &recs {
        let devices = devices_of(&r.msg);
        assert!(!devices.iter().any(|d| d == "1005" || d == "1002"), "{r:?}");
        assert!(!is_session(&r.msg), "{r:?}");
    }
    tel.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_star_trace_keeps_everything_and_rotates_its_files() {
    let (sim, addrs) = sim().await;
    let tel = engine(&addrs).await;
    let dir = scratch("star");
    let spec = TraceSpec {
        max_file_bytes: 4096,
        max_files: 3,
        ..spec("*", &dir)
    };
    tel.start_trace(spec).await.unwrap();
    bounce_links(&sim, &tel).await;
    let status = tel.stop_trace().await.unwrap();

    // Rotation: the oldest files are gone, three are kept, none too big.
    assert_eq!(status.files.len(), 3, "{status:#?}");
    let mut on_disk: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, status.files);
    assert!(!status.files[0].to_string_lossy().ends_with("-0001.log"));
    for f in &status.files {
        assert!(std::fs::metadata(f).unwrap().len() <= 4096, "{f:?}");
    }
    assert!(status.bytes_written > 3 * 4096);

    // What is kept decodes.
    let recs = records(&status);
    assert!(!recs.is_empty());
    let text = std::fs::read_to_string(&status.files[2]).unwrap();
    assert!(text.trim_end().ends_with("dropped"), "footer last");

    // The whole resync is in a trace with room for it.
    let dir2 = scratch("star-all");
    tel.start_trace(spec_all(&dir2)).await.unwrap();
    bounce_links(&sim, &tel).await;
    let status = tel.stop_trace().await.unwrap();
    let recs = records(&status);
    let mut monitored: Vec<String> = recs.iter().filter_map(monitor_start_of).collect();
    monitored.sort();
    monitored.dedup();
    assert_eq!(monitored.len(), 32);
    let text = std::fs::read_to_string(&status.files[0]).unwrap();
    assert!(text.contains(" link=0 ") && text.contains(" link=1 "));
    assert!(recs.iter().any(|r| r.sent
        && matches!(
            r.msg,
            Message::Request(Request::StartApplicationSession { .. })
        )));
    tel.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&dir2).unwrap();
}

fn spec_all(dir: &Path) -> TraceSpec {
    spec("*", dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_duration_and_replacement() {
    let (_sim, addrs) = sim().await;
    let tel = engine(&addrs).await;
    assert_eq!(tel.trace_status(), None);
    assert_eq!(tel.stop_trace().await, None);
    let dir = scratch("stop");

    // Stopped: later traffic is not written.
    tel.start_trace(spec("1000", &dir)).await.unwrap();
    tel.set_do_not_disturb("1000", true).await.unwrap();
    // The switch's event follows its answer.
    eventually("the DoNotDisturb event traced", || {
        tel.trace_status().unwrap().records_written == 3
    })
    .await;
    let stopped = tel.stop_trace().await.unwrap();
    let size = std::fs::metadata(&stopped.files[0]).unwrap().len();
    assert_eq!(size, stopped.bytes_written);
    assert_eq!(stopped.records_written, 3, "request, answer, event");
    tel.set_do_not_disturb("1000", false).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(std::fs::metadata(&stopped.files[0]).unwrap().len(), size);
    assert_eq!(tel.trace_status(), Some(stopped.clone()));
    assert_eq!(tel.stop_trace().await, Some(stopped));

    // Replaced: the first trace ends, the second runs.
    let first = tel.start_trace(spec("1000", &dir)).await.unwrap();
    let second = tel.start_trace(spec("*", &dir)).await.unwrap();
    assert!(second.running);
    let first_text = std::fs::read_to_string(&first.files[0]).unwrap();
    assert!(
        first_text.contains("(replaced by a new trace)"),
        "{first_text}"
    );

    // Duration: it stops by itself.
    let timed = TraceSpec {
        duration: Some(Duration::from_millis(200)),
        ..spec("1001", &dir)
    };
    tel.start_trace(timed).await.unwrap();
    assert!(tel.trace_status().unwrap().running);
    eventually("trace expired", || !tel.trace_status().unwrap().running).await;
    let expired = tel.trace_status().unwrap();
    assert_eq!(
        expired.stop_reason.as_deref(),
        Some("duration of 200ms elapsed")
    );
    assert_eq!(expired.error, None);
    tel.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_specs_and_write_failures_stop_the_trace_not_the_links() {
    let (_sim, addrs) = sim().await;
    let tel = engine(&addrs).await;
    let dir = scratch("fail");

    assert!(matches!(
        "".parse::<TraceTarget>(),
        Err(TraceError::InvalidSpec {
            field: "device",
            ..
        })
    ));
    assert_eq!(
        tel.start_trace(spec("555", &dir)).await,
        Err(TraceError::UnknownDevice {
            device: "555".into()
        })
    );
    let zero = TraceSpec {
        max_files: 0,
        ..spec("*", &dir)
    };
    assert!(matches!(
        tel.start_trace(zero).await,
        Err(TraceError::InvalidSpec {
            field: "max_files",
            ..
        })
    ));

    // A missing directory: refused, and the status says why.
    let missing = dir.join("missing");
    let err = tel.start_trace(spec("*", &missing)).await.unwrap_err();
    assert!(matches!(&err, TraceError::Io { path, .. } if path.starts_with(&missing)));
    let status = tel.trace_status().unwrap();
    assert!(!status.running);
    assert!(status.error.unwrap().contains("No such file"));

    // The directory vanishes mid-trace: the next file cannot be created.
    let doomed = dir.join("doomed");
    std::fs::create_dir(&doomed).unwrap();
    let small = TraceSpec {
        max_file_bytes: 300,
        ..spec("1000", &doomed)
    };
    tel.start_trace(small).await.unwrap();
    std::fs::remove_dir_all(&doomed).unwrap();
    for on in [true, false, true] {
        tel.set_do_not_disturb("1000", on).await.unwrap();
    }
    eventually("trace stopped by the write error", || {
        !tel.trace_status().unwrap().running
    })
    .await;
    let status = tel.trace_status().unwrap();
    let error = status.error.clone().unwrap();
    assert!(
        error.contains("doomed") && error.contains("No such file"),
        "{error}"
    );
    assert_eq!(status.stop_reason, status.error);
    // The links carry on.
    tel.set_do_not_disturb("1000", false).await.unwrap();
    assert!(tel.providers().iter().all(|p| p.connected));
    // stop_trace after the writer died: the status stays the error's.
    assert_eq!(tel.stop_trace().await.unwrap().error, Some(error));
    tel.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_queue_drops_records_and_accounts_for_each() {
    let (sim, addrs) = sim().await;
    let tel = engine(&addrs).await;
    let dir = scratch("tiny");
    let tiny = TraceSpec {
        queue_capacity: 1,
        ..spec("*", &dir)
    };
    tel.start_trace(tiny).await.unwrap();
    // A resync burst: hundreds of PDUs within milliseconds.
    bounce_links(&sim, &tel).await;
    let status = tel.stop_trace().await.unwrap();
    assert!(tel.providers().iter().all(|p| p.connected && p.synced));
    let text = std::fs::read_to_string(&status.files[0]).unwrap();
    let records = text
        .lines()
        .filter(|l| twp_csta::TraceLine::parse(l).is_ok())
        .count() as u64;
    assert_eq!(records, status.records_written);
    eprintln!(
        "written {}, dropped {}",
        status.records_written, status.records_dropped
    );
    // Every drop is noted in the file, and the total is in the status.
    let noted: u64 = text
        .lines()
        .filter_map(|l| l.split_once(" trace: "))
        .map(|(_, rest)| rest.split(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(noted, status.records_dropped);
    assert!(text.trim_end().ends_with(&format!(
        "{} record(s) written, {} dropped",
        status.records_written, status.records_dropped
    )));
    // 8 PDUs per device at least went past the tap.
    assert!(status.records_written + status.records_dropped >= 32 * 8);
    tel.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
