//! Load mode: N calls per second from the outside, each one alerting an
//! extension, answered, then cleared.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::simulator::Simulator;

#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub calls_per_second: u32,
    /// How long new calls are started.
    pub duration: Duration,
    pub ring_time: Duration,
    pub talk_time: Duration,
    /// Outside callers are numbered from here (`06000000000`...).
    pub first_caller: u64,
    /// Extensions called in turn; empty means every idle extension.
    pub targets: Vec<String>,
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            calls_per_second: 10,
            duration: Duration::from_secs(10),
            ring_time: Duration::from_millis(200),
            talk_time: Duration::from_millis(500),
            first_caller: 6_000_000_000,
            targets: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Calls placed.
    pub offered: u64,
    /// Calls answered and cleared normally.
    pub completed: u64,
    /// Ticks where every target was busy.
    pub skipped_busy: u64,
    /// Calls that could not be placed, answered or cleared.
    pub failed: u64,
    pub elapsed: Duration,
}

impl Simulator {
    /// Runs the load and waits until every call placed is over.
    pub async fn run_load(&self, cfg: LoadConfig) -> LoadReport {
        let targets = if cfg.targets.is_empty() {
            self.device_numbers()
                .into_iter()
                .filter(|n| self.device(n).is_some_and(|d| d.kind == "extension"))
                .collect()
        } else {
            cfg.targets.clone()
        };
        let start = Instant::now();
        let completed = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let mut report = LoadReport::default();
        if targets.is_empty() || cfg.calls_per_second == 0 {
            return report;
        }
        let tick = Duration::from_millis(1).max(Duration::from_secs(1) / cfg.calls_per_second);
        let mut ticker = tokio::time::interval(tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut tasks = JoinSet::new();
        let mut next_target = 0usize;
        let mut caller = cfg.first_caller;
        let mut due = 0f64;
        while start.elapsed() < cfg.duration {
            ticker.tick().await;
            let target_total = start.elapsed().as_secs_f64() * f64::from(cfg.calls_per_second);
            due = due.max(target_total);
            while (report.offered + report.skipped_busy) as f64 <= due {
                let Some(target) = (0..targets.len())
                    .map(|i| &targets[(next_target + i) % targets.len()])
                    .find(|t| self.device(t).is_some_and(|d| d.calls.is_empty()))
                    .cloned()
                else {
                    report.skipped_busy += 1;
                    continue;
                };
                next_target = (next_target + 1) % targets.len();
                caller += 1;
                report.offered += 1;
                let sim = self.clone();
                let (completed, failed) = (completed.clone(), failed.clone());
                let (ring, talk) = (cfg.ring_time, cfg.talk_time);
                let from = caller.to_string();
                tasks.spawn(async move {
                    let ok = one_call(&sim, &from, &target, ring, talk).await;
                    if ok { completed } else { failed }.fetch_add(1, Ordering::Relaxed);
                });
            }
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
        report.completed = completed.load(Ordering::Relaxed);
        report.failed = failed.load(Ordering::Relaxed);
        report.elapsed = start.elapsed();
        report
    }
}

async fn one_call(sim: &Simulator, from: &str, to: &str, ring: Duration, talk: Duration) -> bool {
    let Ok(call) = sim.external_call(from, to) else {
        return false;
    };
    tokio::time::sleep(ring).await;
    let answered = sim.core.act(|w, fx| w.pbx.answer(&call, to, fx)).is_ok();
    tokio::time::sleep(talk).await;
    let cleared = sim.clear(&call, from).is_ok();
    answered && cleared
}
