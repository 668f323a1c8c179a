//! Grants, parameter values and licenses, on both backends.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use twp_access::authz::{Application, Engine, GrantId, Object, ObjectKind, Principal, Subject};
use twp_access::params::Level;
use twp_domain::{CompanyId, DomainId, UserData, UserId};
use twp_store::grants::GrantFilter;
use twp_store::testing::TestDb;
use twp_store::users::UserSecrets;
use twp_store::{
    Backend, StoreError, companies, domains, grants, groups, licenses, parameters, users,
};

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { let db = super::TestDb::new(super::Backend::Sqlite).await; super::$name(&db).await; db.drop_db().await; } )* }
        mod postgres { $( #[tokio::test] async fn $name() { let db = super::TestDb::new(super::Backend::Postgres).await; super::$name(&db).await; db.drop_db().await; } )* }
    };
}

both_backends!(
    grants_round_trip_and_cascade,
    grants_are_scoped_by_company,
    parameter_values_per_level,
    installation_seed_and_licenses,
);

fn user(domain: DomainId, name: &str) -> UserData {
    UserData {
        domain_id: domain,
        user_name: name.into(),
        first_name: None,
        last_name: None,
        gsm: None,
        email: None,
        ip: None,
        enabled: true,
        culture: None,
        external_key: None,
    }
}

async fn new_user(tx: &mut twp_store::Tx, c: CompanyId, d: DomainId, name: &str) -> UserId {
    users::create(tx, c, &user(d, name), UserSecrets::default(), &[])
        .await
        .unwrap()
        .id
}

