//! Users import against a real slapd, on both store backends: each
//! synchronisation type, renamed and removed entries, entries without a
//! number, special characters, hand-made users, the deletion safety share,
//! failures that change nothing, paging over 10,000 entries.

#![allow(clippy::unwrap_used)]

#[path = "../../connectors/tests/common/slapd.rs"]
#[allow(dead_code)]
mod slapd;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use slapd::{ADMIN, ADMIN_PASSWORD, PEOPLE, Slapd};
use twp_connectors::{LdapConnector, LdapSettings, Secret};
use twp_directory::{ConnectionTest, Connector, ConnectorError, RecordStream};
use twp_domain::{
    CompanyId, DeviceData, DeviceProtocol, DeviceSecrets, DomainId, GroupId, ImportMapping,
    ImportSchedule, ImportSecurity, ImportType, SyncType, UserData, UserField, UserImport,
    UserImportData,
};
use twp_import::{Progress, RunOptions, ldap_connector};
use twp_store::testing::TestDb;
use twp_store::user_imports::{self, ImportRun, RunStatus};
use twp_store::user_sync::{self, DomainUser, ImportActor};
use twp_store::users::{self, UserSecrets};
use twp_store::{Backend, companies, domains, groups};

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread")] async fn $name() { let db = super::TestDb::new(super::Backend::Sqlite).await; super::$name(&db).await; db.drop_db().await; } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread")] async fn $name() { let db = super::TestDb::new(super::Backend::Postgres).await; super::$name(&db).await; db.drop_db().await; } )* }
    };
}

both_backends!(
    sync_types_renames_removals_and_special_characters,
    safety_share_stops_a_full_run_until_confirmed,
    failures_change_nothing,
    paging_over_ten_thousand_entries,
    users_changed_during_the_read_are_seen,
    imported_users_never_reuse_an_id,
);

