//! Directory engine benchmark: CSV synchronisation rate, memory, rebuild
//! after a restart (from the persisted contacts and derived keys), reverse
//! look-up latency and coverage, search latency.
//!
//!   cargo run --release -p twp-directory --example bench_directory [-- --people N]
//!
//! Data: the seeded generator (seed 42): `people.csv` in the main directory
//! (priority 1), `crm.csv` (the duplicates, Windows-1252) in a second one
//! (priority 2), both merging by e-mail. French dialing plan of the guide
//! (internal length 4, internal reverse length 9).

use std::sync::Arc;
use std::time::{Duration, Instant};

use twp_dialplan::DialPlan;
use twp_directory::generate::{self, Config, CsvEncoding, CsvSink, People};
use twp_directory::{
    Allowed, CsvConnector, CsvOptions, CsvSource, Directory, DirectoryEngine, DirectoryId,
    DirectoryType, Generation, MemoryPersistence, Persistence, SimpleQuery, TextMatch,
};
use twp_domain::DomainId;

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU time of the process, all threads (user + system), from
/// `/proc/self/stat` (clock ticks of 10 ms): on a loaded machine the wall
/// time measures the neighbours too.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1;
            let f: Vec<&str> = after.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
            Some(Duration::from_millis(ticks * 10))
        })
        .unwrap_or(Duration::ZERO)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn percentiles(mut ns: Vec<u64>) -> String {
    ns.sort_unstable();
    let at = |p: f64| ns[((ns.len() as f64 * p) as usize).min(ns.len() - 1)];
    format!(
        "p50 {:.2} µs, p99 {:.2} µs, p99.9 {:.2} µs, max {:.2} µs ({} samples)",
        at(0.5) as f64 / 1e3,
        at(0.99) as f64 / 1e3,
        at(0.999) as f64 / 1e3,
        ns[ns.len() - 1] as f64 / 1e3,
        ns.len()
    )
}

