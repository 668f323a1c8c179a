//! Benchmark: reverse look-up through the HTTP API, with OpenLDAP measured
//! in the same run. A CSV directory of generated people (messy real-world
//! formats) is created and synchronised through the API on SQLite, then
//! concurrent clients look up the numbers as a PBX presents them for a
//! fixed time: first as the administrator (every directory of the domain),
//! then as a Caller user to whom the directory is granted (guide 7.4.2).
//! The same people are then loaded into a local slapd (back-mdb, the phone
//! attributes indexed for equality) and the same presented numbers looked
//! up on it by as many LDAP connections: look-ups/s, latency and callers
//! named for both, and the ratio. The restart figure is the time to load
//! the domain's engine again from the store's derived keys (what the
//! server does at start).
//!
//!     cargo run --release -p twp-api --example bench_lookup -- [PEOPLE] [CLIENTS] [SECONDS] [--no-slapd]
//!
//! Target (issue 5): ≥ 60,000 look-ups/s on the 2-core machine, twice what
//! slapd serves. HTTP clients and server share the process and the cores;
//! slapd runs alone while it is measured (the server is idle then). Both
//! are driven by clients of the same leanness (`lean/`: one keep-alive
//! connection each, requests written by hand, answers read by length, as
//! `wrk` does), so that the ratio compares the servers, not the clients.

#![allow(clippy::unwrap_used)] // a benchmark stops loudly on any failure

// the allocator of `twp serve`
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;
mod lean;
#[path = "../../connectors/tests/common/slapd.rs"]
#[allow(dead_code)]
mod slapd;

use common::{login, post};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde::Deserialize;
use serde_json::{Value, json};
use twp_api::crypto::SecretBox;
use twp_api::{ApiSettings, AppState, bootstrap};
use twp_directory::generate::{Config, CsvEncoding, CsvSink, LdifSink, People, RecordSink};
use twp_store::Backend;
use twp_store::testing::TestDb;

/// What a client reads of a look-up answer.
#[derive(Deserialize)]
struct Found {
    found: bool,
}

/// Look-ups made by all clients in the measured time.
struct Run {
    latencies: Vec<Duration>,
    named: u64,
    seconds: u64,
}

impl Run {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.seconds as f64
    }

    fn print(&mut self, what: &str) {
        self.latencies.sort();
        let all = &self.latencies;
        let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
        println!(
            "{what}: {} in {} s = {:.0}/s; p50 {:?}, p99 {:?}; named {:.2} % of the presented numbers",
            all.len(),
            self.seconds,
            self.rate(),
            pct(0.5),
            pct(0.99),
            100.0 * self.named as f64 / all.len() as f64
        );
    }
}

/// A client that looks one presented number up and says whether the
/// caller was named.
trait Looker: Send + 'static {
    fn look(&mut self, number: &str) -> impl std::future::Future<Output = bool> + Send;
}

/// Runs one task per client looking the presented numbers up in turn for
/// `seconds`.
async fn measure<C: Looker>(clients: Vec<C>, presented: &Arc<Vec<String>>, seconds: u64) -> Run {
    let done = Arc::new(AtomicBool::new(false));
    let n = clients.len();
    let mut tasks = Vec::new();
    for (c, mut client) in clients.into_iter().enumerate() {
        let (presented, done) = (Arc::clone(presented), Arc::clone(&done));
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let (mut named, mut i) = (0u64, c);
            while !done.load(Ordering::Relaxed) {
                let number = &presented[i % presented.len()];
                i += n;
                let t = Instant::now();
                let found = client.look(number).await;
                lat.push(t.elapsed());
                named += u64::from(found);
            }
            (lat, named)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    done.store(true, Ordering::Relaxed);
    let mut run = Run {
        latencies: Vec::new(),
        named: 0,
        seconds,
    };
    for t in tasks {
        let (l, n) = t.await.unwrap();
        run.latencies.extend(l);
        run.named += n;
    }
    run
}

impl Looker for lean::HttpConn {
    async fn look(&mut self, number: &str) -> bool {
        let (status, body) = self.get(number).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(body));
        serde_json::from_slice::<Found>(body).unwrap().found
    }
}

/// HTTP look-ups with one token, one keep-alive connection per client.
async fn http_lookups(
    addr: &str,
    path: &str,
    auth: &str,
    clients: usize,
    presented: &Arc<Vec<String>>,
    seconds: u64,
) -> Run {
    let mut each = Vec::new();
    for _ in 0..clients {
        each.push(lean::HttpConn::connect(addr, &format!("{path}?number="), auth).await);
    }
    measure(each, presented, seconds).await
}

