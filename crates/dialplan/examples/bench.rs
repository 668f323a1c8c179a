//! Throughput of the dialing plan engine on one core.
//!
//! Plan: the standard rules, 20 plain specific rules and 5 regular-expression
//! rules. Inputs: a mix of internal, national, international, foreign,
//! facility and formatted numbers.
//!
//! Run: `cargo run --release -p twp-dialplan --example bench`

use std::hint::black_box;
use std::time::{Duration, Instant};

use twp_dialplan::{CompiledPlan, DialPlan, GlobalParameters};

const COMMAND: &str = "cargo run --release -p twp-dialplan --example bench";

fn plan() -> CompiledPlan {
    let mut plan = DialPlan::new(GlobalParameters::default());
    // 20 plain specific rules: short codes and site prefixes.
    let plain = [
        ("3611", "03611"),
        ("3612", "03612"),
        ("112", "112"),
        ("15", "15"),
        ("17", "17"),
        ("18", "18"),
        ("115", "0115"),
        ("119", "0119"),
        ("1010", "01010"),
        ("3000", "03000"),
        ("3900", "03900"),
        ("3939", "03939"),
        ("08000", "008000"),
        ("08001", "008001"),
        ("6", "06"),
        ("7", "07"),
        ("88", "0088"),
        ("99", "0099"),
        ("555", "0555"),
        ("+800", "000800"),
    ];
    for (i, (pattern, value)) in plain.iter().enumerate() {
        plan = plan.with_rule(100 + i as u32, pattern, value);
    }
    // 5 extended rules (guide 5.3 and others of the same kind).
    let regex = [
        (
            r"[(\+|[-InternationalPrefix-])?([^\(]+)\(0\)]",
            "[-ExternalPrefix-][-InternationalPrefix-]$2",
        ),
        (r"[2(\d{3})#]", "[-ExternalPrefix-]12$1"),
        (r"[(?<site>4[0-4])(?=\d{2}$)]", "0145${site}"),
        (r"[9(?!9)(\d+)]", "[-ExternalPrefix-]$1"),
        (r"[(?i)ext(\d+)]", "$1"),
    ];
    for (i, (pattern, value)) in regex.iter().enumerate() {
        plan = plan.with_rule(30 + i as u32, pattern, value);
    }
    match plan.compile() {
        Ok(plan) => plan,
        Err(e) => panic!("benchmark plan does not compile: {e}"),
    }
}

const INPUTS: [&str; 12] = [
    "1234",
    "0155171889",
    "+33155171889",
    "+3912334477",
    "+33 (0)1 55 17 18 89",
    "01.55.17.18.89",
    "0033155171889",
    "3611",
    "*21*1234#",
    "+42(0)141906666",
    "00155171889",
    "+1 (212) 555-1234",
];

/// CPU time of this thread in nanoseconds (Linux: first field of
/// /proc/thread-self/schedstat), to tell the engine's speed from the share
/// of the core the machine gave it.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Throughput of one operation: per wall-clock second, and per second of
/// CPU time of the measuring thread (when the OS tells it).
struct Rate {
    wall: f64,
    cpu: Option<f64>,
}

/// Runs `f` over the inputs for about `budget`.
fn measure(budget: Duration, mut f: impl FnMut(&str)) -> Rate {
    // Warm-up.
    for input in INPUTS {
        f(input);
    }
    let cpu_start = thread_cpu_ns();
    let started = Instant::now();
    let mut ops = 0u64;
    while started.elapsed() < budget {
        for _ in 0..1000 {
            for input in INPUTS {
                f(black_box(input));
            }
        }
        ops += 1000 * INPUTS.len() as u64;
    }
    let wall = ops as f64 / started.elapsed().as_secs_f64();
    let cpu = match (cpu_start, thread_cpu_ns()) {
        (Some(a), Some(b)) if b > a => Some(ops as f64 / ((b - a) as f64 / 1e9)),
        _ => None,
    };
    Rate { wall, cpu }
}

fn main() {
    let plan = plan();
    let budget = Duration::from_secs(2);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("twp-dialplan benchmark (one thread)");
    println!(
        "plan: {} specific rules ({} standard + 20 plain + 5 regular expressions)",
        plan.plan().specific_rules.len(),
        twp_dialplan::standard_rules().len()
    );
    println!("inputs: {} numbers in rotation", INPUTS.len());
    println!("cores available: {cores}");
    println!("command: {COMMAND}");
    println!();

    let mut buffer = String::new();
    let rows = [
        (
            "dial_into (reused buffer)",
            measure(budget, |n| {
                let _ = black_box(plan.dial_into(n, &mut buffer));
            }),
        ),
        (
            "dial",
            measure(budget, |n| {
                let _ = black_box(plan.dial(n));
            }),
        ),
        (
            "canonical (directory)",
            measure(budget, |n| {
                black_box(plan.canonical(n));
            }),
        ),
        (
            "incoming (canonical)",
            measure(budget, |n| {
                black_box(plan.incoming(n));
            }),
        ),
        (
            "dial_explained",
            measure(budget, |n| {
                black_box(plan.dial_explained(n));
            }),
        ),
        (
            "canonical_explained",
            measure(budget, |n| {
                black_box(plan.canonical_explained(n));
            }),
        ),
    ];
    println!(
        "{:<28} {:>14} {:>10} {:>16} {:>12}",
        "operation", "ops/wall-s", "ns/op", "ops/CPU-s", "CPU ns/op"
    );
    for (name, rate) in rows {
        let (cpu, cpu_ns) = match rate.cpu {
            Some(cpu) => (format!("{cpu:.0}"), format!("{:.0}", 1e9 / cpu)),
            None => ("n/a".to_owned(), "n/a".to_owned()),
        };
        println!(
            "{name:<28} {:>14.0} {:>10.0} {cpu:>16} {cpu_ns:>12}",
            rate.wall,
            1e9 / rate.wall
        );
    }
    println!();
    println!("ops/wall-s is what the machine gave; ops/CPU-s counts only the time");
    println!("the measuring thread was on a core (they differ when the machine is busy).");
    runaway();
}

/// Time to stop a catastrophic expression on the longest accepted number.
fn runaway() {
    let plan = match DialPlan::default()
        .with_rule(5, r"[(a|aa)+(?!a)$]", "1")
        .compile()
    {
        Ok(plan) => plan,
        Err(e) => panic!("runaway plan does not compile: {e}"),
    };
    let input = format!("{}!", "a".repeat(twp_dialplan::MAX_NUMBER_LEN - 1));
    let runs = 20;
    let started = Instant::now();
    for _ in 0..runs {
        let result = plan.dial(black_box(&input));
        assert!(result.is_err());
    }
    let each = started.elapsed() / runs;
    println!();
    println!(
        "runaway rule [(a|aa)+(?!a)$] on {} bytes: stopped after {} backtracks in {each:?}",
        input.len(),
        twp_dialplan::BACKTRACK_LIMIT
    );
}
