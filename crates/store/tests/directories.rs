//! Directories, their persisted contacts (the engine's `Persistence` over
//! the store) and private contacts, on both backends.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::sync::Arc;

use twp_dialplan::DialPlan;
use twp_directory::{
    Allowed, ContactField, CsvConnector, CsvOptions, CsvSource, Directory, DirectoryEngine,
    DirectoryId, DirectoryType, Mapping, Persistence, Target,
};
use twp_domain::{CompanyId, DomainId, SecretChange, UserData};
use twp_store::directories::{self, DirectoryData, StorePersistence, StoredReport, private};
use twp_store::testing::TestDb;
use twp_store::users::UserSecrets;
use twp_store::{Backend, StoreError, companies, domains, users};

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { let db = super::TestDb::new(super::Backend::Sqlite).await; super::$name(&db).await; db.drop_db().await; } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { let db = super::TestDb::new(super::Backend::Postgres).await; super::$name(&db).await; db.drop_db().await; } )* }
    };
}

both_backends!(
    directory_crud_and_tenancy,
    contacts_commit_load_and_restart,
    blobs_stored_before_compression_still_load,
    failed_commit_keeps_previous_contacts,
    reports_are_kept_per_directory,
    private_contacts_and_domain_users,
);

fn data(name: &str) -> DirectoryData {
    DirectoryData {
        name: name.into(),
        kind: "public".into(),
        priority: 10,
        server_type: "csv".into(),
        settings: r#"{"path":"/tmp/x.csv"}"#.into(),
        mapping: r#"{"id":"id"}"#.into(),
        sync_mode: "manual".into(),
        sync_every_minutes: None,
        merge_contacts: false,
    }
}

async fn two_companies(db: &TestDb) -> ((CompanyId, DomainId), (CompanyId, DomainId)) {
    let mut tx = db.store.begin().await.unwrap();
    let a = companies::create(&mut tx, "A").await.unwrap();
    let da = domains::create(&mut tx, a.id, "Paris", 4).await.unwrap();
    let b = companies::create(&mut tx, "B").await.unwrap();
    let dbb = domains::create(&mut tx, b.id, "Lyon", 4).await.unwrap();
    tx.commit().await.unwrap();
    ((a.id, da.id), (b.id, dbb.id))
}

async fn directory_crud_and_tenancy(db: &TestDb) {
    let ((a, da), (b, dbb)) = two_companies(db).await;
    let mut tx = db.store.begin().await.unwrap();
    let d = directories::create(&mut tx, a, da, &data("Sales"), Some("sealed"))
        .await
        .unwrap();
    assert!(d.has_password);
    assert_eq!((d.contacts, d.synced_at), (0, None));
    tx.commit().await.unwrap();

    // same name (case-insensitive) in the domain: conflict naming the field
    let mut tx = db.store.begin().await.unwrap();
    let e = directories::create(&mut tx, a, da, &data(" sales "), None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict { field: "name", .. }),
        "{e:?}"
    );
    drop(tx);

    let mut tx = db.store.begin().await.unwrap();
    let mut changed = data("Sales EU");
    changed.priority = 3;
    changed.sync_mode = "every".into();
    changed.sync_every_minutes = Some(30);
    let u = directories::update(&mut tx, a, da, d.id, &changed, SecretChange::Keep)
        .await
        .unwrap();
    assert_eq!(u.data, changed);
    assert!(u.has_password);
    let u = directories::update(&mut tx, a, da, d.id, &changed, SecretChange::Clear)
        .await
        .unwrap();
    assert!(!u.has_password);
    tx.commit().await.unwrap();

    // another company sees nothing: not found, never forbidden
    let mut c = db.store.read().await.unwrap();
    assert!(matches!(
        directories::get(&mut c, b, dbb, d.id).await,
        Err(StoreError::NotFound("directory"))
    ));
    assert!(matches!(
        directories::get(&mut c, b, da, d.id).await,
        Err(StoreError::NotFound("directory"))
    ));
    assert!(
        !directories::exists_in_company(&mut c, b, d.id)
            .await
            .unwrap()
    );
    assert!(
        directories::exists_in_company(&mut c, a, d.id)
            .await
            .unwrap()
    );
    assert!(directories::list(&mut c, b, dbb).await.unwrap().is_empty());
    assert_eq!(directories::list(&mut c, a, da).await.unwrap().len(), 1);
    assert_eq!(directories::list_all(&mut c).await.unwrap().len(), 1);
    drop(c);

    let mut tx = db.store.begin().await.unwrap();
    assert!(matches!(
        directories::delete(&mut tx, b, dbb, d.id).await,
        Err(StoreError::NotFound(_))
    ));
    drop(tx);
    let mut tx = db.store.begin().await.unwrap();
    directories::delete(&mut tx, a, da, d.id).await.unwrap();
    tx.commit().await.unwrap();
    let mut c = db.store.read().await.unwrap();
    assert!(directories::list(&mut c, a, da).await.unwrap().is_empty());
}

