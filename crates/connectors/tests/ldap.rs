#![allow(clippy::unwrap_used)]
//! The LDAP connector against a real OpenLDAP server (slapd from Debian,
//! started by the test): generated people synchronised through the engine
//! and named by a look-up; bad settings give messages naming the setting.

mod common;

use std::sync::Arc;

use common::slapd::{self, Slapd};
use twp_connectors::{LdapConnector, LdapSettings, Secret, Security, and_equals};
use twp_dialplan::DialPlan;
use twp_directory::generate::{Config, LdifSink, People, write_all};
use twp_directory::{
    Allowed, Connector, ContactField as F, Directory, DirectoryEngine, DirectoryId, DirectoryType,
    IgnoreReason, Location, Mapping, MemoryPersistence, SyncError, Target as T,
};
use twp_domain::DomainId;

const CONFIG: Config = Config {
    seed: 11,
    people: 400,
    duplicate_share: 0.0,
};
const NO_ID_DN: &str = "cn=Nobody,ou=people,dc=example,dc=com";

/// slapd with the generated people and one entry without `uid`.
fn server() -> Slapd {
    Slapd::start(|out| {
        let mut sink = LdifSink::new(&mut *out, slapd::PEOPLE);
        write_all(CONFIG, &mut [&mut sink]).unwrap();
        drop(sink);
        write!(
            out,
            "dn: {NO_ID_DN}\nobjectClass: inetOrgPerson\ncn: Nobody\nsn: Nobody\n\
             telephoneNumber: +33 1 99 99 99 99\n\n"
        )
        .unwrap();
    })
}

/// The generated LDIF's attributes (lower case, as the guide asks).
fn mapping() -> Mapping {
    Mapping::new(
        [
            (T::Field(F::Id), "uid"),
            (T::Field(F::LastName), "sn"),
            (T::Field(F::FirstName), "givenname"),
            (T::Field(F::DisplayName), "displayname"),
            (T::Field(F::Company), "o"),
            (T::Field(F::Email1), "mail"),
            (T::Field(F::Work), "telephonenumber"),
            (T::Field(F::Mobile), "mobile"),
            (T::Field(F::Home), "homephone"),
            (T::Field(F::Standard), "facsimiletelephonenumber"),
            (T::Field(F::Url), "labeleduri"),
            (T::Field(F::Custom0), "title"),
            (T::RedList(F::Work), "employeetype"),
            (T::RedList(F::Mobile), "employeetype"),
            (T::RedList(F::Home), "employeetype"),
        ],
        [(F::Custom0, "[VIP]".to_owned())],
    )
    .unwrap()
}

fn engine() -> DirectoryEngine {
    let e = DirectoryEngine::new(
        DomainId(1),
        DialPlan::default().compile().unwrap(),
        Arc::new(MemoryPersistence::new()),
    );
    e.upsert_directory(Directory {
        id: DirectoryId(1),
        domain: DomainId(1),
        name: "LDAP".into(),
        kind: DirectoryType::Public,
        priority: 1,
        merge_contacts: false,
        mapping: mapping(),
    })
    .unwrap();
    e
}

fn settings(server: &Slapd) -> LdapSettings {
    LdapSettings {
        port: Some(server.port),
        bind_name: slapd::ADMIN.into(),
        password: Secret::new(slapd::ADMIN_PASSWORD),
        filter: Some("(objectClass=inetOrgPerson)".into()),
        ..LdapSettings::new("127.0.0.1", slapd::PEOPLE)
    }
}

#[test]
fn generated_people_are_synchronised_and_named() {
    let server = server();
    let e = engine();
    // Small pages: the paged search crosses many page boundaries.
    let mut c = LdapConnector::new(LdapSettings {
        page_size: 37,
        ..settings(&server)
    });
    let report = e.synchronise(DirectoryId(1), &mut c).unwrap();
    assert_eq!(report.rows_read, 401);
    assert_eq!(report.created, 400);
    assert_eq!(report.ignored_total, 1);
    assert_eq!(report.ignored[0].location, Location::Dn(NO_ID_DN.into()));
    assert_eq!(report.ignored[0].reason, IgnoreReason::MissingId);

    let (mut named, mut total) = (0, 0);
    for person in People::new(CONFIG) {
        for p in &person.presented {
            total += 1;
            let m = e
                .lookup(&p.number, Allowed::All)
                .unwrap_or_else(|| panic!("{} not found", p.number));
            assert_eq!(m.profile.found().contact().id(), person.rows[0].id());
            named += 1;
        }
    }
    assert!(total > 400, "{total}");
    assert_eq!(named, total);

    // A second run changes nothing.
    let again = e.synchronise(DirectoryId(1), &mut c).unwrap();
    assert_eq!((again.created, again.unchanged), (0, 400));
}

/// Values as slapd sends them: a binary value in hexadecimal, the first
/// of several values, non-ASCII text, the DN as a field, attribute names in
/// any case; an attribute the entry lacks is absent.
#[test]
fn binary_multi_valued_and_unicode_values() {
    use twp_directory::{ReadOutcome, SourceRecord};
    let dn = "uid=zoe,ou=people,dc=example,dc=com";
    let server = Slapd::start(|out| {
        // jpegPhoto: the bytes ff d8 ff 00 (not UTF-8).
        write!(
            out,
            "dn: {dn}\nobjectClass: inetOrgPerson\nuid: zoe\ncn:: w4lsb8Ovc2U=\nsn: Z\n\
             mail: first@example.com\nmail: second@example.com\njpegPhoto:: /9j/AA==\n\n"
        )
        .unwrap();
    });
    let mut c = LdapConnector::new(settings(&server));
    let fields: Vec<String> = ["UID", "jpegphoto", "mail", "dn", "cn", "description"]
        .map(str::to_owned)
        .to_vec();
    let mut stream = c.open(&fields).unwrap();
    let mut r = SourceRecord::new(fields.len());
    assert_eq!(stream.next_record(&mut r).unwrap(), ReadOutcome::Record);
    assert_eq!(r.location(), Some(&Location::Dn(dn.into())));
    let values: Vec<Option<&str>> = (0..fields.len()).map(|i| r.get(i)).collect();
    assert_eq!(
        values,
        [
            Some("zoe"),
            Some("ffd8ff00"),
            Some("first@example.com"),
            Some(dn),
            Some("Éloïse"),
            None
        ]
    );
    assert_eq!(stream.next_record(&mut r).unwrap(), ReadOutcome::End);
}

