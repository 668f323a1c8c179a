//! `users::create_recorded`: a user, its devices and the audit entry of the
//! creation in one transaction — on SQLite one script sent to the writer
//! thread in one trip, on PostgreSQL statement by statement. The same
//! bodies run on both backends.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::time::Duration;

use serde_json::{Value, json};
use twp_domain::{
    AuditEntry, CompanyId, DeviceData, DeviceProtocol, DeviceSecrets, DomainId, SecretChange,
    SipSettings, User, UserData,
};
use twp_store::audit::AuditFilter;
use twp_store::testing::TestDb;
use twp_store::users::{CreatedIdKeys, UserFilter, UserSecrets};
use twp_store::{
    AnyConnection, Backend, PageRequest, StoreError, audit, companies, domains, users,
};

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { let db = super::TestDb::new(super::Backend::Sqlite).await; super::$name(&db).await; db.drop_db().await; } )* }
        mod postgres { $( #[tokio::test] async fn $name() { let db = super::TestDb::new(super::Backend::Postgres).await; super::$name(&db).await; db.drop_db().await; } )* }
    };
}

both_backends!(
    creation_and_its_entry_land_together,
    refused_creation_leaves_nothing,
    dropped_creation_is_all_or_nothing,
    concurrent_creations_each_stand_alone,
);

const KEYS: CreatedIdKeys = CreatedIdKeys {
    user_id: "id",
    devices: "devices",
    device_id: "id",
};

fn user(domain: DomainId, name: &str) -> UserData {
    UserData {
        domain_id: domain,
        user_name: name.into(),
        first_name: Some("Zoé".into()),
        last_name: Some("L'Hôpital \"quoted\"".into()),
        gsm: None,
        email: Some(format!("{name}@example.fr")),
        ip: None,
        enabled: true,
        culture: Some("fr-FR".into()),
        external_key: None,
    }
}

fn device(number: &str) -> DeviceData {
    DeviceData {
        number: number.into(),
        protocol: DeviceProtocol::Sip,
        ip: None,
        video: true,
        site: Some("1.1".into()),
        sip: SipSettings {
            port: Some(5060),
            ..SipSettings::default()
        },
    }
}

/// An audit entry shaped like the API's: the user's JSON with 0 for the ids
/// the database has not given yet.
fn entry(company: CompanyId, u: &User) -> AuditEntry {
    let after = json!({
        "id": u.id.0,
        "userName": u.data.user_name,
        "lastName": u.data.last_name,
        "devices": u.devices.iter().map(|d| json!({"id": d.id, "number": d.data.number})).collect::<Vec<_>>(),
    });
    AuditEntry {
        id: 0,
        at: 1_700_000_000_000,
        admin_id: None,
        admin_name: "tester".into(),
        company_id: Some(company),
        action: "create".into(),
        object_type: "user".into(),
        object_id: Some(u.id.0.to_string()),
        object_name: Some(u.data.user_name.clone()),
        before: None,
        after: Some(after.to_string()),
    }
}

async fn setup(db: &TestDb, name: &str) -> (CompanyId, DomainId) {
    let mut tx = db.store.begin().await.unwrap();
    let c = companies::create(&mut tx, name).await.unwrap();
    let d = domains::create(&mut tx, c.id, "Paris", 4).await.unwrap();
    tx.commit().await.unwrap();
    (c.id, d.id)
}

/// Users, devices and audit entries of a company, counted.
async fn counts(db: &TestDb, c: CompanyId) -> (usize, usize, usize) {
    let mut r = db.store.read().await.unwrap();
    let page = PageRequest::new(None, Some(1000));
    let us = users::list(&mut r, c, &UserFilter::default(), &page)
        .await
        .unwrap();
    let devices = us.items.iter().map(|u| u.devices.len()).sum();
    let entries = audit_entries(&mut r, c).await.len();
    (us.items.len(), devices, entries)
}

async fn audit_entries(r: &mut AnyConnection, c: CompanyId) -> Vec<AuditEntry> {
    audit::list(
        r,
        &twp_domain::AdminScope::SuperUser,
        &AuditFilter {
            company_id: Some(c),
            ..AuditFilter::default()
        },
        &PageRequest::new(None, Some(1000)),
    )
    .await
    .unwrap()
    .items
}

