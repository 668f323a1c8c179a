//! Authorization checks and parameter resolution on a company of 10,000
//! users in 500 groups with 50,000 grants.
//!
//!   cargo run --release -p twp-access --example bench_access
//!
//! Targets (issue 6): check p99 < 5 µs; all Caller parameters of a user < 50 µs.

use std::time::{Duration, Instant};

use twp_access::authz::*;
use twp_access::params::{Level, ParamApp, ParamStore, UserScope};

const USERS: i64 = 10_000;
const DOMAINS: i64 = 5;
const GROUPS: i64 = 500;
const GROUPS_PER_USER: usize = 3;
const GRANTS: usize = 50_000;
const DIRECTORIES: i64 = 200;
const INTERCOMS: i64 = 100;
const QUEUES: i64 = 100;
const CHECKS: usize = 200_000;

/// xorshift64*: reproducible data without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: i64) -> i64 {
        (self.next() % n as u64) as i64
    }
}

fn domain_of_user(u: i64) -> i64 {
    u % DOMAINS
}

/// Groups of a domain are the ids g with g % DOMAINS == domain.
fn random_group_in(rng: &mut Rng, domain: i64) -> i64 {
    rng.below(GROUPS / DOMAINS) * DOMAINS + domain
}

fn random_principal(rng: &mut Rng, domain: Option<i64>) -> Principal {
    let d = domain.unwrap_or_else(|| rng.below(DOMAINS));
    if rng.below(4) == 0 {
        Principal::Group(GroupId(random_group_in(rng, d)))
    } else {
        Principal::User(UserId(rng.below(USERS / DOMAINS) * DOMAINS + d))
    }
}

fn random_object(rng: &mut Rng, subject_domain: i64) -> Object {
    match rng.below(8) {
        0 => Object::Application(Application::ALL[rng.below(8) as usize]),
        1 => Object::Directory(DirectoryId(rng.below(DIRECTORIES))),
        2 => Object::Calendar(random_principal(rng, None)),
        3 => Object::IntercomGroup(IntercomGroupId(rng.below(INTERCOMS))),
        4 => Object::PhoneQueue(PhoneQueueId(
            rng.below(QUEUES / DOMAINS) * DOMAINS + subject_domain,
        )),
        5 => Object::CallLog(random_principal(rng, Some(subject_domain))),
        6 => Object::Statistics(random_principal(rng, None)),
        _ => Object::Records(random_principal(rng, None)),
    }
}

fn build(rng: &mut Rng) -> Engine {
    let company = CompanyId(1);
    let home = |d: i64| Home {
        domain: DomainId(d),
        company,
    };
    let mut members: Vec<Vec<UserId>> = vec![Vec::new(); GROUPS as usize];
    for u in 0..USERS {
        let d = domain_of_user(u);
        let mut mine = Vec::new();
        while mine.len() < GROUPS_PER_USER {
            let g = random_group_in(rng, d);
            if !mine.contains(&g) {
                mine.push(g);
                members[g as usize].push(UserId(u));
            }
        }
    }
    let snapshot = Snapshot {
        users: (0..USERS)
            .map(|u| UserEntry {
                id: UserId(u),
                domain: DomainId(domain_of_user(u)),
                company,
            })
            .collect(),
        groups: (0..GROUPS)
            .map(|g| GroupEntry {
                id: GroupId(g),
                domain: DomainId(g % DOMAINS),
                company,
                members: std::mem::take(&mut members[g as usize]),
            })
            .collect(),
        directories: (0..DIRECTORIES)
            .map(|i| (DirectoryId(i), home(i % DOMAINS)))
            .collect(),
        intercom_groups: (0..INTERCOMS)
            .map(|i| (IntercomGroupId(i), home(i % DOMAINS)))
            .collect(),
        phone_queues: (0..QUEUES)
            .map(|i| (PhoneQueueId(i), home(i % DOMAINS)))
            .collect(),
        grants: Vec::new(),
    };
    let mut engine = match Engine::from_snapshot(snapshot) {
        Ok(e) => e,
        Err(e) => panic!("bench snapshot: {e}"),
    };
    let mut id = 0;
    let mut refused = 0usize;
    while id < GRANTS as i64 {
        let d = rng.below(DOMAINS);
        let object = random_object(rng, d);
        let subject = match object {
            // The viewer of statistics and records is one user.
            Object::Statistics(_) | Object::Records(_) => {
                Subject::User(UserId(rng.below(USERS / DOMAINS) * DOMAINS + d))
            }
            _ => Subject::from(random_principal(rng, Some(d))),
        };
        match engine.add_grant(Grant {
            id: GrantId(id),
            subject,
            object,
        }) {
            Ok(()) => id += 1,
            Err(_) => refused += 1,
        }
    }
    println!("grants: {GRANTS} stored ({refused} random duplicates/refusals skipped)");
    engine
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let total: Duration = times.iter().sum();
    println!(
        "{name}: n={} mean={:.2?} p50={:.2?} p99={:.2?} max={:.2?}",
        times.len(),
        total / times.len() as u32,
        percentile(&times, 0.50),
        percentile(&times, 0.99),
        times[times.len() - 1],
    );
}

