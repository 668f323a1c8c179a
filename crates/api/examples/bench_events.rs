//! Benchmark: sustained call load through the whole path — the PBX
//! simulator's CSTA frames → links → call model → event bus → the API's
//! WebSocket → clients parsing the JSON — and, in the same run, the
//! simulator's own emission ceiling (a bare CSTA client monitoring every
//! extension, no TWP in between), with the ratio.
//!
//! ```text
//! cargo run --release -p twp-api --example bench_events -- \
//!     [--cps 1000] [--seconds 10] [--extensions 2000] [--links 2] [--clients 4]
//! ```
//!
//! Latency runs per call from just before the simulator acts (outside
//! call, answer, clear) to a WebSocket client receiving the extension's
//! call event (alerting, connected, ended). Issue 3 target: ≥ 1,000
//! calls/s (about 6 events each) with p99 under 10 ms.

#![allow(clippy::unwrap_used)] // a benchmark stops loudly on any failure

mod common;

use common::login;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::Client;
use serde_json::{Value, json};
use twp_api::crypto::SecretBox;
use twp_api::{ApiSettings, AppState, bootstrap};
use twp_pbx_sim::{DeviceConfig, LoadConfig, SimConfig, run};
use twp_store::Backend;
use twp_store::testing::TestDb;

struct Args {
    cps: u32,
    seconds: u64,
    extensions: usize,
    links: usize,
    clients: usize,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        cps: 1000,
        seconds: 10,
        extensions: 2000,
        links: 2,
        clients: 4,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let n: u64 = value
            .parse()
            .map_err(|_| format!("{flag}: {value:?} is not a number"))?;
        match flag.as_str() {
            "--cps" => a.cps = n.clamp(1, 100_000) as u32,
            "--seconds" => a.seconds = n.max(1),
            "--extensions" => a.extensions = (n as usize).max(1),
            "--links" => a.links = (n as usize).max(1),
            "--clients" => a.clients = (n as usize).max(1),
            _ => return Err(format!("unknown option {flag} (see the file's header)")),
        }
    }
    Ok(a)
}

#[derive(serde::Deserialize)]
struct Msg<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow, default)]
    call: Option<CallMsg<'a>>,
}

#[derive(serde::Deserialize)]
struct CallMsg<'a> {
    #[serde(rename = "callId")]
    call_id: &'a str,
    state: &'a str,
}

type Stamps = Arc<Mutex<HashMap<String, [Option<Instant>; 3]>>>;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(((sorted.len() - 1) as f64 * p).round() as usize).min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench_events: {e}");
            std::process::exit(2);
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let command: Vec<String> = std::env::args().collect();
    println!("command: {}", command.join(" "));
    println!(
        "cores: {cores}; profile: {}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    let ceiling = simulator_ceiling(args.extensions).await;
    full_path(&args, ceiling).await;
}