/// An LDAP connection looking a number up on some attributes.
struct SlapdLooker(lean::LdapConn, &'static [&'static str]);

/// The phone attributes slapd can index for equality.
const PHONES: &[&str] = &["telephoneNumber", "mobile", "homePhone"];

impl Looker for SlapdLooker {
    async fn look(&mut self, number: &str) -> bool {
        self.0.search_equal(slapd::PEOPLE, self.1, number).await > 0
    }
}

/// The same presented numbers looked up live on slapd: an equality filter
/// on every indexable phone attribute (slapd has no equality rule for
/// `facsimileTelephoneNumber`, the switchboard), as a PBX integration
/// querying LDAP would; then on `telephoneNumber` alone (one index
/// probe), the look-up the 30,000/s for slapd was measured with.
async fn slapd_lookups(
    people: usize,
    clients: usize,
    presented: &Arc<Vec<String>>,
    seconds: u64,
) -> Option<(Run, Run)> {
    if !std::path::Path::new(slapd::SLAPD).exists() {
        println!("slapd: not installed (Debian package slapd): not measured");
        return None;
    }
    let t = Instant::now();
    let server = tokio::task::spawn_blocking(move || {
        slapd::Slapd::start_indexed("telephoneNumber,mobile,homePhone", move |out| {
            let mut sink = LdifSink::new(out, slapd::PEOPLE);
            for p in People::new(config(people)) {
                for r in p.rows.iter().filter(|r| r.directory == 0) {
                    sink.write(r).unwrap();
                }
            }
        })
    })
    .await
    .unwrap();
    println!(
        "slapd: {people} people loaded with slapadd (phone attributes indexed), listening: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let addr = server
        .url()
        .trim_start_matches("ldap://")
        .trim_end_matches('/')
        .to_owned();
    let mut runs = Vec::new();
    for attributes in [PHONES, &PHONES[..1]] {
        let mut conns = Vec::new();
        for _ in 0..clients {
            conns.push(SlapdLooker(
                lean::LdapConn::bind(&addr, slapd::ADMIN, slapd::ADMIN_PASSWORD).await,
                attributes,
            ));
        }
        runs.push(measure(conns, presented, seconds).await);
    }
    drop(server);
    let one = runs.pop()?;
    Some((runs.pop()?, one))
}

fn config(people: usize) -> Config {
    Config {
        seed: 42,
        people,
        duplicate_share: 0.0,
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let people: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let clients: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let seconds: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    let with_slapd = !args.iter().any(|a| a == "--no-slapd");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "TWP look-up through the HTTP API — {people} people, {clients} clients, {seconds} s, {cores} cores"
    );
    println!(
        "command: cargo run --release -p twp-api --example bench_lookup -- {people} {clients} {seconds}{}\n",
        if with_slapd { "" } else { " --no-slapd" }
    );

    // the CSV and the numbers as presented
    let dir = std::env::temp_dir().join(format!("twp-bench-lookup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("people.csv");
    let mut presented = Vec::new();
    {
        let out = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
        let mut sink = CsvSink::new(out, b';', CsvEncoding::Utf8).unwrap();
        for p in People::new(config(people)) {
            for r in p.rows.iter().filter(|r| r.directory == 0) {
                sink.write(r).unwrap();
            }
            presented.extend(p.presented.into_iter().map(|n| n.number));
        }
        sink.finish().unwrap();
    }

    let db = TestDb::new(Backend::Sqlite).await;
    bootstrap::ensure_boot_admin(&db.store).await.unwrap();
    let state = AppState::new(
        db.store.clone(),
        SecretBox::from_base64(&SecretBox::generate_key()).unwrap(),
        ApiSettings::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_state = state.clone();
    tokio::spawn(twp_api::serve(listener, server_state, async move {
        let _ = stopped.await;
    }));
    let http = Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let auth = format!("Bearer {}", login(&http, &base).await);
    let cid = post(
        &http,
        &base,
        "/api/v1/companies",
        &auth,
        json!({"name": "Bench"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let did = post(
        &http,
        &base,
        &format!("/api/v1/companies/{cid}/domains"),
        &auth,
        json!({"name": "D", "numberingPlanLength": 4}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let domain = format!("/api/v1/companies/{cid}/domains/{did}");
    let mapping = json!({
        "id": "id", "lastName": "sn", "firstName": "givenName", "displayName": "displayName",
        "company": "company", "email1": "mail", "workPhone": "telephoneNumber", "mobilePhone": "mobile",
        "homePhone": "homePhone", "standardPhone": "switchboard", "custom0": "vip",
        "redList.workPhone": "private", "redList.mobilePhone": "private", "redList.homePhone": "private"
    });
    let d = post(
        &http,
        &base,
        &format!("{domain}/directories"),
        &auth,
        json!({
        "name": "People", "serverType": "csv", "connector": {"path": csv.display().to_string()},
        "mapping": mapping, "customNames": {"custom0": "[VIP]"}}),
    )
    .await;
    let id = d["id"].as_i64().unwrap();
    let started = Instant::now();
    post(
        &http,
        &base,
        &format!("{domain}/directories/{id}/sync"),
        &auth,
        json!({}),
    )
    .await;
    // polled often: the time measured here includes the wait for the poll
    let report = loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let p = get(
            &http,
            &base,
            &format!("{domain}/directories/{id}/sync"),
            &auth,
        )
        .await;
        if p["running"] == false {
            break get(
                &http,
                &base,
                &format!("{domain}/directories/{id}/report"),
                &auth,
            )
            .await;
        }
    };
    let sync = started.elapsed();
    println!(
        "sync through the API: {} rows in {:.2} s ({:.0} rows/s; the server's own run {} ms: reading {} ms, indexing {} ms, saving {} ms), outcome {}",
        report["rowsRead"],
        sync.as_secs_f64(),
        report["rowsRead"].as_f64().unwrap_or(0.0) / sync.as_secs_f64(),
        report["elapsedMs"],
        report["readingMs"],
        report["indexingMs"],
        report["savingMs"],
        report["outcome"]
    );

    println!(
        "process RSS after the sync (server, its engine, the clients): {} MiB",
        rss_kib() / 1024
    );

    // restart: a fresh hub loads the engine from the derived keys
    let restarted = AppState::new(
        db.store.clone(),
        SecretBox::from_base64(&SecretBox::generate_key()).unwrap(),
        ApiSettings::default(),
    );
    let t = Instant::now();
    let s = restarted.directories.load_all(&restarted).await.unwrap();
    println!(
        "restart: {} contacts loaded from the store in {} ms",
        s.contacts,
        t.elapsed().as_millis()
    );

    // look-ups: the administrator, then a Caller user granted the directory
    let presented = Arc::new(presented);
    let addr = base.trim_start_matches("http://").to_owned();
    let path = format!("{domain}/lookup");
    let mut admin = http_lookups(&addr, &path, &auth, clients, &presented, seconds).await;
    admin.print("HTTP look-ups as the administrator");

    let user = post(
        &http,
        &base,
        &format!("/api/v1/companies/{cid}/users"),
        &auth,
        json!({"domainId": did, "userName": "caller", "password": "caller-password"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    post(
        &http,
        &base,
        &format!("/api/v1/companies/{cid}/grants"),
        &auth,
        json!({"subject": {"type": "user", "id": user}, "objectType": "directory", "directoryId": id}),
    )
    .await;
    let token = http
        .post(format!("{base}/api/v1/user-auth/login"))
        .json(&json!({"domain": "D", "userName": "caller", "password": "caller-password"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let user_auth = format!("Bearer {token}");
    let mut as_user = http_lookups(&addr, &path, &user_auth, clients, &presented, seconds).await;
    as_user.print("HTTP look-ups as a Caller user (directory granted)");
    let _ = stop.send(());

    if let Some((mut phones, mut one)) = match with_slapd {
        true => slapd_lookups(people, clients, &presented, seconds).await,
        false => None,
    } {
        phones.print(&format!(
            "slapd look-ups, the 3 phone attributes ({clients} LDAP connections)"
        ));
        one.print(&format!(
            "slapd look-ups, telephoneNumber only ({clients} LDAP connections)"
        ));
        let best = phones.rate().max(one.rate());
        println!(
            "ratio HTTP (user) / slapd's faster look-up: {:.2} (target ≥ 2); callers named: TWP {:.2} %, slapd {:.2} % (3 attributes), {:.2} % (1)",
            as_user.rate() / best,
            100.0 * as_user.named as f64 / as_user.latencies.len() as f64,
            100.0 * phones.named as f64 / phones.latencies.len() as f64,
            100.0 * one.named as f64 / one.latencies.len() as f64
        );
    }
    db.drop_db().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Resident memory of this process (Linux), in KiB; 0 when unknown.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

async fn get(http: &Client, base: &str, path: &str, auth: &str) -> Value {
    http.get(format!("{base}{path}"))
        .header("authorization", auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
