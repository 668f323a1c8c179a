use proptest::prelude::*;
use twp_access::params::*;
use twp_domain::{DomainId, GroupId, UserId};

const PARIS: DomainId = DomainId(10);
const BAN: UserId = UserId(100);

fn store() -> ParamStore {
    ParamStore::new().unwrap()
}

#[test]
fn every_default_validates_against_its_type_and_keys_are_unique() {
    let mut seen = std::collections::HashSet::new();
    for def in CATALOGUE {
        parse_value(def.key, def.ty, def.default).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            seen.insert(def.key.to_ascii_lowercase()),
            "{} twice",
            def.key
        );
        if let Some(a) = def.alias {
            assert!(seen.insert(a.to_ascii_lowercase()), "{a} twice");
        }
        assert!(!def.description.is_empty());
    }
}

#[test]
fn the_guide_names_are_in_the_catalogue() {
    let s = store();
    for (key, app) in [
        ("AuthMethods", ParamApp::Server),
        ("AuthLdapServer", ParamApp::Server),
        ("AuthLdapPort", ParamApp::Server),
        ("AuthLdapDn", ParamApp::Server),
        ("smtp", ParamApp::Server),
        ("SmtpServerPort", ParamApp::Server),
        ("vmNumber", ParamApp::Caller),
        ("MapServiceURL", ParamApp::Caller),
        ("AuthorizeSupervisionInformation", ParamApp::Caller),
        ("AuthorizeShareRulesGroup", ParamApp::Caller),
        ("SupervisionInformationIGroup", ParamApp::Caller),
        ("AuhtorizeNote", ParamApp::Caller),
        ("DisplayCalendarPrivate", ParamApp::SystemSettings),
        ("timeSynchronizationDirectories", ParamApp::SystemSettings),
        ("Stats-NumberDaysOfStorage", ParamApp::SystemSettings),
        ("AlerterMode", ParamApp::Alerter),
        ("CIRCULARLEVEL", ParamApp::Rules),
        ("MediaServerSIP_Port", ParamApp::MediaServer),
    ] {
        assert_eq!(s.def(key).unwrap().app, app, "{key}");
    }
    assert_eq!(s.def("AuthLdapDn").unwrap().default, "?");
    assert_eq!(s.def("AppSharingRouterPort").unwrap().default, "8202");
    assert!(s.def("SmtpAuthPassword").unwrap().expert);
    assert!(matches!(s.def("nope"), Err(ParamError::UnknownKey(k)) if k == "nope"));
}

#[test]
fn search_as_the_console_does() {
    let s = store();
    let keys = |v: Vec<&ParamDef>| v.iter().map(|d| d.key).collect::<Vec<_>>();
    let plain = keys(s.search(Some(ParamApp::Caller), "Authorize", false));
    assert!(plain.contains(&"AuthorizeChat"));
    assert!(plain.contains(&"AuthorizeSupervisionInformation"));
    assert!(!plain.contains(&"AuthorizedMultiChat"), "Expert hidden");
    let expert = keys(s.search(Some(ParamApp::Caller), "authorize", true));
    assert!(expert.contains(&"AuthorizedMultiChat"));
    assert!(expert.len() > plain.len());
    let logs = keys(s.search(None, "CallLog-", false));
    assert_eq!(
        logs,
        [
            "CallLog-StartCleaningHour",
            "CallLog-NumberMaxOfStorage",
            "CallLog-NumberDaysOfStorage"
        ]
    );
    assert_eq!(keys(s.search(None, "Stats-", false)).len(), 2);
    assert!(keys(s.search(None, "timeSynchronization", false)).is_empty());
    assert_eq!(keys(s.search(None, "timeSynchronization", true)).len(), 1);
}