/// RFC 2849 value: base64 when not plain ASCII.
fn ldif_line(name: &str, value: &str) -> String {
    let safe =
        value.bytes().all(|b| (0x20..0x7F).contains(&b)) && !value.starts_with([' ', ':', '<']);
    if safe {
        return format!("{name}: {value}\n");
    }
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in value.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(T[(n >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    format!("{name}:: {out}\n")
}

/// A person entry `uid=<uid>,ou=people` (or the given RDN).
fn person(
    rdn: Option<&str>,
    uid: &str,
    given: &str,
    sn: &str,
    mail: Option<&str>,
    phone: Option<&str>,
) -> String {
    let dn = match rdn {
        Some(r) => format!("{r},{PEOPLE}"),
        None => format!("uid={uid},{PEOPLE}"),
    };
    let mut s = ldif_line("dn", &dn);
    s.push_str("objectClass: inetOrgPerson\n");
    s.push_str(&ldif_line("uid", uid));
    s.push_str(&ldif_line("cn", &format!("{sn}, {given}")));
    s.push_str(&ldif_line("givenName", given));
    s.push_str(&ldif_line("sn", sn));
    if let Some(m) = mail {
        s.push_str(&ldif_line("mail", m));
    }
    if let Some(p) = phone {
        s.push_str(&ldif_line("telephoneNumber", p));
    }
    s.push('\n');
    s
}

/// Applies LDIF changes with `ldapmodify` as the directory's administrator.
fn ldap_modify(server: &Slapd, ldif: &str) {
    let mut child = Command::new("ldapmodify")
        .args(["-x", "-H", &server.url(), "-D", ADMIN, "-w", ADMIN_PASSWORD])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ldif.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "ldapmodify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Site {
    company: CompanyId,
    domain: DomainId,
    group: GroupId,
    /// A user created by hand (no key).
    manual: i64,
}

/// A user as an administrator makes one: no key, no import.
fn by_hand(domain: DomainId, user_name: &str, first: &str, last: &str) -> UserData {
    UserData {
        domain_id: domain,
        user_name: user_name.into(),
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        gsm: None,
        email: None,
        ip: None,
        enabled: true,
        culture: None,
        external_key: None,
    }
}

async fn site(db: &TestDb) -> Site {
    let mut tx = db.store.begin().await.unwrap();
    let c = companies::create(&mut tx, "Exemple").await.unwrap();
    let d = domains::create(&mut tx, c.id, "Paris", 4).await.unwrap();
    let g = groups::create(&mut tx, c.id, d.id, "Imported", None)
        .await
        .unwrap();
    let manual = users::create(
        &mut tx,
        c.id,
        &by_hand(d.id, "manual", "Hand", "Made"),
        UserSecrets::default(),
        &[(
            DeviceData {
                number: "1999".into(),
                protocol: DeviceProtocol::Csta,
                ip: None,
                video: false,
                site: None,
                sip: Default::default(),
            },
            DeviceSecrets::default(),
        )],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    Site {
        company: c.id,
        domain: d.id,
        group: g.id,
        manual: manual.id.0,
    }
}

async fn link(
    db: &TestDb,
    s: &Site,
    server: &Slapd,
    mapping: ImportMapping,
    sync: SyncType,
) -> UserImport {
    let data = UserImportData {
        description: "OpenLDAP people".into(),
        import_type: ImportType::Ldap,
        domain_id: s.domain,
        group_id: Some(s.group),
        host: "127.0.0.1".into(),
        port: server.port,
        security: ImportSecurity::None,
        bind_name: ADMIN.into(),
        base_dn: PEOPLE.into(),
        filter: "(objectClass=inetOrgPerson)".into(),
        page_size: 100,
        mapping,
        sync_type: sync,
        schedule: ImportSchedule::Manual,
        delete_share_percent: 20,
    };
    let mut tx = db.store.begin().await.unwrap();
    let i = user_imports::create(&mut tx, s.company, &data, Some("sealed-elsewhere"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    i
}

fn options(confirm: bool) -> RunOptions {
    RunOptions {
        confirm,
        trigger: "manual",
        actor: ImportActor {
            admin_id: None,
            admin_name: "test".into(),
        },
        writer_hold: twp_import::WRITER_HOLD,
    }
}

async fn run_with(
    db: &TestDb,
    import: &UserImport,
    sync: SyncType,
    password: &str,
    confirm: bool,
) -> ImportRun {
    let mut import = import.clone();
    import.data.sync_type = sync;
    let connector = Box::new(ldap_connector(&import.data, Some(password.into())));
    twp_import::run(
        &db.store,
        &import,
        connector,
        &options(confirm),
        Arc::new(Progress::default()),
    )
    .await
    .unwrap()
}

async fn run(db: &TestDb, import: &UserImport, sync: SyncType) -> ImportRun {
    run_with(db, import, sync, ADMIN_PASSWORD, false).await
}

/// A confirmed run whose server stops it at `size_limit` entries, read in
/// pages of `page`: it fails, naming the size limit.
async fn cut_by_size_limit(
    db: &TestDb,
    import: &UserImport,
    server: &Slapd,
    page: u32,
    size_limit: u32,
) {
    let mut settings = LdapSettings::new("127.0.0.1", PEOPLE);
    settings.port = Some(server.port);
    settings.bind_name = ADMIN.into();
    settings.password = Secret::new(ADMIN_PASSWORD);
    settings.page_size = page;
    settings.size_limit = size_limit;
    let cut = twp_import::run(
        &db.store,
        import,
        Box::new(LdapConnector::new(settings).complete_only()),
        &options(true),
        Arc::new(Progress::default()),
    )
    .await
    .unwrap();
    assert_eq!(cut.status, RunStatus::Failed);
    assert!(
        cut.message.as_deref().unwrap().contains("size limit"),
        "{:?}",
        cut.message
    );
}

async fn domain_users(db: &TestDb, s: &Site) -> Vec<DomainUser> {
    let mut c = db.store.read().await.unwrap();
    user_sync::domain_users(&mut c, s.company, s.domain)
        .await
        .unwrap()
}

fn by_name<'a>(all: &'a [DomainUser], name: &str) -> Option<&'a DomainUser> {
    all.iter().find(|u| u.user_name == name)
}

fn details(run: &ImportRun) -> serde_json::Value {
    serde_json::from_str(&run.details_json).unwrap()
}

async fn sync_types_renames_removals_and_special_characters(db: &TestDb) {
    let server = Slapd::start(|out| {
        let mut l = String::new();
        l += &person(
            None,
            "adupont",
            "Alice",
            "Dupont",
            Some("alice@exemple.fr"),
            Some("1001"),
        );
        l += &person(
            None,
            "bmartin",
            "Bruno",
            "Martin",
            None,
            Some("+33 1 23 45 10 02"),
        );
        l += &person(None, "cnophone", "Chloé", "Sans", None, None);
        l += &person(
            None,
            "dbadmail",
            "Denis",
            "Mauvais",
            Some("not-an-address"),
            Some("1004"),
        );
        l += &person(
            Some("cn=Müller\\, Hans+uid=mhans"),
            "mhans",
            "Hans",
            "Müller",
            Some("hans@exemple.de"),
            Some("1005"),
        );
        // the hand-made user's name and number: never taken
        l += &person(None, "manual", "Not", "Mine", None, Some("1006"));
        l += &person(None, "ethief", "Eve", "Vol", None, Some("1999"));
        out.write_all(l.as_bytes()).unwrap();
    });
    let s = site(db).await;
    // key: entryUUID (stable across renames), the LDAP preset
    let import = link(
        db,
        &s,
        &server,
        ImportMapping::ldap(false),
        SyncType::InsertUpdate,
    )
    .await;

    let first = run(db, &import, SyncType::InsertUpdate).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.message);
    assert_eq!(
        (first.entries_read, first.created, first.ignored),
        (7, 3, 4)
    );
    let d = details(&first);
    let ignored = d["ignored"].as_array().unwrap();
    let reason_of = |uid: &str| {
        ignored
            .iter()
            .find(|e| e["dn"].as_str().unwrap().contains(uid))
            .map(|e| {
                (
                    e["field"].as_str().unwrap().to_owned(),
                    e["reason"].as_str().unwrap().to_owned(),
                )
            })
            .unwrap()
    };
    let (field, reason) = reason_of("cnophone");
    assert_eq!(field, "deviceNumber");
    assert!(reason.contains("no telephone number"), "{reason}");
    assert_eq!(reason_of("dbadmail").0, "email");
    let (field, reason) = reason_of("uid=manual");
    assert_eq!(field, "userName");
    assert!(reason.contains("manual"), "{reason}");
    let (field, reason) = reason_of("ethief");
    assert_eq!(field, "deviceNumber");
    assert!(reason.contains("1999"), "{reason}");

    let all = domain_users(db, &s).await;
    let alice = by_name(&all, "adupont").unwrap();
    let alice_id = alice.id;
    assert_eq!(alice.import_id, Some(import.id));
    assert_eq!(alice.email.as_deref(), Some("alice@exemple.fr"));
    assert_eq!(alice.devices[0].number, "1001");
    assert_eq!(
        by_name(&all, "bmartin").unwrap().devices[0].number,
        "+33123451002"
    );
    let hans = by_name(&all, "mhans").unwrap();
    assert_eq!(hans.last_name.as_deref(), Some("Müller"));
    // the DN with an escaped comma, a multi-valued RDN and UTF-8 is reported
    // as the server sends it (slapd writes the comma as \2C)
    let created = d["created"].as_array().unwrap();
    assert!(
        created
            .iter()
            .any(|e| e["dn"] == format!("cn=Müller\\2C Hans+uid=mhans,{PEOPLE}")),
        "{created:?}"
    );
    let manual = all.iter().find(|u| u.id == s.manual).unwrap();
    assert_eq!(
        (manual.first_name.as_deref(), manual.import_id),
        (Some("Hand"), None)
    );
    {
        let mut c = db.store.read().await.unwrap();
        let members = users::list(
            &mut c,
            s.company,
            &users::UserFilter {
                group_id: Some(s.group.0),
                ..Default::default()
            },
            &twp_store::PageRequest::new(None, Some(100)),
        )
        .await
        .unwrap();
        assert_eq!(members.items.len(), 3);
        let audit = twp_store::audit::list(
            &mut c,
            &twp_domain::AdminScope::SuperUser,
            &twp_store::audit::AuditFilter {
                action: Some("import-create".into()),
                ..Default::default()
            },
            &twp_store::PageRequest::new(None, Some(100)),
        )
        .await
        .unwrap();
        // one entry per created user, naming it, never the user made by hand
        let mut audited: Vec<(Option<String>, Option<String>)> = audit
            .items
            .iter()
            .map(|e| (e.object_id.clone(), e.object_name.clone()))
            .collect();
        audited.sort();
        let mut imported: Vec<(Option<String>, Option<String>)> = all
            .iter()
            .filter(|u| u.import_id == Some(import.id))
            .map(|u| (Some(u.id.to_string()), Some(u.user_name.clone())))
            .collect();
        imported.sort();
        assert_eq!(audited, imported);
        assert_eq!(imported.len(), 3);
    }

    // a second run with nothing changed changes nothing
    let again = run(db, &import, SyncType::InsertUpdate).await;
    assert_eq!((again.created, again.updated, again.deleted), (0, 0, 0));

    // renamed entry: new RDN and names, same entryUUID -> the same user, updated
    ldap_modify(
        &server,
        &format!(
            "dn: uid=adupont,{PEOPLE}\nchangetype: modrdn\nnewrdn: uid=aleroy\ndeleteoldrdn: 1\n\n\
             dn: uid=aleroy,{PEOPLE}\nchangetype: modify\nreplace: sn\nsn: Leroy\n-\nreplace: telephoneNumber\ntelephoneNumber: 1011\n\n\
             dn: uid=bmartin,{PEOPLE}\nchangetype: delete\n\n"
        ),
    );
    let renamed = run(db, &import, SyncType::InsertUpdate).await;
    assert_eq!(
        (renamed.updated, renamed.deleted, renamed.disabled),
        (1, 0, 0)
    );
    let all = domain_users(db, &s).await;
    let alice = by_name(&all, "aleroy").unwrap();
    assert_eq!(
        (alice.id, alice.last_name.as_deref()),
        (alice_id, Some("Leroy"))
    );
    assert_eq!(alice.devices.len(), 1);
    assert_eq!(alice.devices[0].number, "1011");
    assert!(by_name(&all, "adupont").is_none());
    // insert-update keeps the removed entry's user
    assert!(by_name(&all, "bmartin").unwrap().enabled);

    // insert-update-disable disables it (1 of 3 owned: above 20 %, so confirm)
    let held = run(db, &import, SyncType::InsertUpdateDisable).await;
    assert_eq!(held.status, RunStatus::ConfirmationRequired);
    assert!(
        by_name(&domain_users(db, &s).await, "bmartin")
            .unwrap()
            .enabled
    );
    let disabled = run_with(
        db,
        &import,
        SyncType::InsertUpdateDisable,
        ADMIN_PASSWORD,
        true,
    )
    .await;
    assert_eq!(
        (disabled.status, disabled.disabled),
        (RunStatus::Succeeded, 1)
    );
    assert!(
        !by_name(&domain_users(db, &s).await, "bmartin")
            .unwrap()
            .enabled
    );

    // full deletes it; the hand-made user, absent from the source, stays
    let full = run_with(db, &import, SyncType::Full, ADMIN_PASSWORD, true).await;
    assert_eq!((full.status, full.deleted), (RunStatus::Succeeded, 1));
    let all = domain_users(db, &s).await;
    assert!(by_name(&all, "bmartin").is_none());
    assert!(all.iter().any(|u| u.id == s.manual));

    // update only: a new entry is not created, an existing one is updated
    ldap_modify(
        &server,
        &format!(
            "{}{}changetype: modify\nreplace: mail\nmail: h.mueller@exemple.de\n\n",
            person(None, "fnew", "Fanny", "Neuve", None, Some("1020")).replacen(
                '\n',
                "\nchangetype: add\n",
                1
            ),
            ldif_line("dn", &format!("cn=Müller\\, Hans+uid=mhans,{PEOPLE}"))
        ),
    );
    let upd = run(db, &import, SyncType::UpdateOnly).await;
    assert_eq!((upd.created, upd.updated), (0, 1));
    let all = domain_users(db, &s).await;
    assert!(by_name(&all, "fnew").is_none());
    assert_eq!(
        by_name(&all, "mhans").unwrap().email.as_deref(),
        Some("h.mueller@exemple.de")
    );
    let d = details(&upd);
    assert!(
        d["ignored"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"].as_str().unwrap().contains("update only"))
    );
}

async fn safety_share_stops_a_full_run_until_confirmed(db: &TestDb) {
    let server = Slapd::start(|out| {
        for i in 0..10 {
            out.write_all(
                person(
                    None,
                    &format!("p{i}"),
                    "P",
                    &format!("Person {i}"),
                    None,
                    Some(&format!("20{i:02}")),
                )
                .as_bytes(),
            )
            .unwrap();
        }
    });
    let s = site(db).await;
    let import = link(db, &s, &server, ImportMapping::ldap(true), SyncType::Full).await;
    let first = run(db, &import, SyncType::Full).await;
    assert_eq!((first.status, first.created), (RunStatus::Succeeded, 10));
    // two removed: 20 %, not more: goes ahead
    let mut ldif = String::new();
    for i in 0..2 {
        ldif += &format!("dn: uid=p{i},{PEOPLE}\nchangetype: delete\n\n");
    }
    ldap_modify(&server, &ldif);
    let at_share = run(db, &import, SyncType::Full).await;
    assert_eq!(
        (at_share.status, at_share.deleted),
        (RunStatus::Succeeded, 2)
    );
    // five more of the eight left: stops, nothing changed
    let mut ldif = String::new();
    for i in 2..7 {
        ldif += &format!("dn: uid=p{i},{PEOPLE}\nchangetype: delete\n\n");
    }
    ldap_modify(&server, &ldif);
    let stopped = run(db, &import, SyncType::Full).await;
    assert_eq!(stopped.status, RunStatus::ConfirmationRequired);
    assert_eq!(stopped.deleted, 5);
    let msg = stopped.message.clone().unwrap();
    assert!(
        msg.contains("delete 5") && msg.contains("of the 8 users") && msg.contains("20 %"),
        "{msg}"
    );
    let imported = |all: Vec<DomainUser>| {
        all.iter()
            .filter(|u| u.import_id == Some(import.id))
            .count()
    };
    assert_eq!(imported(domain_users(db, &s).await), 8);
    {
        let mut c = db.store.read().await.unwrap();
        let runs = user_imports::runs(&mut c, s.company, import.id, 10)
            .await
            .unwrap();
        assert_eq!(runs[0].status, RunStatus::ConfirmationRequired);
    }
    let confirmed = run_with(db, &import, SyncType::Full, ADMIN_PASSWORD, true).await;
    assert_eq!(
        (confirmed.status, confirmed.deleted),
        (RunStatus::Succeeded, 5)
    );
    assert_eq!(imported(domain_users(db, &s).await), 3);
}

async fn failures_change_nothing(db: &TestDb) {
    let server = Slapd::start(|out| {
        for i in 0..30 {
            out.write_all(
                person(
                    None,
                    &format!("f{i}"),
                    "F",
                    &format!("Failure {i}"),
                    None,
                    Some(&format!("30{i:02}")),
                )
                .as_bytes(),
            )
            .unwrap();
        }
    });
    let s = site(db).await;
    let import = link(db, &s, &server, ImportMapping::ldap(true), SyncType::Full).await;
    assert_eq!(run(db, &import, SyncType::Full).await.created, 30);
    let before = domain_users(db, &s).await;
    ldap_modify(
        &server,
        &format!("dn: uid=f0,{PEOPLE}\nchangetype: modify\nreplace: sn\nsn: Changed\n\n"),
    );

    // bad credentials
    let denied = run_with(db, &import, SyncType::Full, "wrong-password", true).await;
    assert_eq!(denied.status, RunStatus::Failed);
    assert!(
        denied.message.as_deref().unwrap().contains("Password"),
        "{:?}",
        denied.message
    );
    assert_eq!(domain_users(db, &s).await, before);

    // a size limit reached half way: the list is cut, nothing is applied
    cut_by_size_limit(db, &import, &server, 5, 12).await;
    assert_eq!(domain_users(db, &s).await, before);

    // the server gone
    let port = server.port;
    drop(server);
    let mut gone = import.clone();
    gone.data.port = port;
    let down = run_with(db, &gone, SyncType::Full, ADMIN_PASSWORD, true).await;
    assert_eq!(down.status, RunStatus::Failed);
    assert!(
        down.message.as_deref().unwrap().contains("cannot reach"),
        "{:?}",
        down.message
    );
    assert_eq!(domain_users(db, &s).await, before);
    let mut c = db.store.read().await.unwrap();
    let runs = user_imports::runs(&mut c, s.company, import.id, 10)
        .await
        .unwrap();
    assert_eq!(
        runs.iter()
            .filter(|r| r.status == RunStatus::Failed)
            .count(),
        3
    );
}

async fn paging_over_ten_thousand_entries(db: &TestDb) {
    const N: usize = 10_500;
    let server = Slapd::start(|out| {
        for i in 0..N {
            out.write_all(
                person(
                    None,
                    &format!("m{i:05}"),
                    "Many",
                    &format!("Entry {i}"),
                    None,
                    Some(&format!("5{i:05}")),
                )
                .as_bytes(),
            )
            .unwrap();
        }
    });
    let s = site(db).await;
    let mut import = link(db, &s, &server, ImportMapping::ldap(true), SyncType::Full).await;
    import.data.page_size = 500;
    // a size limit hit after thousands of users were written (SQLite
    // writes while it reads): rolled back, nothing left
    let before = domain_users(db, &s).await;
    cut_by_size_limit(db, &import, &server, 500, 6_000).await;
    assert_eq!(domain_users(db, &s).await, before);
    let first = run(db, &import, SyncType::Full).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.message);
    assert_eq!((first.entries_read, first.created), (N as i64, N as i64));
    let all = domain_users(db, &s).await;
    assert_eq!(
        all.iter()
            .filter(|u| u.import_id == Some(import.id))
            .count(),
        N
    );
    assert!(all.iter().all(|u| u.devices.len() == 1));
    // the second pass matches every entry by key and changes nothing
    let second = run(db, &import, SyncType::Full).await;
    assert_eq!((second.created, second.updated, second.deleted), (0, 0, 0));
    // last names from cn instead: every user is updated (on SQLite, a
    // thousand at a time while the source is read)
    let mut remapped = import.clone();
    for (field, attribute) in &mut remapped.data.mapping.0 {
        if *field == UserField::LastName {
            *attribute = "cn".into();
        }
    }
    let third = run(db, &remapped, SyncType::Full).await;
    assert_eq!(third.status, RunStatus::Succeeded, "{:?}", third.message);
    assert_eq!(
        (third.created, third.updated, third.deleted),
        (0, N as i64, 0)
    );
    let all = domain_users(db, &s).await;
    let imported: Vec<_> = all
        .iter()
        .filter(|u| u.import_id == Some(import.id))
        .collect();
    assert_eq!(imported.len(), N);
    assert!(
        imported.iter().all(|u| u
            .last_name
            .as_deref()
            .is_some_and(|l| l.ends_with(", Many"))),
        "{:?}",
        imported.first()
    );
}

/// A source that, once open, lets a moment pass (the run takes its snapshot
/// of the domain's users meanwhile) and then has an administrator create a
/// user by hand, before the first entry is read.
struct Meddling {
    inner: LdapConnector,
    store: twp_store::Store,
    site: (CompanyId, DomainId),
    opens: Arc<AtomicUsize>,
}

impl Connector for Meddling {
    fn test_connection(&mut self) -> Result<ConnectionTest, ConnectorError> {
        self.inner.test_connection()
    }

    fn open<'a>(
        &'a mut self,
        fields: &[String],
    ) -> Result<Box<dyn RecordStream + 'a>, ConnectorError> {
        if self.opens.fetch_add(1, Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_secs(1));
            let (store, (company, domain)) = (self.store.clone(), self.site);
            tokio::runtime::Handle::current().block_on(async move {
                let mut tx = store.begin().await.unwrap();
                let data = by_hand(domain, "gdurand", "By", "Hand");
                users::create(&mut tx, company, &data, UserSecrets::default(), &[])
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            });
        }
        self.inner.open(fields)
    }
}