fn engine_directory(id: i64, domain: DomainId) -> Directory {
    Directory {
        id: DirectoryId(id),
        domain,
        name: "CSV".into(),
        kind: DirectoryType::Public,
        priority: 1,
        merge_contacts: false,
        mapping: Mapping::new(
            [
                (Target::Field(ContactField::Id), "id"),
                (Target::Field(ContactField::LastName), "sn"),
                (Target::Field(ContactField::Work), "phone"),
            ],
            [],
        )
        .unwrap(),
    }
}

/// A committed CSV directory in `domain` of `company`; its id.
async fn csv_directory(db: &TestDb, company: CompanyId, domain: DomainId) -> i64 {
    let mut tx = db.store.begin().await.unwrap();
    let d = directories::create(&mut tx, company, domain, &data("CSV"), None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    d.id
}

fn csv(text: &str) -> CsvConnector {
    CsvConnector::new(
        CsvSource::Bytes(Arc::from(text.as_bytes().to_vec())),
        CsvOptions::default(),
    )
}

fn engine(db: &TestDb, company: CompanyId, domain: DomainId) -> Arc<DirectoryEngine> {
    let p = StorePersistence::new(db.store.clone(), company, tokio::runtime::Handle::current());
    Arc::new(DirectoryEngine::new(
        domain,
        DialPlan::default().compile().unwrap(),
        Arc::new(p),
    ))
}

/// Runs blocking engine work off the runtime's workers, as the server does.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

async fn contacts_commit_load_and_restart(db: &TestDb) {
    let ((a, da), _) = two_companies(db).await;
    let id = csv_directory(db, a, da).await;

    // 10,000 contacts: several stored chunks
    let mut text = String::from("id;sn;phone\n");
    for i in 0..10_000 {
        text.push_str(&format!(
            "{i};Name{i};+33 1 40 {:02} {:02} {:02}\n",
            i / 10_000,
            (i / 100) % 100,
            i % 100
        ));
    }
    let e = engine(db, a, da);
    let e2 = e.clone();
    let report = blocking(move || {
        e2.upsert_directory(engine_directory(id, da)).unwrap();
        e2.synchronise(DirectoryId(id), &mut csv(&text)).unwrap()
    })
    .await;
    assert_eq!(report.created, 10_000);
    let mut c = db.store.read().await.unwrap();
    let stored = directories::get(&mut c, a, da, id).await.unwrap();
    assert_eq!(stored.contacts, 10_000);
    assert!(stored.synced_at.is_some());
    assert!(
        directories::contact_chunks(&mut c, a, id)
            .await
            .unwrap()
            .len()
            >= 3
    );
    drop(c);

    // a new engine (a restart) loads the contacts and the derived keys
    let restarted = engine(db, a, da);
    let r2 = restarted.clone();
    blocking(move || r2.upsert_directory(engine_directory(id, da)).unwrap()).await;
    let g = restarted.generation(DirectoryId(id)).unwrap();
    assert_eq!(g.contacts().len(), 10_000);
    let hit = restarted.lookup("+33140002345", Allowed::All).unwrap();
    assert_eq!(hit.profile.name(), "Name2345");
    assert_eq!(hit.field, ContactField::Work);
    let p = StorePersistence::new(db.store.clone(), a, tokio::runtime::Handle::current());
    let derived = blocking(move || p.load_derived(DirectoryId(id)).unwrap()).await;
    assert_eq!(derived, Some(g.derived()));

    // another company's persistence reads nothing of it
    let other = StorePersistence::new(
        db.store.clone(),
        CompanyId(a.0 + 1),
        tokio::runtime::Handle::current(),
    );
    let (loaded, derived) = blocking(move || {
        (
            other.load(DirectoryId(id)).unwrap(),
            other.load_derived(DirectoryId(id)).unwrap(),
        )
    })
    .await;
    assert!(loaded.is_empty() && derived.is_none());
}

/// Contact chunks and derived keys are stored compressed; blobs written
/// before compression (untagged) still load, and damaged derived keys are
/// rebuilt from the contacts instead of failing the load.
async fn blobs_stored_before_compression_still_load(db: &TestDb) {
    let ((a, da), _) = two_companies(db).await;
    let id = csv_directory(db, a, da).await;
    let mut text = String::from("id;sn;phone\n");
    for i in 0..5_000 {
        text.push_str(&format!(
            "{i};Name{i};+33 1 40 00 {:02} {:02}\n",
            i / 100,
            i % 100
        ));
    }
    let e = engine(db, a, da);
    let e2 = e.clone();
    blocking(move || {
        e2.upsert_directory(engine_directory(id, da)).unwrap();
        e2.synchronise(DirectoryId(id), &mut csv(&text)).unwrap();
    })
    .await;
    let g = e.generation(DirectoryId(id)).unwrap();
    let raw: Vec<Vec<u8>> = g
        .contacts()
        .chunks(directories::CHUNK)
        .map(directories::encode_chunk)
        .collect();
    let mut c = db.store.read().await.unwrap();
    let stored = directories::contact_chunks(&mut c, a, id).await.unwrap();
    drop(c);
    assert_eq!(stored.len(), raw.len());
    let (stored_bytes, raw_bytes) = (
        stored.iter().map(Vec::len).sum::<usize>(),
        raw.iter().map(Vec::len).sum::<usize>(),
    );
    assert!(stored.iter().all(|b| b.starts_with(b"Z1")));
    assert!(
        stored_bytes * 2 < raw_bytes,
        "{stored_bytes} of {raw_bytes}"
    );

    // rewritten as a server before compression stored them
    let mut tx = db.store.begin().await.unwrap();
    directories::clear_contacts(&mut tx, a, id).await.unwrap();
    for (n, chunk) in raw.iter().enumerate() {
        directories::insert_contact_chunk(&mut tx, id, n, chunk)
            .await
            .unwrap();
    }
    directories::save_derived(&mut tx, id, 5_000, &g.derived())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let p = StorePersistence::new(db.store.clone(), a, tokio::runtime::Handle::current());
    let (loaded, derived) = blocking(move || {
        (
            p.load(DirectoryId(id)).unwrap(),
            p.load_derived(DirectoryId(id)).unwrap(),
        )
    })
    .await;
    assert_eq!(loaded, g.contacts().to_vec());
    assert_eq!(derived, Some(g.derived()));

    // damaged derived keys: the restart rebuilds them from the contacts
    let mut tx = db.store.begin().await.unwrap();
    directories::save_derived(&mut tx, id, 5_000, b"Z1\xff\xff\x00\x00garbage")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let p = StorePersistence::new(db.store.clone(), a, tokio::runtime::Handle::current());
    assert_eq!(
        blocking(move || p.load_derived(DirectoryId(id)).unwrap()).await,
        None
    );
    let restarted = engine(db, a, da);
    let r2 = restarted.clone();
    blocking(move || r2.upsert_directory(engine_directory(id, da)).unwrap()).await;
    let hit = restarted.lookup("+33140001234", Allowed::All).unwrap();
    assert_eq!(hit.profile.name(), "Name1234");
}

/// The writer does not checkpoint the WAL itself (a large commit would pay
/// for copying it all); the store's task does, within seconds, so the
/// pages reach the database file without any connection closing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_commits_reach_the_database_file() {
    let db = TestDb::new(Backend::Sqlite).await;
    let ((a, da), _) = two_companies(&db).await;
    let id = csv_directory(&db, a, da).await;
    let path = db
        .url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let size = || std::fs::metadata(&path).unwrap().len();
    let before = size();
    let mut tx = db.store.begin().await.unwrap();
    directories::clear_contacts(&mut tx, a, id).await.unwrap();
    for n in 0..4 {
        directories::insert_contact_chunk(&mut tx, id, n, &vec![n as u8; 4 << 20])
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while size() < before + (16 << 20) {
        assert!(
            std::time::Instant::now() < deadline,
            "the WAL was not checkpointed: database file {} bytes, {before} before",
            size()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    db.drop_db().await;
}

async fn failed_commit_keeps_previous_contacts(db: &TestDb) {
    let ((a, da), (b, _)) = two_companies(db).await;
    let id = csv_directory(db, a, da).await;
    let e = engine(db, a, da);
    let e2 = e.clone();
    blocking(move || {
        e2.upsert_directory(engine_directory(id, da)).unwrap();
        e2.synchronise(
            DirectoryId(id),
            &mut csv("id;sn;phone\n1;Dupont;0140000001\n"),
        )
        .unwrap();
    })
    .await;
    // the same directory seen through another company's persistence: the
    // commit is refused and nothing of it is written
    let wrong = Arc::new(DirectoryEngine::new(
        da,
        DialPlan::default().compile().unwrap(),
        Arc::new(StorePersistence::new(
            db.store.clone(),
            b,
            tokio::runtime::Handle::current(),
        )),
    ));
    let err = blocking(move || {
        wrong.upsert_directory(engine_directory(id, da)).unwrap();
        wrong
            .synchronise(
                DirectoryId(id),
                &mut csv("id;sn;phone\n2;Martin;0140000002\n3;X;0140000003\n"),
            )
            .unwrap_err()
    })
    .await;
    assert!(err.to_string().contains("directory not found"), "{err}");
    let restarted = engine(db, a, da);
    let r2 = restarted.clone();
    blocking(move || r2.upsert_directory(engine_directory(id, da)).unwrap()).await;
    let g = restarted.generation(DirectoryId(id)).unwrap();
    assert_eq!(g.contacts().len(), 1);
    assert_eq!(g.contacts()[0].id(), "1");
}

async fn reports_are_kept_per_directory(db: &TestDb) {
    let ((a, da), (b, dbb)) = two_companies(db).await;
    let mut tx = db.store.begin().await.unwrap();
    let d = directories::create(&mut tx, a, da, &data("CSV"), None)
        .await
        .unwrap();
    let r = StoredReport {
        outcome: "completed".into(),
        report: r#"{"created":1}"#.into(),
        started_at: 1,
        finished_at: 2,
    };
    directories::save_report(&mut tx, a, d.id, &r)
        .await
        .unwrap();
    let r2 = StoredReport {
        outcome: "failed".into(),
        ..r.clone()
    };
    directories::save_report(&mut tx, a, d.id, &r2)
        .await
        .unwrap();
    assert!(
        directories::save_report(&mut tx, b, d.id, &r)
            .await
            .is_err()
    );
    tx.commit().await.unwrap();
    let mut c = db.store.read().await.unwrap();
    assert_eq!(
        directories::report(&mut c, a, da, d.id).await.unwrap(),
        Some(r2)
    );
    assert!(directories::report(&mut c, b, dbb, d.id).await.is_err());
}

async fn private_contacts_and_domain_users(db: &TestDb) {
    let ((a, da), (b, dbb)) = two_companies(db).await;
    let mut tx = db.store.begin().await.unwrap();
    let user = UserData {
        domain_id: da,
        user_name: "jdupont".into(),
        first_name: Some("Jean".into()),
        last_name: Some("Dupont".into()),
        gsm: Some("+33611223344".into()),
        email: Some("jean@example.com".into()),
        ip: None,
        enabled: true,
        culture: None,
        external_key: None,
    };
    let u = users::create(&mut tx, a, &user, UserSecrets::default(), &[])
        .await
        .unwrap();
    let made = private::create(
        &mut tx,
        a,
        u.id,
        &[
            r#"{"lastName":"Plumber"}"#.into(),
            r#"{"lastName":"Doctor"}"#.into(),
        ],
    )
    .await
    .unwrap();
    assert_eq!(made.len(), 2);
    tx.commit().await.unwrap();

    let mut tx = db.store.begin().await.unwrap();
    let up = private::update(
        &mut tx,
        a,
        u.id,
        made[0].id,
        r#"{"lastName":"Electrician"}"#,
    )
    .await
    .unwrap();
    assert_eq!(up.fields, r#"{"lastName":"Electrician"}"#);
    private::delete(&mut tx, a, u.id, made[1].id).await.unwrap();
    tx.commit().await.unwrap();

    let mut c = db.store.read().await.unwrap();
    let list = private::list(&mut c, a, u.id).await.unwrap();
    assert_eq!(list.len(), 1);
    // another company: the user is not found, its contacts neither
    assert!(matches!(
        private::list(&mut c, b, u.id).await,
        Err(StoreError::NotFound("user"))
    ));
    assert!(matches!(
        private::get(&mut c, b, u.id, made[0].id).await,
        Err(StoreError::NotFound(_))
    ));
    let people = private::domain_users(&mut c, a, da, None).await.unwrap();
    assert_eq!(people.len(), 1);
    // made by hand: in no import's directory
    assert!(
        private::domain_users(&mut c, a, da, Some(1))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(people[0].last_name.as_deref(), Some("Dupont"));
    assert!(
        private::domain_users(&mut c, b, dbb, None)
            .await
            .unwrap()
            .is_empty()
    );
}
