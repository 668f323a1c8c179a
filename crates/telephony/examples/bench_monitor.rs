//! Time to monitor N devices over L links of the in-process simulator, and
//! resident memory per device.
//!
//! ```text
//! cargo run --release -p twp-telephony --example bench_monitor -- \
//!     [--devices 50000] [--links 10] [--resync all|calls|none] [--window 256]
//! ```
//!
//! The memory figure is the growth of this process's VmRSS from just before
//! the engine starts to just after every device is monitored and resynced.
//! The simulator runs in the same process (its PBX model is built before
//! the first reading, its monitor tables grow during the run), so the
//! figure is an upper bound for the engine alone.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use twp_pbx_sim::{SimConfig, run};
use twp_telephony::{
    DeviceSettings, LinkSettings, Resync, SiteCluster, SitePattern, Telephony, TelephonyConfig,
};

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct Args {
    devices: usize,
    links: usize,
    resync: Resync,
    resync_name: String,
    window: usize,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        devices: 50_000,
        links: 10,
        resync: Resync::default(),
        resync_name: "all".into(),
        window: 256,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag}: {value:?} is not a number"))
        };
        match flag.as_str() {
            "--devices" => a.devices = number()?,
            "--links" => a.links = number()?.max(1),
            "--window" => a.window = number()?.max(1),
            "--resync" => {
                a.resync = match value.as_str() {
                    "all" => Resync::default(),
                    "calls" => Resync {
                        calls: true,
                        features: false,
                    },
                    "none" => Resync {
                        calls: false,
                        features: false,
                    },
                    _ => return Err("--resync takes all, calls or none".into()),
                };
                a.resync_name = value;
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench_monitor: {e}");
            std::process::exit(2);
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("bench_monitor: no runtime: {e}");
            std::process::exit(1);
        });
    runtime.block_on(bench(args, cores));
}

async fn bench(args: Args, cores: usize) {
    let per_link = args.devices.div_ceil(args.links);
    // Device i lives at site (i mod L)+1, cluster 1; link k lists site k+1.
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
    let running = match run(sim_cfg, std::future::pending()).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench_monitor: simulator: {e}");
            std::process::exit(1);
        }
    };
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
    cfg.resync = args.resync;
    cfg.window = args.window;
    cfg.heartbeat_interval = None;
    cfg.request_timeout = Duration::from_secs(30);
    cfg.history = 1024;

    let rss_before = rss_kib();
    let started = Instant::now();
    let tel = match Telephony::start(cfg) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("bench_monitor: {e}");
            std::process::exit(1);
        }
    };
    let synced = tel.wait_synced(Duration::from_secs(600)).await;
    let elapsed = started.elapsed();
    let rss_after = rss_kib();
    let monitored: usize = tel.providers().iter().map(|p| p.current).sum();
    let sim_monitors = running.simulator.monitor_count();

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
        "devices: {}, links: {}, window: {} requests in flight per link, resync: {}",
        args.devices, args.links, args.window, args.resync_name
    );
    let requests_per_device =
        1 + usize::from(args.resync.calls) + 2 * usize::from(args.resync.features);
    println!(
        "synced: {synced}; monitored (engine): {monitored}; monitors at the PBX: {sim_monitors}"
    );
    println!(
        "time to monitor{} all: {:.3} s ({:.0} devices/s, {:.0} requests/s)",
        if requests_per_device > 1 {
            " and resync"
        } else {
            ""
        },
        elapsed.as_secs_f64(),
        args.devices as f64 / elapsed.as_secs_f64(),
        (args.devices * requests_per_device) as f64 / elapsed.as_secs_f64(),
    );
    match (rss_before, rss_after) {
        (Some(b), Some(a)) => {
            let delta = a.saturating_sub(b);
            println!(
                "RSS: {b} KiB before, {a} KiB after, +{delta} KiB = {:.0} bytes per device (engine + simulator monitor tables)",
                delta as f64 * 1024.0 / args.devices.max(1) as f64
            );
        }
        _ => println!("RSS: /proc/self/status not readable"),
    }
    tel.shutdown().await;
}