/// The run plans while it reads, against the domain's users as they were
/// when reading began; a user created meanwhile must still be seen (here:
/// its name is not taken, where a plan on the old users would fail the
/// whole run on the unique name). On SQLite the run holds the writer as it
/// reads, so the administrator's creation waits for it to give the writer
/// up after `WRITER_HOLD`: this is also the run that releases the writer
/// and goes on the other way.
async fn users_changed_during_the_read_are_seen(db: &TestDb) {
    let server = Slapd::start(|out| {
        let mut l = person(None, "gdurand", "Gilles", "Durand", None, Some("4001"));
        l += &person(None, "hleroy", "Hugo", "Leroy", None, Some("4002"));
        out.write_all(l.as_bytes()).unwrap();
    });
    let s = site(db).await;
    let import = link(db, &s, &server, ImportMapping::ldap(true), SyncType::Full).await;
    let opens = Arc::new(AtomicUsize::new(0));
    let connector = Meddling {
        inner: ldap_connector(&import.data, Some(ADMIN_PASSWORD.into())),
        store: db.store.clone(),
        site: (s.company, s.domain),
        opens: Arc::clone(&opens),
    };
    let r = twp_import::run(
        &db.store,
        &import,
        Box::new(connector),
        &options(false),
        Arc::new(Progress::default()),
    )
    .await
    .unwrap();
    assert_eq!(r.status, RunStatus::Succeeded, "{:?}", r.message);
    assert_eq!((r.entries_read, r.created, r.ignored), (2, 1, 1));
    let d = details(&r);
    let reason = d["ignored"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("user name \"gdurand\" is used by user gdurand"),
        "{reason}"
    );
    let all = domain_users(db, &s).await;
    let made = by_name(&all, "gdurand").unwrap();
    assert_eq!(
        (made.import_id, made.last_name.as_deref()),
        (None, Some("Hand"))
    );
    assert!(by_name(&all, "hleroy").is_some_and(|u| u.import_id == Some(import.id)));
    // read twice: the first plan no longer held
    assert_eq!(opens.load(Ordering::SeqCst), 2);
}