async fn grants_round_trip_and_cascade(db: &TestDb) {
    let mut tx = db.store.begin().await.unwrap();
    let c = companies::create(&mut tx, "A").await.unwrap();
    let d = domains::create(&mut tx, c.id, "Paris", 4).await.unwrap();
    let g = groups::create(&mut tx, c.id, d.id, "All", None)
        .await
        .unwrap();
    let u1 = new_user(&mut tx, c.id, d.id, "u1").await;
    let u2 = new_user(&mut tx, c.id, d.id, "u2").await;
    groups::add_members(&mut tx, c.id, g.id, &[u1, u2])
        .await
        .unwrap();
    let caller = grants::insert(
        &mut tx,
        c.id,
        Principal::Group(g.id),
        Object::Application(Application::Caller),
    )
    .await
    .unwrap();
    let cal = grants::insert(
        &mut tx,
        c.id,
        Principal::User(u2),
        Object::Calendar(Principal::User(u1)),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // A failed statement aborts a PostgreSQL transaction: its own one.
    let mut tx = db.store.begin().await.unwrap();
    let dup = grants::insert(
        &mut tx,
        c.id,
        Principal::Group(g.id),
        Object::Application(Application::Caller),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            dup,
            StoreError::Conflict {
                field: "object",
                ..
            }
        ),
        "{dup:?}"
    );
    drop(tx);

    let mut r = db.store.read().await.unwrap();
    assert_eq!(
        grants::get(&mut r, c.id, caller.grant.id).await.unwrap(),
        caller
    );
    assert_eq!(caller.grant.subject, Subject::Group(g.id));
    let of_u2 = grants::list(
        &mut r,
        c.id,
        GrantFilter {
            subject: Some(Principal::User(u2)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(of_u2, vec![cal.clone()]);
    let apps = grants::list(
        &mut r,
        c.id,
        GrantFilter {
            kind: Some(ObjectKind::Application),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(apps, vec![caller.clone()]);
    let about_u1 = grants::list(
        &mut r,
        c.id,
        GrantFilter {
            object: Some(Object::Calendar(Principal::User(u1))),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(about_u1, vec![cal.clone()]);

    // The snapshot builds an engine that sees both grants.
    let engine = Engine::from_snapshot(grants::snapshot(&mut r).await.unwrap()).unwrap();
    assert!(engine.check(u1, &Object::Application(Application::Caller)));
    assert!(engine.check(u2, &Object::Calendar(Principal::User(u1))));
    assert!(!engine.check(u1, &Object::Calendar(Principal::User(u2))));
    let usage = engine.seat_usage();
    assert_eq!(usage[0].in_use, 2);
    drop(r);

    // Deleting the calendar's owner deletes the grant about it.
    let mut tx = db.store.begin().await.unwrap();
    users::delete(&mut tx, c.id, u1).await.unwrap();
    tx.commit().await.unwrap();
    let mut r = db.store.read().await.unwrap();
    let e = grants::get(&mut r, c.id, cal.grant.id).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound("grant")));
    drop(r);

    let mut tx = db.store.begin().await.unwrap();
    grants::delete(&mut tx, c.id, caller.grant.id)
        .await
        .unwrap();
    let e = grants::delete(&mut tx, c.id, caller.grant.id)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound("grant")));
    tx.commit().await.unwrap();
}

async fn grants_are_scoped_by_company(db: &TestDb) {
    let mut tx = db.store.begin().await.unwrap();
    let a = companies::create(&mut tx, "A").await.unwrap();
    let b = companies::create(&mut tx, "B").await.unwrap();
    let da = domains::create(&mut tx, a.id, "Paris", 4).await.unwrap();
    let db_ = domains::create(&mut tx, b.id, "Lyon", 4).await.unwrap();
    let ua = new_user(&mut tx, a.id, da.id, "ua").await;
    let ub = new_user(&mut tx, b.id, db_.id, "ub").await;
    tx.commit().await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    // An owner of another company is not found, never granted.
    let e = grants::insert(
        &mut tx,
        a.id,
        Principal::User(ua),
        Object::CallLog(Principal::User(ub)),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StoreError::NotFound("user")), "{e:?}");
    drop(tx);
    let mut tx = db.store.begin().await.unwrap();
    let e = grants::insert(
        &mut tx,
        a.id,
        Principal::User(ub),
        Object::Application(Application::Alerter),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StoreError::NotFound("user")), "{e:?}");
    drop(tx);
    let mut tx = db.store.begin().await.unwrap();
    let g = grants::insert(
        &mut tx,
        a.id,
        Principal::User(ua),
        Object::Application(Application::Alerter),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut r = db.store.read().await.unwrap();
    assert!(grants::get(&mut r, b.id, g.grant.id).await.is_err());
    assert!(
        grants::list(&mut r, b.id, GrantFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        grants::get(&mut r, a.id, GrantId(g.grant.id.0))
            .await
            .is_ok()
    );
}

async fn parameter_values_per_level(db: &TestDb) {
    let mut tx = db.store.begin().await.unwrap();
    let a = companies::create(&mut tx, "A").await.unwrap();
    let b = companies::create(&mut tx, "B").await.unwrap();
    let d = domains::create(&mut tx, a.id, "Paris", 4).await.unwrap();
    let g1 = groups::create(&mut tx, a.id, d.id, "G1", None)
        .await
        .unwrap();
    let g2 = groups::create(&mut tx, a.id, d.id, "G2", None)
        .await
        .unwrap();
    let u = new_user(&mut tx, a.id, d.id, "u").await;
    let other = new_user(&mut tx, a.id, d.id, "other").await;
    groups::add_members(&mut tx, a.id, g1.id, &[u])
        .await
        .unwrap();
    groups::add_members(&mut tx, a.id, g2.id, &[u])
        .await
        .unwrap();
    let key = "Caller-ShowNotes";
    parameters::set(&mut tx, None, key, Level::Default, "No")
        .await
        .unwrap();
    parameters::set(&mut tx, Some(a.id), key, Level::Domain(d.id), "Yes")
        .await
        .unwrap();
    parameters::set(&mut tx, Some(a.id), key, Level::Group(g2.id), "No")
        .await
        .unwrap();
    // Replaced, not duplicated.
    parameters::set(&mut tx, Some(a.id), key, Level::Group(g2.id), "Yes")
        .await
        .unwrap();
    parameters::set(&mut tx, Some(a.id), key, Level::User(other), "No")
        .await
        .unwrap();
    parameters::set_group_rank(&mut tx, a.id, g2.id, Some(1))
        .await
        .unwrap();
    // Another company's domain is not found.
    let e = parameters::set(&mut tx, Some(b.id), key, Level::Domain(d.id), "No")
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound("domain")), "{e:?}");
    tx.commit().await.unwrap();

    let mut r = db.store.read().await.unwrap();
    let at_group = parameters::list_level(&mut r, Some(a.id), Level::Group(g2.id))
        .await
        .unwrap();
    assert_eq!(at_group.len(), 1);
    assert_eq!(at_group[0].value, "Yes");
    let scope = parameters::user_scope(&mut r, a.id, u).await.unwrap();
    assert_eq!(scope.domain, d.id);
    assert_eq!(scope.groups, vec![(g1.id, None), (g2.id, Some(1))]);
    let mut levels: Vec<_> = scope.values.iter().map(|v| v.level).collect();
    levels.sort_by_key(|l| format!("{l:?}"));
    // default, domain and group g2; not the other user's value.
    assert_eq!(scope.values.len(), 3, "{levels:?}");
    assert!(!levels.contains(&Level::User(other)));
    assert!(parameters::user_scope(&mut r, b.id, u).await.is_err());
    drop(r);

    let mut tx = db.store.begin().await.unwrap();
    let gone = parameters::unset(&mut tx, Some(a.id), key, Level::Group(g2.id))
        .await
        .unwrap();
    assert_eq!(gone.map(|v| v.value).as_deref(), Some("Yes"));
    let none = parameters::unset(&mut tx, Some(a.id), key, Level::Group(g2.id))
        .await
        .unwrap();
    assert!(none.is_none());
    groups::delete(&mut tx, a.id, g1.id).await.unwrap();
    tx.commit().await.unwrap();
    let mut r = db.store.read().await.unwrap();
    let scope = parameters::user_scope(&mut r, a.id, u).await.unwrap();
    assert_eq!(scope.groups, vec![(g2.id, Some(1))]);
    assert_eq!(scope.values.len(), 2);
}

async fn installation_seed_and_licenses(db: &TestDb) {
    let mut tx = db.store.begin().await.unwrap();
    assert_eq!(licenses::seed(&mut tx).await.unwrap(), None);
    let first = licenses::ensure_seed(&mut tx, "aa").await.unwrap();
    let again = licenses::ensure_seed(&mut tx, "bb").await.unwrap();
    assert_eq!((first.as_str(), again.as_str()), ("aa", "aa"));
    // The write lock on the installation row works once it exists.
    let v = grants::version(&mut tx).await.unwrap();
    assert_eq!(grants::lock_for_write(&mut tx).await.unwrap(), v + 1);
    assert_eq!(grants::lock_for_write(&mut tx).await.unwrap(), v + 2);
    assert_eq!(grants::version(&mut tx).await.unwrap(), v + 2);
    assert!(licenses::current(&mut tx).await.unwrap().is_none());
    licenses::insert(&mut tx, "one", "ACME", "2030-01-01", "tws")
        .await
        .unwrap();
    let two = licenses::insert(&mut tx, "two", "ACME", "2031-01-01", "tws")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut r = db.store.read().await.unwrap();
    assert_eq!(licenses::current(&mut r).await.unwrap(), Some(two));
}
