//! Benchmark: grant requests through the HTTP API on a company of 10,000
//! users in 500 groups with 50,000 grants (SQLite), with the access engine
//! rebuilt for every request (as before the cache: the cache is emptied
//! before each request) and with the cached engine.
//!
//!     cargo run --release -p twp-api --example bench_grants -- [REQUESTS]
//!
//! Timed requests: a grant added then removed (POST + DELETE …/grants,
//! calendar of one user to another of its domain) and an explain
//! (GET …/users/{id}/access?objectType=calendar).

#![allow(clippy::unwrap_used)] // a benchmark stops loudly on any failure

mod common;

use common::login;
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{Value, json};
use twp_access::authz::{Object, Principal};
use twp_api::crypto::SecretBox;
use twp_api::{ApiSettings, AppState, bootstrap};
use twp_domain::{CompanyId, UserData, UserId};
use twp_store::testing::TestDb;
use twp_store::users::UserSecrets;
use twp_store::{Backend, companies, domains, grants, groups, users};

const USERS: usize = 10_000;
const DOMAINS: usize = 5;
const GROUPS: usize = 500;
const GRANTS: usize = 50_000;

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[tokio::main]
async fn main() {
    let requests: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "TWP grant requests — {USERS} users, {GROUPS} groups, {GRANTS} grants (SQLite), {requests} requests each, {cores} cores"
    );
    println!("command: cargo run --release -p twp-api --example bench_grants -- {requests}\n");
    let db = TestDb::new(Backend::Sqlite).await;
    bootstrap::ensure_boot_admin(&db.store).await.unwrap();
    let t = Instant::now();
    let (cid, by_domain) = seed(&db).await;
    println!("seeded in {:.1?}", t.elapsed());

    let state = AppState::new(
        db.store.clone(),
        SecretBox::from_base64(&SecretBox::generate_key()).unwrap(),
        ApiSettings::default(),
    );
    let cache = state.engines.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(twp_api::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    let http = Client::new();
    let auth = format!("Bearer {}", login(&http, &base).await);
    let grants_url = format!("{base}/api/v1/companies/{}/grants", cid.0);

    let mut rng = Rng(0x5eed);
    for cached in [false, true] {
        let (mut add, mut remove, mut explain) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..requests {
            let d = &by_domain[rng.below(DOMAINS)];
            let (s, o) = (d[rng.below(d.len())], d[rng.below(d.len())]);
            let body = json!({"subject": {"type": "user", "id": s.0}, "objectType": "calendar",
                              "owner": {"type": "user", "id": o.0}});
            if !cached {
                cache.bump();
            }
            let t = Instant::now();
            let r = http
                .post(&grants_url)
                .header("authorization", &auth)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let v: Value = r.json().await.unwrap();
            let took = t.elapsed();
            if status.as_u16() != 201 {
                // an existing pair (random collision): not timed
                continue;
            }
            add.push(took);
            if !cached {
                cache.bump();
            }
            let t = Instant::now();
            let r = http
                .delete(format!("{grants_url}/{}", v["id"]))
                .header("authorization", &auth)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 204);
            remove.push(t.elapsed());
            if !cached {
                cache.bump();
            }
            let t = Instant::now();
            let r = http
                .get(format!(
                    "{base}/api/v1/companies/{}/users/{}/access?objectType=calendar",
                    cid.0, s.0
                ))
                .header("authorization", &auth)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            r.bytes().await.unwrap();
            explain.push(t.elapsed());
            if i == 0 && cached {
                // the first cached request builds the engine: not timed
                add.clear();
                remove.clear();
                explain.clear();
            }
        }
        let label = if cached {
            "cached engine"
        } else {
            "engine rebuilt per request (before)"
        };
        println!("{label}:");
        report("  add grant (POST)", &mut add);
        report("  remove grant (DELETE)", &mut remove);
        report("  explain (GET …/access)", &mut explain);
    }
    let _ = stop.send(());
    db.drop_db().await;
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let ms = |p: f64| times[((times.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
    println!(
        "{what}: n={} p50 {:.2} ms, p99 {:.2} ms",
        times.len(),
        ms(0.5),
        ms(0.99)
    );
}

/// The company, straight into the store; returns its users per domain.
async fn seed(db: &TestDb) -> (CompanyId, Vec<Vec<UserId>>) {
    let mut tx = db.store.begin().await.unwrap();
    let company = companies::create(&mut tx, "Bench").await.unwrap();
    let mut by_domain = Vec::new();
    let mut rng = Rng(42);
    for d in 0..DOMAINS {
        let dom = domains::create(&mut tx, company.id, &format!("D{d}"), 6)
            .await
            .unwrap();
        let mut ids = Vec::new();
        for i in 0..USERS / DOMAINS {
            let data = UserData {
                domain_id: dom.id,
                user_name: format!("u{d}-{i:05}"),
                first_name: None,
                last_name: None,
                gsm: None,
                email: None,
                ip: None,
                enabled: true,
                culture: None,
                external_key: None,
            };
            let u = users::create(&mut tx, company.id, &data, UserSecrets::default(), &[])
                .await
                .unwrap();
            ids.push(u.id);
        }
        // 3 groups per user among its domain's groups
        let per = GROUPS / DOMAINS;
        let mut members = vec![Vec::new(); per];
        for (i, u) in ids.iter().enumerate() {
            for k in 0..3 {
                members[(i + k * 37) % per].push(*u);
            }
        }
        for (g, m) in members.iter().enumerate() {
            let grp = groups::create(&mut tx, company.id, dom.id, &format!("G{d}-{g}"), None)
                .await
                .unwrap();
            groups::add_members(&mut tx, company.id, grp.id, m)
                .await
                .unwrap();
        }
        by_domain.push(ids);
    }
    let mut made = 0;
    while made < GRANTS {
        let d = &by_domain[rng.below(DOMAINS)];
        let (s, o) = (d[rng.below(d.len())], d[rng.below(d.len())]);
        let object = if made % 2 == 0 {
            Object::Calendar(Principal::User(o))
        } else {
            Object::CallLog(Principal::User(o))
        };
        if grants::insert(&mut tx, company.id, Principal::User(s), object)
            .await
            .is_ok()
        {
            made += 1;
        }
    }
    tx.commit().await.unwrap();
    (company.id, by_domain)
}