#[test]
fn resolution_at_each_level() {
    let mut s = store();
    let groups = [GroupId(1)];
    let scope = UserScope {
        user: BAN,
        domain: PARIS,
        groups: &groups,
    };
    let r = s.resolve("vmNumber", &scope).unwrap();
    assert_eq!(
        (r.value.to_string(), r.source),
        (String::new(), Source::Catalogue)
    );
    s.set("vmNumber", Level::Default, "8000").unwrap();
    assert_eq!(
        s.resolve("vmNumber", &scope).unwrap().source,
        Source::Default
    );
    s.set("vmNumber", Level::Domain(DomainId(99)), "9999")
        .unwrap();
    assert_eq!(
        s.resolve("vmNumber", &scope).unwrap().value.to_string(),
        "8000"
    );
    s.set("vmNumber", Level::Domain(PARIS), "8001").unwrap();
    let r = s.resolve("vmNumber", &scope).unwrap();
    assert_eq!(
        (r.value.to_string(), r.source),
        ("8001".into(), Source::Domain(PARIS))
    );
    s.set("vmNumber", Level::Group(GroupId(1)), "8002").unwrap();
    let r = s.resolve("vmNumber", &scope).unwrap();
    assert_eq!(r.value.to_string(), "8002");
    assert_eq!(
        r.source,
        Source::Group {
            group: GroupId(1),
            shadowed: vec![]
        }
    );
    s.set("vmNumber", Level::User(BAN), "8003").unwrap();
    let r = s.resolve("vmNumber", &scope).unwrap();
    assert_eq!(
        (r.value.to_string(), r.source),
        ("8003".into(), Source::User(BAN))
    );
    assert!(s.unset("VMNUMBER", Level::User(BAN)).unwrap());
    assert_eq!(
        s.resolve("vmNumber", &scope).unwrap().value.to_string(),
        "8002"
    );
}

#[test]
fn several_groups_rank_then_oldest() {
    let mut s = store();
    let groups = [GroupId(7), GroupId(3), GroupId(5)];
    let scope = UserScope {
        user: BAN,
        domain: PARIS,
        groups: &groups,
    };
    s.set("AuthorizeChat", Level::Group(GroupId(7)), "Yes")
        .unwrap();
    s.set("AuthorizeChat", Level::Group(GroupId(5)), "No")
        .unwrap();
    // No ranks: the lowest id (oldest group) among those setting it wins.
    let r = s.resolve("AuthorizeChat", &scope).unwrap();
    assert_eq!(r.value.to_string(), "No");
    assert_eq!(
        r.source,
        Source::Group {
            group: GroupId(5),
            shadowed: vec![GroupId(7)]
        }
    );
    // A ranked group comes before unranked ones.
    s.set_group_rank(GroupId(7), Some(1));
    let r = s.resolve("AuthorizeChat", &scope).unwrap();
    assert_eq!(
        r.source,
        Source::Group {
            group: GroupId(7),
            shadowed: vec![GroupId(5)]
        }
    );
    s.set_group_rank(GroupId(5), Some(0));
    assert_eq!(
        s.resolve("AuthorizeChat", &scope)
            .unwrap()
            .value
            .to_string(),
        "No"
    );
    s.set_group_rank(GroupId(5), None);
    assert_eq!(
        s.resolve("AuthorizeChat", &scope)
            .unwrap()
            .value
            .to_string(),
        "Yes"
    );
}

#[test]
fn resolve_all_covers_the_application() {
    let s = store();
    let scope = UserScope {
        user: BAN,
        domain: PARIS,
        groups: &[],
    };
    let all = s.resolve_all(ParamApp::Caller, &scope);
    assert_eq!(
        all.len(),
        CATALOGUE
            .iter()
            .filter(|d| d.app == ParamApp::Caller)
            .count()
    );
    assert!(all.iter().all(|r| r.def.app == ParamApp::Caller));
    assert!(s.resolve_all(ParamApp::Stats, &scope).is_empty());
}

