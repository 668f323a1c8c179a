//! Benchmark: reverse look-up through the HTTP API. A CSV directory of
//! generated people (messy real-world formats) is created and synchronised
//! through the API on SQLite, then concurrent clients look up the numbers
//! as a PBX presents them for a fixed time; prints look-ups/s, latency
//! percentiles and coverage (callers named / looked up). The restart figure
//! is the time to load the domain's engine again from the store's derived
//! keys (what the server does at start).
//!
//!     cargo run --release -p twp-api --example bench_lookup -- [PEOPLE] [CLIENTS] [SECONDS]
//!
//! Target (issue 5): ≥ 60,000 look-ups/s on the 2-core machine. Clients and
//! server share the process and the cores.

#![allow(clippy::unwrap_used)] // a benchmark stops loudly on any failure

mod common;

use common::{login, post};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{Value, json};
use twp_api::crypto::SecretBox;
use twp_api::{ApiSettings, AppState, bootstrap};
use twp_directory::generate::{Config, CsvEncoding, CsvSink, People, RecordSink};
use twp_store::Backend;
use twp_store::testing::TestDb;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let people: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let clients: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let seconds: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "TWP look-up through the HTTP API — {people} people, {clients} clients, {seconds} s, {cores} cores"
    );
    println!(
        "command: cargo run --release -p twp-api --example bench_lookup -- {people} {clients} {seconds}\n"
    );

    // the CSV and the numbers as presented
    let dir = std::env::temp_dir().join(format!("twp-bench-lookup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("people.csv");
    let mut presented = Vec::new();
    {
        let out = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
        let mut sink = CsvSink::new(out, b';', CsvEncoding::Utf8).unwrap();
        let config = Config {
            seed: 42,
            people,
            duplicate_share: 0.0,
        };
        for p in People::new(config) {
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
    let report = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
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
        "sync through the API: {} rows in {:.2} s ({:.0} rows/s; reading {} ms, indexing {} ms, saving {} ms), outcome {}",
        report["rowsRead"],
        sync.as_secs_f64(),
        report["rowsRead"].as_f64().unwrap_or(0.0) / sync.as_secs_f64(),
        report["readingMs"],
        report["indexingMs"],
        report["savingMs"],
        report["outcome"]
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

    // look-ups
    let presented = Arc::new(presented);
    let done = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, base, auth, domain) = (http.clone(), base.clone(), auth.clone(), domain.clone());
        let (presented, done) = (Arc::clone(&presented), Arc::clone(&done));
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let (mut named, mut i) = (0u64, c);
            while !done.load(Ordering::Relaxed) {
                let n = &presented[i % presented.len()];
                i += clients;
                let t = Instant::now();
                let r: Value = http
                    .get(format!("{base}{domain}/lookup"))
                    .query(&[("number", n.as_str())])
                    .header("authorization", &auth)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                lat.push(t.elapsed());
                named += u64::from(r["found"] == true);
            }
            (lat, named)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    done.store(true, Ordering::Relaxed);
    let (mut all, mut named) = (Vec::new(), 0);
    for t in tasks {
        let (l, n) = t.await.unwrap();
        all.extend(l);
        named += n;
    }
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "look-ups: {} in {seconds} s = {:.0}/s; p50 {:?}, p99 {:?}; named {:.2} % of the presented numbers",
        all.len(),
        all.len() as f64 / seconds as f64,
        pct(0.5),
        pct(0.99),
        100.0 * named as f64 / all.len() as f64
    );
    let _ = stop.send(());
    db.drop_db().await;
    let _ = std::fs::remove_dir_all(&dir);
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
