//! Sustained call load through the engine: the simulator's outside callers
//! ring extensions, which answer and are cleared; CSTA frames → engine
//! state → event bus → subscribers. Prints calls and events per second and
//! the latency from the PBX action to the subscriber receiving its event.
//!
//! ```text
//! cargo run --release -p twp-telephony --example bench_calls -- \
//!     [--cps 1000] [--seconds 10] [--extensions 2000] [--links 2] [--subscribers 4]
//! ```
//!
//! Latency is measured per call from just before the simulator acts
//! (outside call, answer, clear) to a subscriber receiving the extension's
//! call event (alerting, connected, ended). There is no HTTP/WebSocket
//! hop here (the API crate adds it).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use twp_pbx_sim::{SimConfig, run};
use twp_telephony::{
    DeviceSettings, Filter, LinkSettings, LocalConnectionState as S, SiteCluster, Telephony,
    TelephonyConfig, TelephonyEvent,
};

struct Args {
    cps: u32,
    seconds: u64,
    extensions: usize,
    links: usize,
    subscribers: usize,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        cps: 1000,
        seconds: 10,
        extensions: 2000,
        links: 2,
        subscribers: 4,
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
            "--subscribers" => a.subscribers = (n as usize).max(1),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

type Stamps = Arc<Mutex<HashMap<String, [Option<Instant>; 3]>>>;

fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench_calls: {e}");
            std::process::exit(2);
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("bench_calls: no runtime: {e}");
            std::process::exit(1);
        });
    runtime.block_on(bench(args, cores));
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn bench(args: Args, cores: usize) {
    let mut sim_cfg = SimConfig {
        listen: vec![SocketAddr::from(([127, 0, 0, 1], 0)); args.links],
        external_answer_after: None,
        no_answer_timeout: Duration::from_secs(3600),
        monitors_per_link: args.extensions + 16,
        ..SimConfig::default()
    };
    let mut devices = Vec::new();
    let mut numbers = Vec::new();
    for i in 0..args.extensions {
        let number = (100_000 + i).to_string();
        sim_cfg = sim_cfg.with_device(twp_pbx_sim::DeviceConfig::extension(number.clone(), "1.1"));
        devices.push(DeviceSettings::new(number.clone(), SiteCluster::new(1, 1)));
        numbers.push(number);
    }
    let running = match run(sim_cfg, std::future::pending()).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench_calls: simulator: {e}");
            std::process::exit(1);
        }
    };
    let sim = running.simulator.clone();
    let mut cfg = TelephonyConfig::new("bench");
    cfg.links = running
        .addrs
        .iter()
        .map(|a| LinkSettings::csta(a.ip().to_string(), a.port(), args.extensions))
        .collect();
    cfg.devices = devices;
    cfg.heartbeat_interval = None;
    cfg.history = 4096;
    let tel = match Telephony::start(cfg) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("bench_calls: {e}");
            std::process::exit(1);
        }
    };
    if !tel.wait_synced(Duration::from_secs(120)).await {
        eprintln!("bench_calls: devices not monitored in time");
        std::process::exit(1);
    }

    let stamps: Stamps = Arc::new(Mutex::new(HashMap::new()));
    let received = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::new();
    for _ in 0..args.subscribers {
        let mut sub = match tel.subscribe(Filter::All, 1 << 20, None) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("bench_calls: {e}");
                std::process::exit(1);
            }
        };
        let stamps = stamps.clone();
        let received = received.clone();
        readers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut lagged = None;
            loop {
                match sub.recv().await {
                    Ok(env) => {
                        received.fetch_add(1, Ordering::Relaxed);
                        if let TelephonyEvent::CallStateChanged { call, .. } = &env.event {
                            let stage = match call.state {
                                S::Alerting => 0,
                                S::Connected => 1,
                                S::Null => 2,
                                _ => continue,
                            };
                            let at = stamps
                                .lock()
                                .ok()
                                .and_then(|m| m.get(&call.call_id).and_then(|s| s[stage]));
                            if let Some(at) = at {
                                lat.push(at.elapsed());
                            }
                        }
                    }
                    Err(reason) => {
                        if matches!(reason, twp_telephony::CloseReason::Lagged { .. }) {
                            lagged = Some(reason);
                        }
                        break;
                    }
                }
            }
            (lat, lagged)
        }));
    }

    let ring = Duration::from_millis(200);
    let talk = Duration::from_millis(500);
    let events_before = tel.bus().last_seq();
    let sim_sent_before = sim.events_sent();
    let started = Instant::now();
    let until = Duration::from_secs(args.seconds);
    let offered = Arc::new(AtomicU64::new(0));
    let completed = Arc::new(AtomicU64::new(0));
    let mut ticker = tokio::time::interval(Duration::from_millis(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut calls = tokio::task::JoinSet::new();
    let mut next = 0usize;
    let mut caller = 6_000_000_000u64;
    let mut busy_skips = 0u64;
    while started.elapsed() < until {
        ticker.tick().await;
        let due = (started.elapsed().as_secs_f64() * f64::from(args.cps)) as u64;
        while offered.load(Ordering::Relaxed) + busy_skips < due {
            let target = numbers[next % numbers.len()].clone();
            next += 1;
            if sim.device(&target).is_none_or(|d| !d.calls.is_empty()) {
                busy_skips += 1;
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
    // Let the last events arrive.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let events = tel.bus().last_seq() - events_before;
    let sim_sent = sim.events_sent() - sim_sent_before;
    let delivered = received.load(Ordering::Relaxed);
    tel.shutdown().await;
    let mut all = Vec::new();
    let mut lagged = 0;
    for r in readers {
        if let Ok((lat, l)) = r.await {
            all.extend(lat);
            lagged += usize::from(l.is_some());
        }
    }
    all.sort_unstable();

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
    println!(
        "load: {} calls/s for {} s over {} links, {} extensions, {} subscribers (all events each); ring {:?}, talk {:?}",
        args.cps, args.seconds, args.links, args.extensions, args.subscribers, ring, talk
    );
    let offered = offered.load(Ordering::Relaxed);
    println!(
        "calls: {offered} offered ({:.0}/s), {} completed, {busy_skips} skipped (target busy)",
        offered as f64 / args.seconds as f64,
        completed.load(Ordering::Relaxed)
    );
    let secs = args.seconds as f64;
    println!(
        "PBX CSTA events sent: {sim_sent} ({:.0}/s of load); bus events: {events} ({:.0}/s, {:.1} per call); delivered to subscribers: {}; lagged subscribers: {lagged}",
        sim_sent as f64 / secs,
        events as f64 / secs,
        events as f64 / offered.max(1) as f64,
        delivered,
    );
    println!(
        "PBX action → subscriber latency over {} samples: p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}",
        all.len(),
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        percentile(&all, 0.999),
        all.last().copied().unwrap_or_default()
    );
}