async fn create(
    db: &TestDb,
    c: CompanyId,
    data: &UserData,
    numbers: &[&str],
) -> Result<User, StoreError> {
    let devices: Vec<_> = numbers
        .iter()
        .map(|n| {
            (
                device(n),
                DeviceSecrets {
                    password: SecretChange::Set("sealed".into()),
                    sip_password: SecretChange::Keep,
                },
            )
        })
        .collect();
    users::create_recorded(
        &db.store,
        c,
        data,
        UserSecrets {
            password_hash: SecretChange::Keep,
            vm_password: SecretChange::Set("sealed-vm".into()),
        },
        &devices,
        move |u| entry(c, u),
        KEYS,
    )
    .await
}

async fn creation_and_its_entry_land_together(db: &TestDb) {
    let (c, d) = setup(db, "A").await;
    for (name, numbers) in [
        ("nodevice", &[][..]),
        ("one", &["1001"][..]),
        ("three", &["1002", "1003", "1004"][..]),
        // more devices than the cached scripts
        ("six", &["2001", "2002", "2003", "2004", "2005", "2006"][..]),
    ] {
        let u = create(db, c, &user(d, name), numbers).await.unwrap();
        assert!(u.id.0 > 0);
        assert!(!u.has_password && u.has_vm_password);
        assert_eq!(u.devices.len(), numbers.len());
        for (dev, n) in u.devices.iter().zip(numbers) {
            assert!(dev.id > 0 && dev.user_id == u.id && dev.has_password);
            assert_eq!(dev.data.number, *n);
        }
        // what was returned is what is stored
        let mut r = db.store.read().await.unwrap();
        let stored = users::get(&mut r, c, u.id).await.unwrap();
        assert_eq!(stored, u);
        // the entry carries the ids the database gave
        let e = audit_entries(&mut r, c)
            .await
            .into_iter()
            .find(|e| e.object_name.as_deref() == Some(name))
            .unwrap();
        assert_eq!(e.object_id, Some(u.id.0.to_string()));
        let after: Value = serde_json::from_str(e.after.as_deref().unwrap()).unwrap();
        let want = json!({
            "id": u.id.0,
            "userName": name,
            "lastName": "L'Hôpital \"quoted\"",
            "devices": u.devices.iter().map(|d| json!({"id": d.id, "number": d.data.number})).collect::<Vec<_>>(),
        });
        assert_eq!(after, want);
    }
    assert_eq!(counts(db, c).await, (4, 10, 4));
}

async fn refused_creation_leaves_nothing(db: &TestDb) {
    let (c, d) = setup(db, "A").await;
    let (other, other_domain) = setup(db, "B").await;
    create(db, c, &user(d, "first"), &["1001"]).await.unwrap();
    let before = counts(db, c).await;
    // the user's name is taken: the script's first insert fails
    let e = create(db, c, &user(d, "FIRST"), &["1002"])
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Conflict {
                field: "userName",
                ..
            }
        ),
        "{e:?}"
    );
    // the second device's number is taken: the user and the first device
    // were written before the failure and must be gone
    let e = create(db, c, &user(d, "second"), &["1003", "1001"])
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Conflict {
                field: "devices[1].number",
                ..
            }
        ),
        "{e:?}"
    );
    // twice the same number in one request
    let e = create(db, c, &user(d, "third"), &["1004", "1005", "1005"])
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Conflict {
                field: "devices[2].number",
                ..
            }
        ),
        "{e:?}"
    );
    // a domain of another company
    let e = create(db, c, &user(other_domain, "fourth"), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::InvalidReference {
                field: "domainId",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(counts(db, c).await, before);
    assert_eq!(counts(db, other).await, (0, 0, 0));
    // the writer is usable afterwards, by scripts and by transactions
    create(db, c, &user(d, "second"), &["1003"]).await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    users::create(&mut tx, c, &user(d, "plain"), UserSecrets::default(), &[])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        counts(db, c).await,
        (before.0 + 2, before.1 + 1, before.2 + 1)
    );
}

