//! The store's suite, run against both backends: every test body is written
//! once and instantiated for SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use twp_domain::{
    AdminScope, AuditEntry, CompanyId, DeviceData, DeviceProtocol, DeviceSecrets, SecretChange,
    SipSettings, UserData, UserId,
};
use twp_store::testing::TestDb;
use twp_store::users::{UserFilter, UserSecrets};
use twp_store::{
    Backend, PageRequest, StoreError, admins, audit, companies, domains, groups, pbx_links, users,
};

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { let db = super::TestDb::new(super::Backend::Sqlite).await; super::$name(&db).await; db.drop_db().await; } )* }
        mod postgres { $( #[tokio::test] async fn $name() { let db = super::TestDb::new(super::Backend::Postgres).await; super::$name(&db).await; db.drop_db().await; } )* }
    };
}

both_backends!(
    companies_and_domains,
    users_with_devices,
    scoping_by_company,
    paging_and_filters,
    groups_and_members,
    failed_write_leaves_nothing,
    administrators_and_sessions,
    audit_log_scoping,
    migrations_are_idempotent,
    plans_per_domain,
    links_and_supervised_devices,
);

fn user(domain: twp_domain::DomainId, name: &str) -> UserData {
    UserData {
        domain_id: domain,
        user_name: name.into(),
        first_name: Some("Jean".into()),
        last_name: Some("Dupont".into()),
        gsm: Some("+33612345678".into()),
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
        protocol: DeviceProtocol::Csta,
        ip: None,
        video: false,
        site: None,
        sip: SipSettings::default(),
    }
}

async fn companies_and_domains(db: &TestDb) {
    let mut tx = db.store.begin().await.unwrap();
    let c = companies::create(&mut tx, "SSDEI").await.unwrap();
    let d = domains::create(&mut tx, c.id, "Paris", 4).await.unwrap();
    tx.commit().await.unwrap();
    let mut r = db.store.read().await.unwrap();
    assert_eq!(
        domains::get(&mut r, c.id, d.id)
            .await
            .unwrap()
            .numbering_plan_length,
        4
    );
    drop(r);
    let mut tx = db.store.begin().await.unwrap();
    let e = companies::create(&mut tx, "ssdei").await.unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict { field: "name", .. }),
        "{e:?}"
    );
    drop(tx);
    let mut tx = db.store.begin().await.unwrap();
    let e = domains::create(&mut tx, c.id, "PARIS", 5)
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict { field: "name", .. }),
        "{e:?}"
    );
    drop(tx);
    let mut tx = db.store.begin().await.unwrap();
    let d2 = domains::update(&mut tx, c.id, d.id, "Paris-Nord", 5)
        .await
        .unwrap();
    assert_eq!(d2.name, "Paris-Nord");
    companies::delete(&mut tx, c.id).await.unwrap();
    assert!(matches!(
        domains::get(&mut tx, c.id, d.id).await,
        Err(StoreError::NotFound(_))
    ));
    tx.commit().await.unwrap();
}

