//! Benchmark program: the simulator's event emission ceiling, measured by a
//! twp-csta client link monitoring every extension.
//!
//! `cargo run --release -p twp-pbx-sim --example emission -- [calls/s] [seconds] [extensions]`
//! (defaults 1000, 5, 2000). Prints monitoring time, calls completed per
//! second and events received per second at the client.

use std::time::{Duration, Instant};

use twp_csta::{DeviceId, Link, LinkConfig, LinkEvent};
use twp_pbx_sim::{LoadConfig, SimConfig, run};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let cps = args.first().copied().unwrap_or(1000) as u32;
    let secs = args.get(1).copied().unwrap_or(5);
    let extensions = args.get(2).copied().unwrap_or(2000);

    let cfg = SimConfig {
        external_answer_after: None,
        monitors_per_link: usize::MAX,
        ..SimConfig::default()
    }
    .with_extensions(100_000, extensions, "1.1");
    let running = run(cfg, std::future::pending()).await?;
    let sim = running.simulator;
    let (link, mut events) = Link::connect(
        running.addrs[0],
        LinkConfig {
            heartbeat_interval: None,
            event_capacity: 65_536,
            ..LinkConfig::default()
        },
    )
    .await?;

    let t = Instant::now();
    let mut pending = tokio::task::JoinSet::new();
    for n in 100_000..100_000 + extensions {
        let link = link.clone();
        pending.spawn(async move { link.monitor_start(&DeviceId::new(n.to_string())).await });
        if pending.len() >= 256 {
            pending.join_next().await.transpose()?.transpose()?;
        }
    }
    while let Some(r) = pending.join_next().await {
        r??;
    }
    let monitor_time = t.elapsed();

    let counter = tokio::spawn(async move {
        let mut n = 0u64;
        while let Ok(Some(LinkEvent::Event(_))) =
            tokio::time::timeout(Duration::from_secs(2), events.recv()).await
        {
            n += 1;
        }
        n
    });
    let report = sim
        .run_load(LoadConfig {
            calls_per_second: cps,
            duration: Duration::from_secs(secs),
            ring_time: Duration::from_millis(5),
            talk_time: Duration::from_millis(5),
            ..LoadConfig::default()
        })
        .await;
    let received = counter.await?;
    let elapsed = report.elapsed.as_secs_f64();
    println!("extensions monitored : {extensions} in {monitor_time:?}");
    println!(
        "calls offered        : {} ({} completed, {} failed, {} skipped busy)",
        report.offered, report.completed, report.failed, report.skipped_busy
    );
    println!(
        "calls per second     : {:.0} (asked {cps})",
        report.completed as f64 / elapsed
    );
    println!("events sent          : {}", sim.events_sent());
    println!(
        "events received      : {received} ({:.0}/s)",
        received as f64 / elapsed
    );
    Ok(())
}