fn directory(id: i64, priority: u32) -> Result<Directory, Box<dyn std::error::Error>> {
    Ok(Directory {
        id: DirectoryId(id),
        domain: DomainId(1),
        name: format!("bench {id}"),
        kind: DirectoryType::Public,
        priority,
        merge_contacts: true,
        mapping: generate::mapping()?,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = Config::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--people" {
            config.people = args.next().ok_or("--people N")?.parse()?;
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "twp-directory benchmark — {} people, seed {}, {cores} cores",
        config.people, config.seed
    );
    println!("reproduce: cargo run --release -p twp-directory --example bench_directory");
    println!("load average at start: {}", load_average());
    let rss_start = rss_mib();

    // 1. Files.
    let dir = std::env::temp_dir().join(format!("twp-bench-directory-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (main_csv, crm_csv) = (dir.join("people.csv"), dir.join("crm.csv"));
    let t = Instant::now();
    {
        let file = |p: &std::path::Path| -> std::io::Result<_> {
            Ok(std::io::BufWriter::with_capacity(
                1 << 20,
                std::fs::File::create(p)?,
            ))
        };
        let mut a = CsvSink::new(file(&main_csv)?, b';', CsvEncoding::Utf8Bom)?;
        let mut b = CsvSink::new(file(&crm_csv)?, b',', CsvEncoding::Windows1252)?;
        let counts = generate::write_all(config, &mut [&mut a, &mut b])?;
        println!(
            "generate: {} + {} rows, {:.1} MB, in {:.2?}",
            counts[0],
            counts[1],
            std::fs::metadata(&main_csv)?.len() as f64 / 1e6,
            t.elapsed()
        );
    }

    // 2. Synchronisation.
    let store = Arc::new(MemoryPersistence::new());
    let plan = DialPlan::default().compile()?;
    let engine = DirectoryEngine::new(DomainId(1), plan.clone(), Arc::clone(&store) as _);
    engine.upsert_directory(directory(1, 1)?)?;
    engine.upsert_directory(directory(2, 2)?)?;
    for (id, path) in [(1, &main_csv), (2, &crm_csv)] {
        let mut c = CsvConnector::new(CsvSource::File(path.clone()), CsvOptions::default());
        let (t, cpu) = (Instant::now(), thread_cpu());
        let r = engine.synchronise(DirectoryId(id), &mut c)?;
        let (secs, cpu) = (
            t.elapsed().as_secs_f64(),
            (thread_cpu() - cpu).as_secs_f64(),
        );
        println!(
            "sync directory {id}: {} rows in {:.2} s = {:.0} rows/s wall, {:.0} rows/s of process CPU time \
             (reading {:.2?}, indexing {:.2?}, saving {:.2?}; created {}, updated {}, deleted {}, ignored {})",
            r.rows_read,
            secs,
            r.rows_read as f64 / secs,
            r.rows_read as f64 / cpu,
            r.reading,
            r.indexing,
            r.saving,
            r.created,
            r.updated,
            r.deleted,
            r.ignored_total
        );
    }
    // A second run of the main directory: nothing changed.
    let mut c = CsvConnector::new(CsvSource::File(main_csv.clone()), CsvOptions::default());
    let (t, cpu) = (Instant::now(), thread_cpu());
    let r = engine.synchronise(DirectoryId(1), &mut c)?;
    let (secs, cpu) = (
        t.elapsed().as_secs_f64(),
        (thread_cpu() - cpu).as_secs_f64(),
    );
    println!(
        "re-sync directory 1 (unchanged source): {:.2} s = {:.0} rows/s wall, {:.0} rows/s of process CPU time (unchanged {})",
        secs,
        r.rows_read as f64 / secs,
        r.rows_read as f64 / cpu,
        r.unchanged
    );
    let heap: usize = [1, 2]
        .iter()
        .filter_map(|i| engine.generation(DirectoryId(*i)))
        .map(|g| g.heap_size())
        .sum();
    println!(
        "memory: process RSS {:.0} MiB after loading (was {:.0} MiB at start); indexes and contacts ≈ {:.0} MiB",
        rss_mib(),
        rss_start,
        heap as f64 / (1 << 20) as f64
    );

    // 3. Restart: rebuild from the persisted contacts.
    let engine_plan = plan.clone();
    let restarted = DirectoryEngine::new(DomainId(1), plan, Arc::clone(&store) as _);
    let (t, cpu) = (Instant::now(), thread_cpu());
    restarted.upsert_directory(directory(1, 1)?)?;
    restarted.upsert_directory(directory(2, 2)?)?;
    println!(
        "restart: both directories loaded and indexed in {:.2?} wall, {:.2?} of process CPU time",
        t.elapsed(),
        thread_cpu() - cpu
    );
    drop(restarted);
    // Whether the restart used the persisted derived keys (checked apart).
    for id in [1, 2] {
        let derived = store.load_derived(DirectoryId(id))?.unwrap_or_default();
        let contacts = store.load(DirectoryId(id))?;
        let (_, used) = Generation::restore(contacts, &derived, &engine_plan);
        println!(
            "restart: directory {id} derived keys {:.1} MB, used: {}",
            derived.len() as f64 / 1e6,
            match used {
                Ok(()) => "yes".to_owned(),
                Err(e) => format!("no ({e})"),
            }
        );
    }

    // 4. Reverse look-up over every presented form of every person.
    let (mut named, mut wrong, mut missing, mut total) = (0u64, 0u64, 0u64, 0u64);
    let mut ns = Vec::with_capacity(config.people * 8);
    let mut examples = Vec::new();
    for person in People::new(config) {
        for p in &person.presented {
            total += 1;
            let t = Instant::now();
            let m = engine.lookup(&p.number, Allowed::All);
            ns.push(t.elapsed().as_nanos() as u64);
            match m {
                Some(m) => {
                    let found = m.profile.found();
                    let ok = person.rows.iter().any(|r| {
                        DirectoryId(r.directory as i64 + 1) == found.directory().id
                            && r.id() == found.contact().id()
                    });
                    if ok {
                        named += 1;
                    } else {
                        wrong += 1;
                        if examples.len() < 5 {
                            examples.push(format!(
                                "{} -> {} ({:?})",
                                p.number,
                                found.contact().id(),
                                person.rows[0].id()
                            ));
                        }
                    }
                }
                None => {
                    missing += 1;
                    if examples.len() < 5 {
                        examples.push(format!("{} not found ({})", p.number, person.rows[0].id()));
                    }
                }
            }
        }
    }
    let (mut ambiguous, mut ambiguous_named) = (0u64, 0u64);
    for person in People::new(config) {
        for p in &person.ambiguous {
            ambiguous += 1;
            if let Some(m) = engine.lookup(&p.number, Allowed::All) {
                let found = m.profile.found();
                ambiguous_named +=
                    u64::from(person.rows.iter().any(|r| r.id() == found.contact().id()));
            }
        }
    }
    println!(
        "look-up, forms ambiguous with the guide's French parameters (00 + national number starting with 33): \
         {ambiguous_named}/{ambiguous} named, not counted below"
    );
    println!(
        "look-up coverage: {named}/{total} presented numbers named the right person ({:.3} %), wrong {wrong}, not found {missing}",
        named as f64 * 100.0 / total.max(1) as f64
    );
    for e in &examples {
        println!("  e.g. {e}");
    }
    println!("look-up latency: {}", percentiles(ns));

    // 5. Search: 3-letter prefixes of generated names and companies, and
    //    prefixes that match nothing (a contains query that matches nothing
    //    scans all the text), 50 results per page.
    let mut prefixes: Vec<String> = Vec::new();
    for person in People::new(Config {
        people: 2000,
        ..config
    }) {
        for col in [1usize, 2, 4] {
            let v: String = person.rows[0].values[col].chars().take(3).collect();
            if v.chars().count() == 3 {
                prefixes.push(v);
            }
        }
    }
    prefixes.truncate(3000);
    let misses = ["zqx", "qqj", "xkw", "wvq", "jjj"];
    for (label, list, mode) in [
        (
            "prefix, names",
            prefixes.iter().map(String::as_str).collect::<Vec<_>>(),
            TextMatch::Prefix,
        ),
        ("prefix, no match", misses.to_vec(), TextMatch::Prefix),
        (
            "contains, no match (full scan)",
            misses.to_vec(),
            TextMatch::Contains,
        ),
        (
            "contains, names",
            prefixes.iter().take(500).map(String::as_str).collect(),
            TextMatch::Contains,
        ),
        (
            "prefix, numbers \"0612\"",
            vec!["0612"; 200],
            TextMatch::Prefix,
        ),
    ] {
        let mut ns = Vec::new();
        let mut hits = 0usize;
        let rounds = if list.len() < 10 { 40 } else { 1 };
        for _ in 0..rounds {
            for q in &list {
                let t = Instant::now();
                let page = engine.search(
                    SimpleQuery {
                        text: q,
                        mode,
                        limit: 50,
                        after: None,
                    },
                    Allowed::All,
                );
                ns.push(t.elapsed().as_nanos() as u64);
                hits += page.hits.len();
            }
        }
        println!(
            "search {label}: {} (avg {:.1} hits/page)",
            percentiles(ns),
            hits as f64 / (list.len() * rounds) as f64
        );
    }
    println!("load average at end: {}", load_average());
    let _ = std::fs::remove_dir_all(&dir);

    Ok(())
}
