//! Benchmark: create 10,000 users with one device each through the HTTP API,
//! then list them page by page (100 per page), on SQLite and PostgreSQL.
//!
//!     cargo run --release -p twp-api --example bench_users -- [USERS] [CONCURRENCY] [sqlite|postgres]
//!     cargo run --release -p twp-api --example bench_users -- [USERS] [CONCURRENCY] --server URL
//!
//! By default the server runs in this process (on the same two cores as the
//! client), once per backend or on the one named. With `--server`, the
//! client talks to a `twp serve` started separately on a fresh data folder
//! (it logs in as `tws`/`tws` and changes the password, as a first start
//! asks); the store-level timing is then skipped.
//!
//! PostgreSQL is taken from TWP_TEST_POSTGRES_URL (default
//! postgres://postgres@127.0.0.1:5432/postgres); a fresh database is created
//! and dropped. Targets (issue 2): ≥ 2,000 creations/s and a page of 100 in
//! under 5 ms (median) on SQLite.

#![allow(clippy::unwrap_used)] // a benchmark stops loudly on any failure

// the allocator of `twp serve`
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;

use common::{login, post};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{Value, json};
use twp_api::crypto::SecretBox;
use twp_api::{ApiSettings, AppState, bootstrap};
use twp_store::Backend;
use twp_store::testing::TestDb;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let users: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let concurrency: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(8);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "TWP admin API benchmark — {users} users with one device, {concurrency} concurrent clients, {cores} cores"
    );
    let rest: Vec<&str> = args.iter().skip(3).map(String::as_str).collect();
    println!(
        "command: cargo run --release -p twp-api --example bench_users -- {users} {concurrency} {}\n",
        rest.join(" ")
    );
    match rest.as_slice() {
        ["--server", url] => {
            let url = url.trim_end_matches('/');
            println!("server: {url} (separate process)");
            bench(url, users, concurrency, None).await;
        }
        ["sqlite"] => run(Backend::Sqlite, users, concurrency).await,
        ["postgres"] => run(Backend::Postgres, users, concurrency).await,
        [] => {
            for backend in [Backend::Sqlite, Backend::Postgres] {
                run(backend, users, concurrency).await;
            }
        }
        other => panic!("unexpected arguments {other:?}: [sqlite|postgres] or --server URL"),
    }
}

async fn run(backend: Backend, users: usize, concurrency: usize) {
    let db = TestDb::new(backend).await;
    bootstrap::ensure_boot_admin(&db.store).await.unwrap();
    let state = AppState::new(
        db.store.clone(),
        SecretBox::from_base64(&SecretBox::generate_key()).unwrap(),
        ApiSettings::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(twp_api::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    println!("backend: {}", backend.as_str());
    let cid = bench(&base, users, concurrency, Some(&db.store)).await;
    // The same pages straight from the store, without HTTP and JSON.
    let mut store_times = Vec::new();
    let mut after = None;
    let mut conn = db.store.read().await.unwrap();
    loop {
        let t = Instant::now();
        let page = twp_store::users::list(
            &mut conn,
            twp_domain::CompanyId(cid),
            &Default::default(),
            &twp_store::PageRequest::new(after, Some(100)),
        )
        .await
        .unwrap();
        store_times.push(t.elapsed());
        match page.next_after {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    drop(conn);
    store_times.sort();
    println!(
        "store-level list page: median {:.2} ms",
        ms(store_times[store_times.len() / 2])
    );
    let _ = stop.send(());
    let _ = server.await;
    db.drop_db().await;
}

/// Creates `users` users through the API at `base`, lists them page by page
/// and prints the figures; returns the company's id.
async fn bench(
    base: &str,
    users: usize,
    concurrency: usize,
    store: Option<&twp_store::Store>,
) -> i64 {
    let http = Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let token = login(&http, base).await;
    let auth = format!("Bearer {token}");
    let cid = post(
        &http,
        base,
        "/api/v1/companies",
        &auth,
        json!({"name": "Bench"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let did = post(
        &http,
        base,
        &format!("/api/v1/companies/{cid}/domains"),
        &auth,
        json!({"name": "D", "numberingPlanLength": 6}),
    )
    .await["id"]
        .as_i64()
        .unwrap();

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, base, auth, next) = (http.clone(), base.to_owned(), auth.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= users {
                    break;
                }
                if i % 2000 == 0 && i > 0 {
                    eprintln!("  … {i} users created");
                }
                let body = json!({"domainId": did, "userName": format!("user{i:06}"), "firstName": "Jean", "lastName": format!("Dupont{i}"),
                    "email": format!("user{i}@example.com"), "devices": [{"number": format!("{}", 100_000 + i)}]});
                post(&http, &base, &format!("/api/v1/companies/{cid}/users"), &auth, body).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let create_secs = started.elapsed().as_secs_f64();
    // Refresh planner statistics after the bulk load, as autovacuum (PostgreSQL)
    // or `PRAGMA optimize` (SQLite) would soon do on a live site (a separate
    // server is left as it is).
    if let Some(store) = store {
        twp_store::stats::analyze(store).await.unwrap();
    }

    let mut page_times = Vec::new();
    let mut after: Option<i64> = None;
    let mut listed = 0;
    loop {
        let mut url = format!("{base}/api/v1/companies/{cid}/users?limit=100");
        if let Some(a) = after {
            url.push_str(&format!("&after={a}"));
        }
        // timed to the last byte of the page; parsing it is the client's business
        let t = Instant::now();
        let bytes = http
            .get(&url)
            .header("authorization", &auth)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        page_times.push(t.elapsed());
        let page: Value = serde_json::from_slice(&bytes).unwrap();
        listed += page["items"].as_array().unwrap().len();
        match page["next"].as_i64() {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(listed, users, "every user listed once");
    page_times.sort();
    let pct = |p: f64| page_times[((page_times.len() as f64 - 1.0) * p) as usize];
    println!(
        "create: {users} users in {create_secs:.2} s = {:.0} users/s | list: {} pages of 100, median {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        users as f64 / create_secs,
        page_times.len(),
        ms(pct(0.5)),
        ms(pct(0.95)),
        ms(*page_times.last().unwrap()),
    );
    print_server_means(&http, base).await;
    cid
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Mean handler times from the server's own `/metrics`.
async fn print_server_means(http: &Client, base: &str) {
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let server_ms = |method: &str, route: &str| {
        let pick = |name: &str| {
            let key = format!("{name}{{method=\"{method}\",route=\"{route}\"}} ");
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(&key))
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        1000.0 * pick("twp_http_request_duration_seconds_sum")
            / pick("twp_http_request_duration_seconds_count").max(1.0)
    };
    println!(
        "server-side mean: create {:.2} ms, list page {:.2} ms (from /metrics)",
        server_ms("POST", "/api/v1/companies/{companyId}/users"),
        server_ms("GET", "/api/v1/companies/{companyId}/users"),
    );
}