/// A caller that goes away (an HTTP client hanging up drops the handler's
/// future) at any point of the creation leaves the user, its devices and
/// its entry all written or none of them, and the writer usable.
async fn dropped_creation_is_all_or_nothing(db: &TestDb) {
    let (c, d) = setup(db, "A").await;
    let mut completed = 0;
    for k in 0..40u32 {
        let name = format!("u{k}");
        let numbers = [format!("{}", 3000 + 2 * k), format!("{}", 3001 + 2 * k)];
        let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
        let data = user(d, &name);
        let fut = create(db, c, &data, &numbers);
        // give the creation k turns, sleeping a little on each so that the
        // database threads get to different points of the work
        let give_up = async {
            for _ in 0..k {
                std::thread::sleep(Duration::from_micros(25));
                tokio::task::yield_now().await;
            }
        };
        tokio::select! {
            biased;
            r = fut => { r.unwrap(); completed += 1; }
            _ = give_up => {}
        }
    }
    // every creation is whole or absent; a creation whose caller gave up
    // may still be committing: read users and entries in one snapshot
    let mut r = db.store.begin().await.unwrap();
    if db.store.backend() == Backend::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut *r)
            .await
            .unwrap();
    }
    let us = users::list(
        &mut r,
        c,
        &UserFilter::default(),
        &PageRequest::new(None, Some(1000)),
    )
    .await
    .unwrap()
    .items;
    let entries = audit_entries(&mut r, c).await;
    drop(r);
    for u in &us {
        assert_eq!(u.devices.len(), 2, "{}", u.data.user_name);
    }
    assert_eq!(entries.len(), us.len());
    for e in &entries {
        let id = e.object_id.as_deref().unwrap();
        assert!(us.iter().any(|u| u.id.0.to_string() == id));
    }
    assert!(us.len() >= completed);
    eprintln!(
        "{} of 40 creations landed ({completed} seen to complete)",
        us.len()
    );
    // and the writer still works
    create(db, c, &user(d, "after"), &["9999"]).await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    users::create(&mut tx, c, &user(d, "plain"), UserSecrets::default(), &[])
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Creations arriving together (on SQLite they are committed in groups,
/// `creations.rs`) each stand alone: one that breaks a rule gets its own
/// error and leaves nothing, the others land whole with their entries.
async fn concurrent_creations_each_stand_alone(db: &TestDb) {
    let (c, d) = setup(db, "A").await;
    let (other, _) = setup(db, "B").await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..150u32 {
        // every 10th takes the name of the one before, every 15th the
        // number of the first, one names a domain of another company
        let name = if i % 10 == 9 {
            format!("u{}", i - 1)
        } else {
            format!("u{i}")
        };
        let number = if i % 15 == 14 {
            "5000".to_owned()
        } else {
            format!("{}", 5000 + i)
        };
        let company = if i == 77 { other } else { c };
        let store = db.store.clone();
        set.spawn(async move {
            let devices = vec![(device(&number), DeviceSecrets::default())];
            let r = users::create_recorded(
                &store,
                company,
                &user(d, &name),
                UserSecrets::default(),
                &devices,
                move |u| entry(company, u),
                KEYS,
            )
            .await;
            (i, r)
        });
    }
    let mut created = Vec::new();
    let (mut names, mut numbers, mut domains) = (0, 0, 0);
    while let Some(joined) = set.join_next().await {
        match joined.unwrap() {
            (_, Ok(u)) => created.push(u),
            (
                i,
                Err(StoreError::Conflict {
                    field: "userName", ..
                }),
            ) if i % 10 == 9 || i % 10 == 8 => names += 1,
            (
                i,
                Err(StoreError::Conflict {
                    field: "devices[0].number",
                    ..
                }),
            ) if i % 15 == 14 || i == 0 => numbers += 1,
            (
                77,
                Err(StoreError::InvalidReference {
                    field: "domainId", ..
                }),
            ) => domains += 1,
            (i, other) => panic!("creation {i}: {other:?}"),
        }
    }
    // 15 names taken twice: one of each pair refused; number 5000 wanted
    // by u0, u14, u44, u74, u104, u134 and by u29, u59… of the pairs: one
    // holds it, the others are refused (20 refusals in creation order, 21
    // if a pair's second came first and took it); one foreign domain
    assert_eq!(domains, 1);
    assert_eq!(created.len() + names + numbers + domains, 150);
    assert!(
        (20..=21).contains(&(names + numbers)),
        "names {names}, numbers {numbers}"
    );
    let (users, devices, entries) = counts(db, c).await;
    assert_eq!(
        (users, devices, entries),
        (created.len(), created.len(), created.len())
    );
    // every entry carries the ids the database gave
    let mut r = db.store.read().await.unwrap();
    let entries = audit_entries(&mut r, c).await;
    for u in &created {
        let e = entries
            .iter()
            .find(|e| e.object_id.as_deref() == Some(u.id.0.to_string().as_str()))
            .unwrap_or_else(|| panic!("no entry for {}", u.data.user_name));
        let after: Value = serde_json::from_str(e.after.as_deref().unwrap()).unwrap();
        assert_eq!(after["id"], u.id.0);
        assert_eq!(after["userName"], u.data.user_name.as_str());
        assert_eq!(after["devices"][0]["id"], u.devices[0].id);
        assert!(u.devices[0].id > 0);
    }
}
