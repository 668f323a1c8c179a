//! What a PDU trace costs the links: time to re-monitor and resync N
//! devices after every link of the in-process simulator drops, with no
//! trace, a trace of one device, and a trace of everything (`*`).
//!
//! ```text
//! cargo run --release -p twp-telephony --example bench_trace -- \
//!     [--devices 20000] [--links 4] [--rounds 3] [--queue 8192]
//! ```
//!
//! A resync is 4 requests per device (MonitorStart, SnapshotDevice,
//! GetDoNotDisturb, GetForwarding), so 8 PDUs per device go through the
//! tap. Rounds alternate the three modes; the median of each is printed,
//! with the records written and dropped by the traces (the files go to a
//! temporary directory, removed afterwards).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use twp_pbx_sim::{SimConfig, Simulator, run};
use twp_telephony::backoff::Backoff;
use twp_telephony::{
    DeviceSettings, Filter, LinkSettings, SiteCluster, SitePattern, Telephony, TelephonyConfig,
    TelephonyEvent, TraceSpec, TraceStatus, TraceTarget,
};

struct Args {
    devices: usize,
    links: usize,
    rounds: usize,
    queue: usize,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        devices: 20_000,
        links: 4,
        rounds: 3,
        queue: 8192,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let n = value
            .parse::<usize>()
            .map_err(|_| format!("{flag}: {value:?} is not a number"))?;
        match flag.as_str() {
            "--devices" => a.devices = n.max(1),
            "--links" => a.links = n.max(1),
            "--rounds" => a.rounds = n.max(1),
            "--queue" => a.queue = n.max(1),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

fn fail(what: &str) -> ! {
    eprintln!("bench_trace: {what}");
    std::process::exit(1);
}

fn main() {
    let args = parse().unwrap_or_else(|e| {
        eprintln!("bench_trace: {e}");
        std::process::exit(2);
    });
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("no runtime: {e}")));
    runtime.block_on(bench(args, cores));
}

/// Drops every link and waits until all are back and resynced.
async fn bounce(sim: &Simulator, tel: &Telephony, links: usize) -> Duration {
    let mut sub = tel
        .subscribe(Filter::All, 1 << 20, None)
        .unwrap_or_else(|e| fail(&e.to_string()));
    let started = Instant::now();
    sim.drop_links(None);
    let mut down = vec![false; links];
    while down.iter().any(|d| !d) {
        match sub.recv().await {
            Ok(e) => {
                if let TelephonyEvent::LinkStateChanged {
                    link,
                    connected: false,
                    ..
                } = e.event
                {
                    down[link] = true;
                }
            }
            Err(e) => fail(&format!("subscription closed: {e}")),
        }
    }
    drop(sub);
    if !tel.wait_synced(Duration::from_secs(600)).await {
        fail("not resynced within 600 s");
    }
    started.elapsed()
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn bench(args: Args, cores: usize) {
    let per_link = args.devices.div_ceil(args.links);
    let mut sim_cfg = SimConfig {
        listen: vec![SocketAddr::from(([127, 0, 0, 1], 0)); args.links],
        monitors_per_link: per_link + 16,
        external_answer_after: None,
        ..SimConfig::default()
    };
    let first = 100_000u64;
    let mut devices = Vec::with_capacity(args.devices);
    for i in 0..args.devices {
        let site = (i % args.links) as u32 + 1;
        let number = (first + i as u64).to_string();
        sim_cfg = sim_cfg.with_device(twp_pbx_sim::DeviceConfig::extension(
            number.clone(),
            format!("{site}.1"),
        ));
        devices.push(DeviceSettings::new(number, SiteCluster::new(site, 1)));
    }
    let running = run(sim_cfg, std::future::pending())
        .await
        .unwrap_or_else(|e| fail(&format!("simulator: {e}")));
    let mut cfg = TelephonyConfig::new("bench");
    cfg.links = running
        .addrs
        .iter()
        .enumerate()
        .map(|(k, a)| {
            LinkSettings::csta(a.ip().to_string(), a.port(), per_link).with_sites(&[SitePattern {
                site: k as u32 + 1,
                cluster: None,
            }])
        })
        .collect();
    cfg.devices = devices;
    cfg.heartbeat_interval = None;
    cfg.request_timeout = Duration::from_secs(30);
    cfg.history = 1024;
    cfg.backoff = Backoff {
        initial: Duration::from_millis(1),
        max: Duration::from_millis(1),
        jitter: 0.0,
    };
    let tel = Telephony::start(cfg).unwrap_or_else(|e| fail(&e.to_string()));
    if !tel.wait_synced(Duration::from_secs(600)).await {
        fail("not synced within 600 s");
    }
    let dir: PathBuf = std::env::temp_dir().join(format!("twp-bench-trace-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| fail(&format!("{}: {e}", dir.display())));

    let modes: [(&str, Option<TraceTarget>); 3] = [
        ("no trace", None),
        (
            "trace of one device",
            Some(TraceTarget::Device(first.to_string())),
        ),
        ("trace of * (all)", Some(TraceTarget::All)),
    ];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); modes.len()];
    let mut last: Vec<Option<TraceStatus>> = vec![None; modes.len()];
    for _ in 0..args.rounds {
        for (m, (_, target)) in modes.iter().enumerate() {
            if let Some(target) = target {
                let spec = TraceSpec {
                    queue_capacity: args.queue,
                    max_file_bytes: 64 * 1024 * 1024,
                    max_files: 4,
                    ..TraceSpec::new(target.clone(), &dir)
                };
                tel.start_trace(spec)
                    .await
                    .unwrap_or_else(|e| fail(&e.to_string()));
            }
            times[m].push(bounce(&running.simulator, &tel, args.links).await);
            if target.is_some() {
                last[m] = tel.stop_trace().await;
                let _ = std::fs::remove_dir_all(&dir);
                let _ = std::fs::create_dir_all(&dir);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);

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
        "devices: {}, links: {}, rounds: {}, trace queue: {} records; 8 PDUs per device per resync",
        args.devices, args.links, args.rounds, args.queue
    );
    let base = median(&mut times[0].clone());
    for (m, (name, _)) in modes.iter().enumerate() {
        let t = median(&mut times[m]);
        let pdus = (args.devices * 8) as f64 / t.as_secs_f64();
        let mut line = format!(
            "{name:>20}: resync {:.3} s median ({pdus:.0} PDUs/s), {:+.1} % vs no trace",
            t.as_secs_f64(),
            (t.as_secs_f64() / base.as_secs_f64() - 1.0) * 100.0
        );
        if let Some(s) = &last[m] {
            line.push_str(&format!(
                "; last round: {} records written, {} dropped, {:.1} MB",
                s.records_written,
                s.records_dropped,
                s.bytes_written as f64 / 1e6
            ));
        }
        println!("{line}");
    }
    tel.shutdown().await;
}