async fn users_with_devices(db: &TestDb) {
    let mut tx = db.store.begin().await.unwrap();
    let c = companies::create(&mut tx, "A").await.unwrap();
    let d = domains::create(&mut tx, c.id, "Paris", 4).await.unwrap();
    let secrets = UserSecrets {
        password_hash: SecretChange::Set("$argon2id$fake".into()),
        vm_password: SecretChange::Set("enc".into()),
    };
    let dev_secrets = DeviceSecrets {
        password: SecretChange::Set("enc-pw".into()),
        sip_password: SecretChange::Keep,
    };
    let u = users::create(
        &mut tx,
        c.id,
        &user(d.id, "jdupont"),
        secrets,
        &[
            (device("1001"), dev_secrets.clone()),
            (device("1002"), DeviceSecrets::default()),
        ],
    )
    .await
    .unwrap();
    assert!(u.has_password && u.has_vm_password);
    assert_eq!(u.devices.len(), 2);
    assert!(u.devices[0].has_password && !u.devices[1].has_password);
    assert_eq!(u.data.email.as_deref(), Some("jdupont@example.fr"));
    tx.commit().await.unwrap();
    // A failed statement aborts a PostgreSQL transaction: each refused write
    // below gets its own transaction, dropped (rolled back) afterwards.
    let mut tx = db.store.begin().await.unwrap();
    // the same device number in the same domain is refused, naming the field
    let e = users::create(
        &mut tx,
        c.id,
        &user(d.id, "other"),
        UserSecrets::default(),
        &[(device("1001"), DeviceSecrets::default())],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Conflict {
                field: "devices[0].number",
                ..
            }
        ),
        "{e:?}"
    );
    drop(tx);
    let mut tx = db.store.begin().await.unwrap();
    let e = users::create(
        &mut tx,
        c.id,
        &user(d.id, "JDUPONT"),
        UserSecrets::default(),
        &[],
    )
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
    drop(tx);
    let mut tx = db.store.begin().await.unwrap();
    let mut data = u.data.clone();
    data.enabled = false;
    data.first_name = None;
    let u2 = users::update(
        &mut tx,
        c.id,
        u.id,
        &data,
        UserSecrets {
            password_hash: SecretChange::Clear,
            vm_password: SecretChange::Keep,
        },
    )
    .await
    .unwrap();
    assert!(!u2.data.enabled && u2.data.first_name.is_none());
    assert!(!u2.has_password && u2.has_vm_password);
    let dev = users::add_device(
        &mut tx,
        c.id,
        u.id,
        &DeviceData {
            protocol: DeviceProtocol::Sip,
            sip: SipSettings {
                port: Some(5060),
                dtmf_method: Some(twp_domain::DtmfMethod::Rfc2833),
                tls: true,
                ..Default::default()
            },
            ..device("1003")
        },
        DeviceSecrets::default(),
    )
    .await
    .unwrap();
    assert_eq!(dev.data.sip.port, Some(5060));
    assert!(dev.data.sip.tls);
    let mut dd = dev.data.clone();
    dd.number = "1004".into();
    let dev2 = users::update_device(
        &mut tx,
        c.id,
        u.id,
        dev.id,
        &dd,
        DeviceSecrets {
            password: SecretChange::Set("x".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(dev2.data.number, "1004");
    assert!(dev2.has_password);
    users::delete_device(&mut tx, c.id, u.id, dev.id)
        .await
        .unwrap();
    assert_eq!(
        users::get(&mut tx, c.id, u.id).await.unwrap().devices.len(),
        2
    );
    users::delete(&mut tx, c.id, u.id).await.unwrap();
    assert!(matches!(
        users::get(&mut tx, c.id, u.id).await,
        Err(StoreError::NotFound(_))
    ));
    tx.commit().await.unwrap();
}

async fn scoping_by_company(db: &TestDb) {
    let mut tx = db.store.begin().await.unwrap();
    let a = companies::create(&mut tx, "A").await.unwrap();
    let b = companies::create(&mut tx, "B").await.unwrap();
    let da = domains::create(&mut tx, a.id, "Paris", 4).await.unwrap();
    let db_ = domains::create(&mut tx, b.id, "Lyon", 4).await.unwrap();
    let ua = users::create(
        &mut tx,
        a.id,
        &user(da.id, "alice"),
        UserSecrets::default(),
        &[(device("1001"), DeviceSecrets::default())],
    )
    .await
    .unwrap();
    let ga = groups::create(&mut tx, a.id, da.id, "All", None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    // every id of company A, asked about company B, is not found
    assert!(matches!(
        domains::get(&mut tx, b.id, da.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        users::get(&mut tx, b.id, ua.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        groups::get(&mut tx, b.id, ga.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        users::delete(&mut tx, b.id, ua.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        users::get_device(&mut tx, b.id, ua.id, ua.devices[0].id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        domains::delete(&mut tx, b.id, da.id).await,
        Err(StoreError::NotFound(_))
    ));
    // a user of B cannot be created in a domain of A, nor A's user be moved to B's domain
    let e = users::create(
        &mut tx,
        b.id,
        &user(da.id, "mallory"),
        UserSecrets::default(),
        &[],
    )
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
    // the refused insert aborted the PostgreSQL transaction: start another
    drop(tx);
    let mut tx = db.store.begin().await.unwrap();
    let e = users::update(
        &mut tx,
        a.id,
        ua.id,
        &user(db_.id, "alice"),
        UserSecrets::default(),
    )
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
    // nor be put in a group of the other company
    let ub = users::create(
        &mut tx,
        b.id,
        &user(db_.id, "bob"),
        UserSecrets::default(),
        &[],
    )
    .await
    .unwrap();
    let e = groups::add_members(&mut tx, a.id, ga.id, &[ub.id])
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::InvalidReference {
                field: "userIds",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(matches!(
        groups::add_members(&mut tx, b.id, ga.id, &[ub.id]).await,
        Err(StoreError::NotFound(_))
    ));
    let list = users::list(
        &mut tx,
        b.id,
        &UserFilter::default(),
        &PageRequest::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].id, ub.id);
    tx.commit().await.unwrap();
}

async fn paging_and_filters(db: &TestDb) {
    let mut tx = db.store.begin().await.unwrap();
    let c = companies::create(&mut tx, "A").await.unwrap();
    let d1 = domains::create(&mut tx, c.id, "Paris", 4).await.unwrap();
    let d2 = domains::create(&mut tx, c.id, "Lyon", 4).await.unwrap();
    for i in 0..25 {
        let d = if i % 5 == 0 { d2.id } else { d1.id };
        let mut u = user(d, &format!("user{i:02}"));
        u.enabled = i % 2 == 0;
        if i == 7 {
            u.last_name = Some("Ñúñez_100%".into());
        }
        users::create(
            &mut tx,
            c.id,
            &u,
            UserSecrets::default(),
            &[(device(&format!("2{i:03}")), DeviceSecrets::default())],
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let mut r = db.store.read().await.unwrap();
    let mut after = None;
    let mut seen = Vec::new();
    loop {
        let p = users::list(
            &mut r,
            c.id,
            &UserFilter::default(),
            &PageRequest::new(after, Some(10)),
        )
        .await
        .unwrap();
        assert!(p.items.iter().all(|u| u.devices.len() == 1));
        seen.extend(p.items.iter().map(|u| u.data.user_name.clone()));
        match p.next_after {
            Some(a) => after = Some(a),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    let f = |f: UserFilter| f;
    let n = |p: twp_store::Page<twp_domain::User>| p.items.len();
    let all = PageRequest::new(None, Some(100));
    assert_eq!(
        n(users::list(
            &mut r,
            c.id,
            &f(UserFilter {
                domain_id: Some(d2.id),
                ..Default::default()
            }),
            &all
        )
        .await
        .unwrap()),
        5
    );
    assert_eq!(
        n(users::list(
            &mut r,
            c.id,
            &f(UserFilter {
                enabled: Some(true),
                ..Default::default()
            }),
            &all
        )
        .await
        .unwrap()),
        13
    );
    assert_eq!(
        n(users::list(
            &mut r,
            c.id,
            &f(UserFilter {
                q: Some("USER1".into()),
                ..Default::default()
            }),
            &all
        )
        .await
        .unwrap()),
        10
    );
    assert_eq!(
        n(users::list(
            &mut r,
            c.id,
            &f(UserFilter {
                q: Some("100%".into()),
                ..Default::default()
            }),
            &all
        )
        .await
        .unwrap()),
        1
    );
    // LIKE wildcards in the search text are literal
    assert_eq!(
        n(users::list(
            &mut r,
            c.id,
            &f(UserFilter {
                q: Some("_".into()),
                ..Default::default()
            }),
            &all
        )
        .await
        .unwrap()),
        1
    );
    assert_eq!(
        n(users::list(
            &mut r,
            c.id,
            &f(UserFilter {
                number: Some("2007".into()),
                ..Default::default()
            }),
            &all
        )
        .await
        .unwrap()),
        1
    );
    let page = companies::list(&mut r, &AdminScope::SuperUser, Some("a"), &all)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let page = companies::list(&mut r, &AdminScope::Companies(vec![]), None, &all)
        .await
        .unwrap();
    assert!(page.items.is_empty());
}

async fn groups_and_members(db: &TestDb) {
    let mut tx = db.store.begin().await.unwrap();
    let c = companies::create(&mut tx, "A").await.unwrap();
    let d = domains::create(&mut tx, c.id, "Paris", 4).await.unwrap();
    let d2 = domains::create(&mut tx, c.id, "Lyon", 4).await.unwrap();
    let g = groups::create(&mut tx, c.id, d.id, "All", Some("everyone"))
        .await
        .unwrap();
    let u1 = users::create(
        &mut tx,
        c.id,
        &user(d.id, "u1"),
        UserSecrets::default(),
        &[],
    )
    .await
    .unwrap();
    let u2 = users::create(
        &mut tx,
        c.id,
        &user(d.id, "u2"),
        UserSecrets::default(),
        &[],
    )
    .await
    .unwrap();
    let u3 = users::create(
        &mut tx,
        c.id,
        &user(d2.id, "u3"),
        UserSecrets::default(),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(
        groups::add_members(&mut tx, c.id, g.id, &[u1.id, u2.id])
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        groups::add_members(&mut tx, c.id, g.id, &[u1.id])
            .await
            .unwrap(),
        0
    );
    // a user of another domain cannot join
    assert!(
        groups::add_members(&mut tx, c.id, g.id, &[u3.id])
            .await
            .is_err()
    );
    tx.commit().await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    assert_eq!(
        groups::get(&mut tx, c.id, g.id).await.unwrap().member_count,
        2
    );
    let all = PageRequest::new(None, None);
    let members = users::list(
        &mut tx,
        c.id,
        &UserFilter {
            group_id: Some(g.id.0),
            ..Default::default()
        },
        &all,
    )
    .await
    .unwrap();
    assert_eq!(members.items.len(), 2);
    let others = users::list(
        &mut tx,
        c.id,
        &UserFilter {
            domain_id: Some(d.id),
            not_in_group_id: Some(g.id.0),
            ..Default::default()
        },
        &all,
    )
    .await
    .unwrap();
    assert!(others.items.is_empty());
    let of_u1 = groups::list(&mut tx, c.id, None, None, Some(u1.id), &all)
        .await
        .unwrap();
    assert_eq!(of_u1.items.len(), 1);
    groups::remove_member(&mut tx, c.id, g.id, u1.id)
        .await
        .unwrap();
    assert!(matches!(
        groups::remove_member(&mut tx, c.id, g.id, u1.id).await,
        Err(StoreError::NotFound(_))
    ));
    // moving u2 to Lyon removes it from Paris's groups
    let mut data = u2.data.clone();
    data.domain_id = d2.id;
    users::update(&mut tx, c.id, u2.id, &data, UserSecrets::default())
        .await
        .unwrap();
    assert_eq!(
        groups::get(&mut tx, c.id, g.id).await.unwrap().member_count,
        0
    );
    let g2 = groups::update(&mut tx, c.id, g.id, "Everyone", None)
        .await
        .unwrap();
    assert_eq!(g2.name, "Everyone");
    assert!(g2.description.is_none());
    groups::delete(&mut tx, c.id, g.id).await.unwrap();
    tx.commit().await.unwrap();
}

async fn failed_write_leaves_nothing(db: &TestDb) {
    let mut tx = db.store.begin().await.unwrap();
    let c = companies::create(&mut tx, "A").await.unwrap();
    let d = domains::create(&mut tx, c.id, "Paris", 4).await.unwrap();
    tx.commit().await.unwrap();
    // second device duplicates the first: the whole user must be absent
    let mut tx = db.store.begin().await.unwrap();
    let r = users::create(
        &mut tx,
        c.id,
        &user(d.id, "half"),
        UserSecrets::default(),
        &[
            (device("3001"), DeviceSecrets::default()),
            (device("3001"), DeviceSecrets::default()),
        ],
    )
    .await;
    assert!(
        matches!(
            r,
            Err(StoreError::Conflict {
                field: "devices[1].number",
                ..
            })
        ),
        "{r:?}"
    );
    drop(tx); // rollback
    let mut c2 = db.store.read().await.unwrap();
    let list = users::list(
        &mut c2,
        c.id,
        &UserFilter::default(),
        &PageRequest::new(None, None),
    )
    .await
    .unwrap();
    assert!(list.items.is_empty());
}

async fn administrators_and_sessions(db: &TestDb) {
    let mut tx = db.store.begin().await.unwrap();
    let c = companies::create(&mut tx, "A").await.unwrap();
    let a = admins::create(&mut tx, "tws", "hash", &AdminScope::SuperUser, true)
        .await
        .unwrap();
    assert!(a.must_change_password && a.scope.is_super_user());
    let b = admins::create(
        &mut tx,
        "paris-admin",
        "hash2",
        &AdminScope::Companies(vec![c.id]),
        false,
    )
    .await
    .unwrap();
    assert_eq!(b.scope, AdminScope::Companies(vec![c.id]));
    tx.commit().await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    let e = admins::create(&mut tx, "TWS", "h", &AdminScope::SuperUser, false)
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict { field: "name", .. }),
        "{e:?}"
    );
    tx.commit().await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    let e = admins::update(
        &mut tx,
        b.id,
        "paris-admin",
        &AdminScope::Companies(vec![CompanyId(999_999)]),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::InvalidReference {
                field: "companyIds",
                ..
            }
        ),
        "{e:?}"
    );
    drop(tx);
    let mut tx = db.store.begin().await.unwrap();
    let cred = admins::credentials(&mut tx, "Paris-Admin")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cred.password_hash, "hash2");
    assert_eq!(
        admins::record_failure(&mut tx, b.id, None).await.unwrap(),
        1
    );
    assert_eq!(
        admins::record_failure(&mut tx, b.id, Some(5))
            .await
            .unwrap(),
        2
    );
    admins::record_success(&mut tx, b.id).await.unwrap();
    admins::create_session(
        &mut tx,
        "tokhash",
        a.id,
        twp_store::now_ms() + 60_000,
        Some("127.0.0.1"),
    )
    .await
    .unwrap();
    admins::create_session(&mut tx, "old", a.id, twp_store::now_ms() - 1, None)
        .await
        .unwrap();
    let (who, _) = admins::session(&mut tx, "tokhash").await.unwrap().unwrap();
    assert_eq!(who.id, a.id);
    assert!(admins::session(&mut tx, "old").await.unwrap().is_none());
    assert_eq!(admins::purge_sessions(&mut tx).await.unwrap(), 1);
    admins::set_password(&mut tx, a.id, "newhash", false)
        .await
        .unwrap();
    assert!(
        admins::session(&mut tx, "tokhash").await.unwrap().is_none(),
        "password change ends sessions"
    );
    assert_eq!(admins::count_super_users(&mut tx).await.unwrap(), 1);
    // deleting a company removes it from administrators' scopes
    companies::delete(&mut tx, c.id).await.unwrap();
    assert_eq!(
        admins::get(&mut tx, b.id).await.unwrap().scope,
        AdminScope::Companies(vec![])
    );
    tx.commit().await.unwrap();
}

async fn audit_log_scoping(db: &TestDb) {
    let mut tx = db.store.begin().await.unwrap();
    let entry = |company: Option<i64>, t: &str| AuditEntry {
        id: 0,
        at: twp_store::now_ms(),
        admin_id: Some(1),
        admin_name: "tws".into(),
        company_id: company.map(CompanyId),
        action: "create".into(),
        object_type: t.into(),
        object_id: Some("1".into()),
        object_name: None,
        before: None,
        after: Some("{}".into()),
    };
    for i in 0..5 {
        audit::record(&mut tx, &entry(Some(1), "user"))
            .await
            .unwrap();
        audit::record(
            &mut tx,
            &entry(Some(2), if i == 0 { "domain" } else { "user" }),
        )
        .await
        .unwrap();
    }
    audit::record(&mut tx, &entry(None, "administrator"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut r = db.store.read().await.unwrap();
    let all = PageRequest::new(None, Some(100));
    let f = audit::AuditFilter::default();
    assert_eq!(
        audit::list(&mut r, &AdminScope::SuperUser, &f, &all)
            .await
            .unwrap()
            .items
            .len(),
        11
    );
    let scoped = audit::list(&mut r, &AdminScope::Companies(vec![CompanyId(2)]), &f, &all)
        .await
        .unwrap();
    assert_eq!(scoped.items.len(), 5);
    assert!(
        scoped.items.windows(2).all(|w| w[0].id > w[1].id),
        "newest first"
    );
    let typed = audit::AuditFilter {
        object_type: Some("domain".into()),
        ..Default::default()
    };
    assert_eq!(
        audit::list(&mut r, &AdminScope::SuperUser, &typed, &all)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let p1 = audit::list(
        &mut r,
        &AdminScope::SuperUser,
        &f,
        &PageRequest::new(None, Some(4)),
    )
    .await
    .unwrap();
    let p2 = audit::list(
        &mut r,
        &AdminScope::SuperUser,
        &f,
        &PageRequest::new(p1.next_after, Some(4)),
    )
    .await
    .unwrap();
    assert!(p2.items[0].id < p1.items[3].id);
}

async fn migrations_are_idempotent(db: &TestDb) {
    // opening again applies nothing and checks the recorded checksums
    let again = twp_store::Store::open(&twp_store::StoreOptions {
        url: db.url.clone(),
        max_connections: 2,
    })
    .await
    .unwrap();
    again.ping().await.unwrap();
    again.close().await;
    let _ = UserId(0);
}

async fn plans_per_domain(db: &TestDb) {
    let mut tx = db.store.begin().await.unwrap();
    let a = companies::create(&mut tx, "A").await.unwrap();
    let b = companies::create(&mut tx, "B").await.unwrap();
    let d = domains::create(&mut tx, a.id, "Paris", 4).await.unwrap();
    assert!(
        twp_store::dialplans::get(&mut tx, a.id, d.id)
            .await
            .unwrap()
            .is_none()
    );
    twp_store::dialplans::put(&mut tx, a.id, d.id, "{\"v\":1}")
        .await
        .unwrap();
    twp_store::dialplans::put(&mut tx, a.id, d.id, "{\"v\":2}")
        .await
        .unwrap();
    assert_eq!(
        twp_store::dialplans::get(&mut tx, a.id, d.id)
            .await
            .unwrap()
            .unwrap()
            .document,
        "{\"v\":2}"
    );
    assert!(matches!(
        twp_store::dialplans::get(&mut tx, b.id, d.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        twp_store::dialplans::put(&mut tx, b.id, d.id, "{}").await,
        Err(StoreError::NotFound(_))
    ));
    twp_store::dialplans::reset(&mut tx, a.id, d.id)
        .await
        .unwrap();
    assert!(
        twp_store::dialplans::get(&mut tx, a.id, d.id)
            .await
            .unwrap()
            .is_none()
    );
    twp_store::dialplans::put(&mut tx, a.id, d.id, "{}")
        .await
        .unwrap();
    domains::delete(&mut tx, a.id, d.id).await.unwrap();
    tx.commit().await.unwrap();
}

fn link(role: twp_domain::LinkRole, port: u16) -> twp_domain::PbxLinkData {
    twp_domain::PbxLinkData {
        role,
        protocol: twp_domain::LinkProtocol::Csta,
        host: "192.0.2.10".into(),
        port,
        capacity: 500,
        sites: vec!["1.*".into(), "2.1".into()],
        session: twp_domain::LinkSession::SystemRegister,
        pbx_type: Some("OXE".into()),
        user_name: Some("cti".into()),
        callback_device: None,
        enabled: true,
    }
}

async fn links_and_supervised_devices(db: &TestDb) {
    use twp_domain::LinkRole;
    let mut tx = db.store.begin().await.unwrap();
    let c = companies::create(&mut tx, "A").await.unwrap();
    let d = domains::create(&mut tx, c.id, "Paris", 4).await.unwrap();
    let other = companies::create(&mut tx, "B").await.unwrap();
    let mut csta_link = link(LinkRole::Csta, 3211);
    csta_link.callback_device = Some("1999".into());
    let csta = pbx_links::create(&mut tx, c.id, d.id, &csta_link, Some("sealed"))
        .await
        .unwrap();
    assert_eq!(csta.data, csta_link);
    assert!(csta.has_password);
    let mut sup = link(LinkRole::Supervision, 3212);
    sup.enabled = false;
    let sup = pbx_links::create(&mut tx, c.id, d.id, &sup, None)
        .await
        .unwrap();
    let mut dev = device("1000");
    dev.site = Some("1.1".into());
    let mut soft = device("1001");
    soft.protocol = DeviceProtocol::Sip;
    users::create(
        &mut tx,
        c.id,
        &user(d.id, "a"),
        UserSecrets::default(),
        &[
            (dev, DeviceSecrets::default()),
            (soft, DeviceSecrets::default()),
        ],
    )
    .await
    .unwrap();
    let mut off = user(d.id, "b");
    off.enabled = false;
    users::create(
        &mut tx,
        c.id,
        &off,
        UserSecrets::default(),
        &[(device("1002"), DeviceSecrets::default())],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // one CSTA link per domain (guide 4.1), in its own transaction since a
    // failed statement ends a PostgreSQL transaction
    let mut tx = db.store.begin().await.unwrap();
    let e = pbx_links::create(&mut tx, c.id, d.id, &link(LinkRole::Csta, 1), None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict { field: "role", .. }),
        "{e:?}"
    );
    drop(tx);
    let mut tx = db.store.begin().await.unwrap();
    // another company cannot reach the domain
    assert!(
        pbx_links::create(
            &mut tx,
            other.id,
            d.id,
            &link(LinkRole::Supervision, 1),
            None
        )
        .await
        .is_err()
    );
    assert!(matches!(
        pbx_links::get(&mut tx, other.id, d.id, csta.id).await,
        Err(StoreError::NotFound(_))
    ));
    let list = pbx_links::list(&mut tx, c.id, d.id).await.unwrap();
    assert_eq!(
        list.iter().map(|l| l.id).collect::<Vec<_>>(),
        [csta.id, sup.id]
    );
    let enabled = pbx_links::list_enabled(&mut tx).await.unwrap();
    assert_eq!(enabled.iter().map(|l| l.id).collect::<Vec<_>>(), [csta.id]);
    let updated = pbx_links::update(
        &mut tx,
        c.id,
        d.id,
        csta.id,
        &link(LinkRole::Csta, 4000),
        SecretChange::Clear,
    )
    .await
    .unwrap();
    assert_eq!((updated.data.port, updated.has_password), (4000, false));
    // CTI devices of enabled users only: no SIP soft phone, no disabled user
    let devices = pbx_links::supervised_devices(&mut tx, d.id).await.unwrap();
    assert_eq!(
        devices,
        [pbx_links::SupervisedDevice {
            number: "1000".into(),
            site: Some("1.1".into()),
            ccos: None,
        }]
    );
    pbx_links::delete(&mut tx, c.id, d.id, sup.id)
        .await
        .unwrap();
    assert!(matches!(
        pbx_links::delete(&mut tx, c.id, d.id, sup.id).await,
        Err(StoreError::NotFound(_))
    ));
    tx.commit().await.unwrap();
}