/// An import takes its users' ids itself (in its transaction): never an id
/// a deleted user had, and the users made by hand afterwards come after;
/// each device goes to its own user whatever the order of insertion.
async fn imported_users_never_reuse_an_id(db: &TestDb) {
    // names against the source's order: users are inserted by name
    const PEOPLE3: [(&str, &str); 3] = [("zoe", "4600"), ("yann", "4601"), ("xavier", "4602")];
    let server = Slapd::start(|out| {
        for (uid, phone) in PEOPLE3 {
            out.write_all(person(None, uid, "Id", uid, None, Some(phone)).as_bytes())
                .unwrap();
        }
    });
    let s = site(db).await;
    let import = link(db, &s, &server, ImportMapping::ldap(true), SyncType::Full).await;
    assert_eq!(run(db, &import, SyncType::Full).await.created, 3);
    let ids = |all: &[DomainUser]| {
        let mut v: Vec<i64> = all
            .iter()
            .filter(|u| u.import_id == Some(import.id))
            .map(|u| u.id)
            .collect();
        v.sort_unstable();
        v
    };
    let all = domain_users(db, &s).await;
    for (uid, phone) in PEOPLE3 {
        let u = by_name(&all, uid).unwrap();
        assert_eq!(u.devices.len(), 1, "{uid}");
        assert_eq!(u.devices[0].number, phone, "{uid}");
    }
    let first = ids(&all);
    assert!(first.iter().all(|&id| id > s.manual), "{first:?}");
    let last = *first.last().unwrap();
    let mut tx = db.store.begin().await.unwrap();
    users::delete(&mut tx, s.company, twp_domain::UserId(last))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // the deleted user's entry is still in the source: made again, anew
    assert_eq!(run(db, &import, SyncType::Full).await.created, 1);
    let second = ids(&domain_users(db, &s).await);
    assert_eq!(&second[..2], &first[..2]);
    assert!(second[2] > last, "{second:?} reuses {last}");
    let mut tx = db.store.begin().await.unwrap();
    let data = by_hand(s.domain, "after", "Made", "Later");
    let later = users::create(&mut tx, s.company, &data, UserSecrets::default(), &[])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(later.id.0 > second[2], "{} after {second:?}", later.id.0);
}
