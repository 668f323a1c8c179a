#![allow(clippy::unwrap_used)]
//! Users import of N generated people from a local slapd into a fresh
//! store, measured in the same run as `ldapsearch` dumping the same entries
//! with the same page size (issue 7 target: import ≤ 2 × the dump).
//!
//!   cargo run --release -p twp-import --example bench_import -- [N] [sqlite|postgres] [ROUNDS]
//!
//! N defaults to 50,000 people; the store to SQLite; ROUNDS to 5. Each
//! round imports twice into a fresh store (a first import creating the
//! users, a second changing nothing) between two `ldapsearch` dumps, and
//! takes both imports' ratios to the mean of those dumps; the ratios'
//! median and range are printed at the end, as one round on a shared
//! 2-core machine varies by ±20 %. slapd and
//! ldap-utils come from Debian; PostgreSQL is the machine's (127.0.0.1:5432).

// the allocator of `twp serve`
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../../connectors/tests/common/slapd.rs"]
#[allow(dead_code)]
mod slapd;

use std::sync::Arc;
use std::time::{Duration, Instant};

use twp_directory::generate::{Config, LdifSink, write_all};
use twp_domain::{
    ImportMapping, ImportSchedule, ImportSecurity, ImportType, SyncType, UserImportData,
};
use twp_import::{Progress, RunOptions, ldap_connector};
use twp_store::testing::TestDb;
use twp_store::user_sync::ImportActor;
use twp_store::{Backend, companies, domains, user_imports};

const FILTER: &str = "(objectClass=inetOrgPerson)";
const PAGE: u32 = 1000;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let people: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50_000);
    let backend = match args.next().as_deref() {
        Some("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5).max(1);
    println!(
        "bench_import: {people} entries, store {}, {} cores, {rounds} rounds; cargo run --release -p twp-import --example bench_import -- {people} {} {rounds}",
        backend.as_str(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        backend.as_str()
    );
    let t = Instant::now();
    let server = slapd::Slapd::start(|out| {
        let mut sink = LdifSink::new(out, slapd::PEOPLE);
        write_all(
            Config {
                seed: 42,
                people,
                duplicate_share: 0.0,
            },
            &mut [&mut sink],
        )
        .unwrap();
    });
    println!(
        "LDIF written and loaded with slapadd, slapd up: {:.2?}",
        t.elapsed()
    );
    let dump = || server.dump(FILTER, PAGE);
    let _warm = dump();
    let mut firsts = Vec::new();
    let mut seconds = Vec::new();
    for round in 1..=rounds {
        println!("round {round}/{rounds}");
        let timed_dump = |when: &str| {
            let before = server.cpu_now();
            let took = dump();
            println!(
                "  ldapsearch dump {when} (pages of {PAGE}, all attributes): {took:.2?}; {}",
                server.cpu_since(before)
            );
            took
        };
        let before = timed_dump("before");
        let [first, second] = import_twice(&server, backend, people, round == 1).await;
        // The dump varies by a fifth from one run to the next on this
        // machine: the round's reference is the mean of one just before and
        // one just after its imports.
        let dump_time = (before + timed_dump("after")) / 2;
        let [first, second] = [first, second].map(|t| t.as_secs_f64() / dump_time.as_secs_f64());
        println!(
            "  mean dump {dump_time:.2?}; ratios to it: first import {first:.2}, second import {second:.2} (target ≤ 2)"
        );
        firsts.push(first);
        seconds.push(second);
    }
    println!(
        "first import / dump over {rounds} rounds: median {} (target ≤ 2)\nsecond import / dump: median {}",
        summary(&mut firsts),
        summary(&mut seconds)
    );
}

/// `median (min–max)` of ratios.
fn summary(ratios: &mut [f64]) -> String {
    ratios.sort_by(f64::total_cmp);
    format!(
        "{:.2} (range {:.2}–{:.2})",
        ratios[ratios.len() / 2],
        ratios[0],
        ratios[ratios.len() - 1]
    )
}

/// A fresh store, then the first and second imports; their times.
/// `alone`: also time reading and mapping without a store.
async fn import_twice(
    server: &slapd::Slapd,
    backend: Backend,
    people: usize,
    alone: bool,
) -> [Duration; 2] {
    let db = TestDb::new(backend).await;
    let mut tx = db.store.begin().await.unwrap();
    let c = companies::create(&mut tx, "Bench").await.unwrap();
    let d = domains::create(&mut tx, c.id, "Paris", 4).await.unwrap();
    let data = UserImportData {
        description: "bench".into(),
        import_type: ImportType::Ldap,
        domain_id: d.id,
        group_id: None,
        host: "127.0.0.1".into(),
        port: server.port,
        security: ImportSecurity::None,
        bind_name: slapd::ADMIN.into(),
        base_dn: slapd::PEOPLE.into(),
        filter: FILTER.into(),
        page_size: PAGE,
        mapping: ImportMapping::ldap(true),
        sync_type: SyncType::Full,
        schedule: ImportSchedule::Manual,
        delete_share_percent: 20,
    };
    let import = user_imports::create(&mut tx, c.id, &data, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Reading and mapping alone (no store): the part the connector owns.
    if alone {
        let mapper = twp_import::Mapper::new(&import.data.mapping).unwrap();
        let mut connector = ldap_connector(&import.data, Some(slapd::ADMIN_PASSWORD.into()));
        let before = server.cpu_now();
        let t = Instant::now();
        let entries = tokio::task::block_in_place(|| {
            twp_import::read_source(&mut connector, &mapper, &Progress::default())
        })
        .unwrap();
        let took = t.elapsed();
        assert_eq!(entries.len(), people);
        println!(
            "  reading and mapping alone (no store): {took:.2?}; {}",
            server.cpu_since(before)
        );
    }
    let options = RunOptions {
        confirm: false,
        trigger: "manual",
        actor: ImportActor {
            admin_id: None,
            admin_name: "bench".into(),
        },
        writer_hold: twp_import::WRITER_HOLD,
    };
    let mut times = [Duration::ZERO; 2];
    for (label, time) in [
        "first import (users created)",
        "second import (all matched, unchanged)",
    ]
    .into_iter()
    .zip(&mut times)
    {
        let before = server.cpu_now();
        let t = Instant::now();
        let connector = Box::new(ldap_connector(
            &import.data,
            Some(slapd::ADMIN_PASSWORD.into()),
        ));
        let run = twp_import::run(
            &db.store,
            &import,
            connector,
            &options,
            Arc::new(Progress::default()),
        )
        .await
        .unwrap();
        let took = t.elapsed();
        assert_eq!(run.entries_read as usize, people, "{:?}", run.message);
        *time = took;
        println!(
            "  {label}: {took:.2?}, status {}, created {} updated {} ignored {}; {:.0} entries/s; {}",
            run.status.as_str(),
            run.created,
            run.updated,
            run.ignored,
            people as f64 / took.as_secs_f64(),
            server.cpu_since(before)
        );
    }
    db.drop_db().await;
    times
}
