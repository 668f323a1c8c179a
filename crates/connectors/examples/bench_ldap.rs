#![allow(clippy::unwrap_used)]
//! Full LDAP synchronisation of N generated entries from a local slapd
//! through the directory engine, measured in the same run as `ldapsearch`
//! dumping the same entries with the same page size (issue target: sync ≤
//! 1.5 × the dump).
//!
//!   cargo run --release -p twp-connectors --example bench_ldap -- [N]
//!
//! N defaults to 100,000 people. slapd and ldap-utils come from Debian.

// the allocator of `twp serve`
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/common/slapd.rs"]
#[allow(dead_code)]
mod slapd;

use std::sync::Arc;
use std::time::Instant;

use twp_connectors::{LdapConnector, LdapSettings, Secret};
use twp_dialplan::DialPlan;
use twp_directory::generate::{Config, LdifSink, write_all};
use twp_directory::{
    ContactField as F, Directory, DirectoryEngine, DirectoryId, DirectoryType, Mapping,
    MemoryPersistence, Target as T,
};
use twp_domain::DomainId;

const FILTER: &str = "(objectClass=inetOrgPerson)";

fn main() {
    let people: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let config = Config {
        seed: 42,
        people,
        duplicate_share: 0.0,
    };
    println!(
        "bench_ldap: {people} entries, {} cores; cargo run --release -p twp-connectors --example bench_ldap -- {people}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let t = Instant::now();
    let server = slapd::Slapd::start(|out| {
        let mut sink = LdifSink::new(out, slapd::PEOPLE);
        write_all(config, &mut [&mut sink]).unwrap();
    });
    println!(
        "LDIF written and loaded with slapadd, slapd up: {:.2?}",
        t.elapsed()
    );

    let dump = || server.dump(FILTER, 1000);
    let _warm = dump();
    let before = server.cpu_now();
    let dump_time = dump();
    println!(
        "ldapsearch dump (pages of 1000, all attributes): {dump_time:.2?}; {}",
        server.cpu_since(before)
    );

    let engine = DirectoryEngine::new(
        DomainId(1),
        DialPlan::default().compile().unwrap(),
        Arc::new(MemoryPersistence::new()),
    );
    engine
        .upsert_directory(Directory {
            id: DirectoryId(1),
            domain: DomainId(1),
            name: "LDAP".into(),
            kind: DirectoryType::Public,
            priority: 1,
            merge_contacts: false,
            mapping: Mapping::new(
                [
                    (T::Field(F::Id), "uid"),
                    (T::Field(F::LastName), "sn"),
                    (T::Field(F::FirstName), "givenName"),
                    (T::Field(F::DisplayName), "displayName"),
                    (T::Field(F::Company), "o"),
                    (T::Field(F::Email1), "mail"),
                    (T::Field(F::Work), "telephoneNumber"),
                    (T::Field(F::Mobile), "mobile"),
                    (T::Field(F::Home), "homePhone"),
                    (T::Field(F::Standard), "facsimileTelephoneNumber"),
                    (T::Field(F::Url), "labeledURI"),
                    (T::Field(F::Address), "postalAddress"),
                    (T::Field(F::Custom0), "title"),
                    (T::RedList(F::Work), "employeeType"),
                ],
                [(F::Custom0, "[VIP]".to_owned())],
            )
            .unwrap(),
        })
        .unwrap();
    let mut connector = LdapConnector::new(LdapSettings {
        port: Some(server.port),
        bind_name: slapd::ADMIN.into(),
        password: Secret::new(slapd::ADMIN_PASSWORD),
        filter: Some(FILTER.into()),
        page_size: 1000,
        ..LdapSettings::new("127.0.0.1", slapd::PEOPLE)
    });
    // The connector alone (no engine): where the reading time goes.
    {
        use twp_directory::{Connector, ReadOutcome, SourceRecord};
        let fields = engine.directories()[0].mapping.source_fields().to_vec();
        let before = server.cpu_now();
        let t = Instant::now();
        let mut stream = connector.open(&fields).unwrap();
        let mut record = SourceRecord::new(fields.len());
        let mut n = 0usize;
        while stream.next_record(&mut record).unwrap() != ReadOutcome::End {
            n += 1;
        }
        assert_eq!(n, people);
        let alone = t.elapsed();
        println!(
            "connector alone (paged search, entries decoded, no engine): {alone:.2?}; ratio to the dump {:.2}; {}",
            alone.as_secs_f64() / dump_time.as_secs_f64(),
            server.cpu_since(before)
        );
    }
    for run in ["first sync (all created)", "second sync (all unchanged)"] {
        let before = server.cpu_now();
        let t = Instant::now();
        let r = engine.synchronise(DirectoryId(1), &mut connector).unwrap();
        let sync_time = t.elapsed();
        assert_eq!(r.rows_read as usize, people);
        println!(
            "{run}: {sync_time:.2?} (reading {:.2?}, indexing {:.2?}, saving {:.2?}), \
             created {} unchanged {}; {:.0} entries/s; ratio to the dump {:.2} (target ≤ 1.5); {}",
            r.reading,
            r.indexing,
            r.saving,
            r.created,
            r.unchanged,
            people as f64 / sync_time.as_secs_f64(),
            sync_time.as_secs_f64() / dump_time.as_secs_f64(),
            server.cpu_since(before)
        );
    }
}