#[test]
fn each_type_validates() {
    let mut s = store();
    let err = |s: &mut ParamStore, k: &str, v: &str| match s.set(k, Level::Default, v) {
        Err(ParamError::Value(e)) => e,
        other => panic!("{k}={v}: {other:?}"),
    };
    // Yes/No
    assert_eq!(
        s.set("AuthorizeSms", Level::Default, "true")
            .unwrap()
            .to_string(),
        "Yes"
    );
    assert_eq!(
        s.set("AuthorizeSms", Level::Default, " no ")
            .unwrap()
            .to_string(),
        "No"
    );
    let e = err(&mut s, "AuthorizeSms", "maybe");
    assert_eq!(
        (e.key.as_str(), e.expected.as_str()),
        ("AuthorizeSms", "Yes/No")
    );
    // Integer with bounds
    assert_eq!(
        s.set("AuthLdapPort", Level::Default, "636").unwrap(),
        &Value::Integer(636)
    );
    let e = err(&mut s, "AuthLdapPort", "70000");
    assert!(
        e.to_string()
            .contains("AuthLdapPort: 70000 is out of range; expected integer 1..65535"),
        "{e}"
    );
    err(&mut s, "AuthLdapPort", "12a");
    // Text: one line
    s.set("vmNumber", Level::Default, "8000").unwrap();
    err(&mut s, "vmNumber", "80\n00");
    // Time
    assert_eq!(
        s.set("CallLog-StartCleaningHour", Level::Default, "23:59")
            .unwrap(),
        &Value::Time(1439)
    );
    for bad in ["24:00", "7:30", "07:60", "0730", "07:3x"] {
        let e = err(&mut s, "CallLog-StartCleaningHour", bad);
        assert_eq!(e.expected, "time HH:MM");
    }
    // List with allowed items
    assert_eq!(
        s.set("AuthMethods", Level::Default, "windowssecurity | tws")
            .unwrap()
            .to_string(),
        "WindowsSecurity|TWS"
    );
    err(&mut s, "AuthMethods", "TWS||LDAP");
    let e = err(&mut s, "AuthMethods", "TWS|Kerberos");
    assert!(e.problem.contains("Kerberos"), "{e}");
    // Enumeration
    assert_eq!(
        s.set("AlerterMode", Level::Default, "url").unwrap(),
        &Value::Enumeration("URL")
    );
    let e = err(&mut s, "AlerterMode", "HTML");
    assert_eq!(e.expected, "one of XML, URL");
}

fn types() -> impl Strategy<Value = ParamType> {
    prop_oneof![
        Just(ParamType::YesNo),
        (-1000i64..1000, 0i64..1000).prop_map(|(min, w)| ParamType::Integer { min, max: min + w }),
        Just(ParamType::Text),
        Just(ParamType::Time),
        Just(ParamType::List { allowed: None }),
        Just(ParamType::List {
            allowed: Some(AUTH_METHOD_WORDS)
        }),
        Just(ParamType::Enumeration(&["XML", "URL"])),
    ]
}

proptest! {
    /// Whatever the input: no panic; and a value accepted once is printed in
    /// a form that parses back to the same value.
    #[test]
    fn parse_then_print_round_trips(ty in types(), input in "\\PC{0,24}|[0-9:|A-Za-z ]{0,12}") {
        if let Ok(v) = parse_value("K", ty, &input) {
            let again = parse_value("K", ty, &v.to_string()).unwrap();
            prop_assert_eq!(again, v);
        }
    }

    #[test]
    fn times_round_trip(h in 0u16..24, m in 0u16..60) {
        let text = format!("{h:02}:{m:02}");
        let v = parse_value("T", ParamType::Time, &text).unwrap();
        prop_assert_eq!(v.to_string(), text);
    }

    #[test]
    fn integers_in_bounds_only(n in any::<i64>(), min in -100i64..100, w in 0i64..100) {
        let r = parse_value("N", ParamType::Integer { min, max: min + w }, &n.to_string());
        prop_assert_eq!(r.is_ok(), n >= min && n <= min + w);
    }
}