fn main() {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!(
        "twp-access bench — {cores} cores; cargo run --release -p twp-access --example bench_access"
    );
    println!(
        "{USERS} users, {DOMAINS} domains, {GROUPS} groups ({GROUPS_PER_USER} per user), {GRANTS} grants"
    );
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let t = Instant::now();
    let engine = build(&mut rng);
    println!("engine built in {:.2?}", t.elapsed());

    // Authorization checks: random user, random object.
    let queries: Vec<(UserId, Object)> = (0..CHECKS)
        .map(|_| {
            let u = rng.below(USERS);
            (UserId(u), random_object(&mut rng, domain_of_user(u)))
        })
        .collect();
    let mut times = Vec::with_capacity(CHECKS);
    let mut allowed = 0usize;
    for (user, object) in &queries {
        let t = Instant::now();
        let ok = engine.check(*user, object);
        times.push(t.elapsed());
        allowed += usize::from(ok);
    }
    println!("checks allowed: {allowed} of {CHECKS}");
    report("check", times);
    let t = Instant::now();
    let n: usize = queries
        .iter()
        .map(|(u, o)| engine.explain(*u, o).len())
        .sum();
    println!("explain: {CHECKS} in {:.2?} ({n} vias)", t.elapsed());
    let t = Instant::now();
    let n: usize = (0..USERS)
        .map(|u| engine.visible(UserId(u), ObjectKind::Directory).len())
        .sum();
    println!(
        "visible(Directory) for every user: {:.2?} total ({n} rows)",
        t.elapsed()
    );

    // Parameters: values at every level, then all Caller parameters per user.
    let mut params = match ParamStore::new() {
        Ok(p) => p,
        Err(e) => panic!("catalogue: {e}"),
    };
    let caller_keys: Vec<&str> = params
        .search(Some(ParamApp::Caller), "", true)
        .iter()
        .map(|d| d.key)
        .collect();
    let set = |p: &mut ParamStore, key: &str, level: Level, v: &str| {
        if let Err(e) = p.set(key, level, v) {
            panic!("{e}");
        }
    };
    for (i, key) in caller_keys.iter().enumerate() {
        let v = if params
            .def(key)
            .map(|d| d.ty == twp_access::params::ParamType::YesNo)
            .unwrap_or(false)
        {
            "No"
        } else {
            "1"
        };
        set(&mut params, key, Level::Default, v);
        set(
            &mut params,
            key,
            Level::Domain(DomainId(i as i64 % DOMAINS)),
            v,
        );
        for g in 0..GROUPS / 5 {
            set(
                &mut params,
                key,
                Level::Group(GroupId((g * 7 + i as i64) % GROUPS)),
                v,
            );
        }
    }
    for u in 0..USERS / 10 {
        let key = caller_keys[(u as usize) % caller_keys.len()];
        let v = if params
            .def(key)
            .map(|d| d.ty == twp_access::params::ParamType::YesNo)
            .unwrap_or(false)
        {
            "Yes"
        } else {
            "2"
        };
        set(&mut params, key, Level::User(UserId(u * 10)), v);
    }
    let mut times = Vec::with_capacity(USERS as usize);
    let mut resolved = 0usize;
    for u in 0..USERS {
        let user = UserId(u);
        let t = Instant::now();
        let scope = UserScope {
            user,
            domain: engine.domain_of(user).unwrap_or(DomainId(0)),
            groups: engine.groups_of(user),
        };
        let all = params.resolve_all(ParamApp::Caller, &scope);
        times.push(t.elapsed());
        resolved += all.len();
    }
    println!("Caller parameters per user: {}", resolved / USERS as usize);
    report("resolve_all(Caller)", times);
}