/// The simulator alone: calls per second it completes and events per
/// second a bare CSTA client receives, asked for far more than it can do.
async fn simulator_ceiling(extensions: usize) -> (f64, f64) {
    eprintln!("[1/2] simulator ceiling: a bare CSTA client, 8,000 calls/s asked for 3 s…");
    let cfg = SimConfig {
        external_answer_after: None,
        monitors_per_link: usize::MAX,
        ..SimConfig::default()
    }
    .with_extensions(100_000, extensions as u64, "1.1");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = run(cfg, async move {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    let sim = running.simulator.clone();
    let (link, mut events) = twp_csta::Link::connect(
        running.addrs[0],
        twp_csta::LinkConfig {
            heartbeat_interval: None,
            event_capacity: 1 << 20,
            ..twp_csta::LinkConfig::default()
        },
    )
    .await
    .unwrap();
    let mut pending = tokio::task::JoinSet::new();
    for n in 100_000..100_000 + extensions {
        let link = link.clone();
        pending.spawn(async move {
            link.monitor_start(&twp_csta::DeviceId::new(n.to_string()))
                .await
        });
        if pending.len() >= 256 {
            pending.join_next().await.unwrap().unwrap().unwrap();
        }
    }
    while let Some(r) = pending.join_next().await {
        r.unwrap().unwrap();
    }
    let counter = tokio::spawn(async move {
        let mut n = 0u64;
        while let Ok(Some(twp_csta::LinkEvent::Event(_))) =
            tokio::time::timeout(Duration::from_secs(2), events.recv()).await
        {
            n += 1;
        }
        n
    });
    let report = sim
        .run_load(LoadConfig {
            calls_per_second: 8000,
            duration: Duration::from_secs(3),
            ring_time: Duration::from_millis(5),
            talk_time: Duration::from_millis(5),
            ..LoadConfig::default()
        })
        .await;
    let received = counter.await.unwrap();
    let secs = report.elapsed.as_secs_f64();
    let _ = stop.send(());
    let _ = running.task.await;
    (report.completed as f64 / secs, received as f64 / secs)
}

async fn full_path(args: &Args, (ceiling_cps, ceiling_eps): (f64, f64)) {
    eprintln!(
        "[2/2] full path: {} extensions over {} links, {} WebSocket clients…",
        args.extensions, args.links, args.clients
    );
    let mut sim_cfg = SimConfig {
        listen: vec![SocketAddr::from(([127, 0, 0, 1], 0)); args.links],
        external_answer_after: None,
        no_answer_timeout: Duration::from_secs(3600),
        monitors_per_link: args.extensions + 16,
        ..SimConfig::default()
    };
    let numbers: Vec<String> = (0..args.extensions)
        .map(|i| (100_000 + i).to_string())
        .collect();
    for n in &numbers {
        sim_cfg = sim_cfg.with_device(DeviceConfig::extension(n.clone(), "1.1"));
    }
    let running = run(sim_cfg, std::future::pending()).await.unwrap();
    let sim = running.simulator.clone();

    let db = TestDb::new(Backend::Sqlite).await;
    bootstrap::ensure_boot_admin(&db.store).await.unwrap();
    let state = AppState::new(
        db.store.clone(),
        SecretBox::from_base64(&SecretBox::generate_key()).unwrap(),
        ApiSettings::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap();
    tokio::spawn(twp_api::serve(listener, state, std::future::pending()));
    let base = format!("http://{host}");
    let http = Client::new();
    let token = login(&http, &base).await;
    let auth = format!("Bearer {token}");
    let post = |path: String, body: Value| {
        let (http, auth, base) = (http.clone(), auth.clone(), base.clone());
        async move {
            let r = http
                .post(format!("{base}{path}"))
                .header("authorization", auth)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            assert!(status.is_success(), "{path}: {status} {v}");
            v
        }
    };
    let cid = post("/api/v1/companies".into(), json!({"name": "Bench"})).await["id"]
        .as_i64()
        .unwrap();
    let did = post(
        format!("/api/v1/companies/{cid}/domains"),
        json!({"name": "Bench", "numberingPlanLength": 6}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    eprintln!(
        "      creating {} users with their phones through the API…",
        numbers.len()
    );
    let mut creating = tokio::task::JoinSet::new();
    for (i, n) in numbers.iter().enumerate() {
        creating.spawn(post(format!("/api/v1/companies/{cid}/users"), json!({"domainId": did, "userName": format!("u{i}"), "devices": [{"number": n, "site": "1.1"}]})));
        if creating.len() >= 8 {
            creating.join_next().await.unwrap().unwrap();
        }
    }
    while creating.join_next().await.is_some() {}
    for (i, a) in running.addrs.iter().enumerate() {
        let role = if i == 0 { "csta" } else { "supervision" };
        post(
            format!("/api/v1/companies/{cid}/domains/{did}/links"),
            json!({"role": role, "host": a.ip().to_string(), "port": a.port(), "capacity": args.extensions}),
        )
        .await;
    }
    let t = Instant::now();
    post(
        format!("/api/v1/companies/{cid}/domains/{did}/telephony/restart"),
        json!({}),
    )
    .await;
    loop {
        let p: Value = http
            .get(format!("{base}/api/v1/telephony/providers"))
            .header("authorization", &auth)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if p.as_array()
            .is_some_and(|l| l.iter().all(|x| x["synced"] == true))
        {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "devices not monitored in time: {p}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "      {} devices monitored and resynced in {:?}",
        numbers.len(),
        t.elapsed()
    );

    let stamps: Stamps = Arc::new(Mutex::new(HashMap::new()));
    let received = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for _ in 0..args.clients {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = format!("ws://{host}/api/v1/companies/{cid}/domains/{did}/events/ws")
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("authorization", auth.parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        let (stamps, received) = (stamps.clone(), received.clone());
        clients.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut close = None;
            while let Some(Ok(m)) = ws.next().await {
                match m {
                    tokio_tungstenite::tungstenite::Message::Text(t) => {
                        // what a client reads of a message: its type, and a call's id and state
                        let v: Msg = serde_json::from_str(&t).unwrap();
                        if v.kind == "hello" {
                            continue;
                        }
                        received.fetch_add(1, Ordering::Relaxed);
                        let Some(call) = v.call else { continue };
                        let stage = match call.state {
                            "alerting" => 0,
                            "connected" => 1,
                            "null" => 2,
                            _ => continue,
                        };
                        if let Some(at) = stamps
                            .lock()
                            .ok()
                            .and_then(|m| m.get(call.call_id).and_then(|s| s[stage]))
                        {
                            lat.push(at.elapsed());
                        }
                    }
                    tokio_tungstenite::tungstenite::Message::Close(f) => {
                        close = f.map(|f| format!("{} {}", u16::from(f.code), f.reason));
                        break;
                    }
                    _ => {}
                }
            }
            (lat, close)
        }));
    }

    let ring = Duration::from_millis(200);
    let talk = Duration::from_millis(500);
    let sim_sent_before = sim.events_sent();
    let started = Instant::now();
    let until = Duration::from_secs(args.seconds);
    let offered = Arc::new(AtomicU64::new(0));
    let completed = Arc::new(AtomicU64::new(0));
    let mut ticker = tokio::time::interval(Duration::from_millis(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut calls = tokio::task::JoinSet::new();
    let (mut next, mut caller, mut busy) = (0usize, 6_000_000_000u64, 0u64);
    let mut last_progress = Instant::now();
    while started.elapsed() < until {
        ticker.tick().await;
        if last_progress.elapsed() >= Duration::from_secs(1) {
            last_progress = Instant::now();
            eprintln!(
                "      {:>3} s: {} calls offered, {} events delivered",
                started.elapsed().as_secs(),
                offered.load(Ordering::Relaxed),
                received.load(Ordering::Relaxed)
            );
        }
        let due = (started.elapsed().as_secs_f64() * f64::from(args.cps)) as u64;
        while offered.load(Ordering::Relaxed) + busy < due {
            let target = numbers[next % numbers.len()].clone();
            next += 1;
            if sim.device(&target).is_none_or(|d| !d.calls.is_empty()) {
                busy += 1;
                continue;
            }
            caller += 1;
            offered.fetch_add(1, Ordering::Relaxed);
            let from = caller.to_string();
            let (sim, stamps, completed) = (sim.clone(), stamps.clone(), completed.clone());
            calls.spawn(async move {
                let call = {
                    let Ok(mut m) = stamps.lock() else { return };
                    let at = Instant::now();
                    let Ok(call) = sim.external_call(&from, &target) else {
                        return;
                    };
                    m.insert(call.clone(), [Some(at), None, None]);
                    call
                };
                tokio::time::sleep(ring).await;
                if let Ok(mut m) = stamps.lock()
                    && let Some(s) = m.get_mut(&call)
                {
                    s[1] = Some(Instant::now());
                }
                let answered = sim.answer(&target).is_ok();
                tokio::time::sleep(talk).await;
                if let Ok(mut m) = stamps.lock()
                    && let Some(s) = m.get_mut(&call)
                {
                    s[2] = Some(Instant::now());
                }
                if answered && sim.clear(&call, &from).is_ok() {
                    completed.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        while calls.try_join_next().is_some() {}
    }
    while calls.join_next().await.is_some() {}
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sim_sent = sim.events_sent() - sim_sent_before;
    let delivered = received.load(Ordering::Relaxed);
    // a restart ends every stream (close 4009), which stops the clients
    post(
        format!("/api/v1/companies/{cid}/domains/{did}/telephony/restart"),
        json!({}),
    )
    .await;
    let mut all = Vec::new();
    let mut closes = Vec::new();
    for c in clients {
        let (lat, close) = c.await.unwrap();
        all.extend(lat);
        closes.push(close.unwrap_or_else(|| "none".into()));
    }
    all.sort_unstable();
    let secs = args.seconds as f64;
    let offered = offered.load(Ordering::Relaxed);
    println!(
        "load: {} calls/s asked for {} s, {} extensions, {} links, {} WebSocket clients (every event each); ring {ring:?}, talk {talk:?}",
        args.cps, args.seconds, args.extensions, args.links, args.clients
    );
    println!(
        "calls: {offered} offered ({:.0}/s), {} completed, {busy} skipped (target busy)",
        offered as f64 / secs,
        completed.load(Ordering::Relaxed)
    );
    let per_client = delivered as f64 / args.clients as f64;
    println!(
        "PBX CSTA events sent: {sim_sent} ({:.0}/s); events delivered over WebSocket: {delivered} ({:.0}/s per client, {:.1} per call); stream ends: {}",
        sim_sent as f64 / secs,
        per_client / secs,
        per_client / offered.max(1) as f64,
        closes.join(", ")
    );
    println!(
        "PBX action → WebSocket client latency over {} samples: p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}",
        all.len(),
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        percentile(&all, 0.999),
        all.last().copied().unwrap_or_default()
    );
    println!(
        "simulator ceiling (bare CSTA client, same machine): {ceiling_cps:.0} calls/s, {ceiling_eps:.0} CSTA events/s; this run used {:.0} % of its calls/s",
        100.0 * offered as f64 / secs / ceiling_cps.max(1.0)
    );
}