#[test]
fn test_connection_lists_attributes() {
    let server = server();
    let t = LdapConnector::new(settings(&server))
        .test_connection()
        .unwrap();
    assert!(t.fields.iter().any(|f| f == "uid"), "{:?}", t.fields);
    assert!(t.fields.iter().any(|f| f == "sn"), "{:?}", t.fields);
    assert!(t.detail.contains(slapd::ADMIN), "{}", t.detail);
}

#[test]
fn size_limit_and_escaped_user_values() {
    let server = server();
    let e = engine();
    let mut limited = LdapConnector::new(LdapSettings {
        size_limit: 25,
        page_size: 10,
        ..settings(&server)
    });
    let r = e.synchronise(DirectoryId(1), &mut limited).unwrap();
    assert_eq!(r.rows_read, 25);

    // A user typing `*` must not match every entry.
    let first = People::new(CONFIG).next().unwrap().rows[0].id().to_owned();
    for (value, expected) in [("*", 0), (first.as_str(), 1)] {
        let filter = and_equals("(objectClass=inetOrgPerson)", "uid", value).unwrap();
        let mut c = LdapConnector::new(LdapSettings {
            filter: Some(filter),
            ..settings(&server)
        });
        let r = e.synchronise(DirectoryId(1), &mut c).unwrap();
        assert_eq!(r.rows_read, expected, "{value}");
    }
}

fn failure(settings: LdapSettings) -> String {
    let mut c = LdapConnector::new(settings);
    let tested = c.test_connection().unwrap_err().to_string();
    let e = engine();
    match e.synchronise(DirectoryId(1), &mut c) {
        Err(SyncError::Connector { source, .. }) => {
            assert_eq!(source.to_string(), tested);
        }
        other => panic!("{other:?}"),
    }
    tested
}

#[test]
fn bad_settings_name_the_setting() {
    let server = server();
    let unreachable = failure(LdapSettings {
        port: Some(1),
        timeout_secs: 2,
        ..settings(&server)
    });
    assert!(
        unreachable.contains("Host") && unreachable.contains(":1"),
        "{unreachable}"
    );

    let wrong = failure(LdapSettings {
        password: Secret::new("wrong"),
        ..settings(&server)
    });
    assert!(wrong.contains("wrong Name or Password"), "{wrong}");

    let filter = failure(LdapSettings {
        filter: Some("(&(objectClass=inetOrgPerson)(uid=1)".into()),
        ..settings(&server)
    });
    assert!(
        filter.starts_with("Filter: unbalanced parentheses"),
        "{filter}"
    );

    let base = failure(LdapSettings {
        base_dn: "ou=nowhere,dc=example,dc=com".into(),
        ..settings(&server)
    });
    assert!(base.contains("Connection string"), "{base}");
}

/// A server that accepts the connection and never answers: the bind gives
/// up after the timeout, naming it, in the test and in a sync alike.
#[test]
fn a_silent_server_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming().take(2) {
            open.push(stream);
        }
        std::thread::sleep(std::time::Duration::from_secs(3));
    });
    let started = std::time::Instant::now();
    let message = failure(LdapSettings {
        port: Some(port),
        bind_name: slapd::ADMIN.into(),
        password: Secret::new(slapd::ADMIN_PASSWORD),
        timeout_secs: 1,
        ..LdapSettings::new("127.0.0.1", slapd::PEOPLE)
    });
    assert!(
        message.contains("bind to") && message.contains("no answer within 1s"),
        "{message}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    held.join().unwrap();
}

#[test]
fn ldaps_and_starttls() {
    let server = Slapd::start_with(true, |out| {
        let mut sink = LdifSink::new(&mut *out, slapd::PEOPLE);
        write_all(CONFIG, &mut [&mut sink]).unwrap();
    });
    let e = engine();
    let secure = [
        (Security::Ldaps, server.tls_port.unwrap()),
        (Security::StartTls, server.port),
    ];
    for (security, port) in secure {
        let tls = LdapSettings {
            security,
            port: Some(port),
            ..settings(&server)
        };
        // The test certificate is self-signed: refused unless accepted.
        let refused = failure(tls.clone());
        assert!(
            refused.contains("connection failed"),
            "{security:?}: {refused}"
        );
        let mut c = LdapConnector::new(LdapSettings {
            accept_invalid_certificates: true,
            ..tls
        });
        let r = e.synchronise(DirectoryId(1), &mut c).unwrap();
        assert_eq!(r.rows_read, 400, "{security:?}");
    }
}

#[test]
fn settings_deserialise_and_hide_the_password() {
    let s: LdapSettings = serde_json::from_str(
        r#"{"host":"ldap.example.com","bind_name":"cn=reader","password":"s3cret",
            "base_dn":"dc=example,dc=com","security":"starttls","page_size":500}"#,
    )
    .unwrap();
    assert_eq!(s.password.expose(), "s3cret");
    assert_eq!(s.port(), 389);
    let shown = format!("{s:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("Secret(***)"), "{shown}");
}
