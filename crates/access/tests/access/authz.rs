use twp_access::authz::*;

const ACME: CompanyId = CompanyId(1);
const OTHER_CO: CompanyId = CompanyId(2);
const PARIS: DomainId = DomainId(10);
const NICE: DomainId = DomainId(11);
const FOREIGN: DomainId = DomainId(20);

const BAN: UserId = UserId(100); // Paris
const ABO: UserId = UserId(101); // Paris
const NINA: UserId = UserId(102); // Nice
const ZED: UserId = UserId(200); // other company

const ALL_PARIS: GroupId = GroupId(1);
const COMMERCE: GroupId = GroupId(2);
const PATRONS: GroupId = GroupId(3);
const ALL_NICE: GroupId = GroupId(4);
const ALL_FOREIGN: GroupId = GroupId(5);

const PUBLIC_NICE: DirectoryId = DirectoryId(1);
const FOREIGN_DIR: DirectoryId = DirectoryId(2);
const HOTLINE_NICE: IntercomGroupId = IntercomGroupId(1);
const STANDARD_PARIS: PhoneQueueId = PhoneQueueId(1);
const QUEUE_NICE: PhoneQueueId = PhoneQueueId(2);

fn home(domain: DomainId, company: CompanyId) -> Home {
    Home { domain, company }
}

fn engine() -> Engine {
    let user = |id, domain, company| UserEntry {
        id,
        domain,
        company,
    };
    let group = |id, domain, company, members: &[UserId]| GroupEntry {
        id,
        domain,
        company,
        members: members.to_vec(),
    };
    Engine::from_snapshot(Snapshot {
        users: vec![
            user(BAN, PARIS, ACME),
            user(ABO, PARIS, ACME),
            user(NINA, NICE, ACME),
            user(ZED, FOREIGN, OTHER_CO),
        ],
        groups: vec![
            group(ALL_PARIS, PARIS, ACME, &[BAN, ABO]),
            group(COMMERCE, PARIS, ACME, &[BAN]),
            group(PATRONS, PARIS, ACME, &[ABO]),
            group(ALL_NICE, NICE, ACME, &[NINA]),
            group(ALL_FOREIGN, FOREIGN, OTHER_CO, &[ZED]),
        ],
        directories: vec![
            (PUBLIC_NICE, home(NICE, ACME)),
            (FOREIGN_DIR, home(FOREIGN, OTHER_CO)),
        ],
        intercom_groups: vec![(HOTLINE_NICE, home(NICE, ACME))],
        phone_queues: vec![
            (STANDARD_PARIS, home(PARIS, ACME)),
            (QUEUE_NICE, home(NICE, ACME)),
        ],
        grants: vec![],
    })
    .unwrap()
}

fn grant(id: i64, subject: Subject, object: Object) -> Grant {
    Grant {
        id: GrantId(id),
        subject,
        object,
    }
}

#[test]
fn application_through_group_is_checked_and_explained() {
    let mut e = engine();
    e.add_grant(grant(
        1,
        Subject::Group(ALL_PARIS),
        Object::Application(Application::Caller),
    ))
    .unwrap();
    assert!(e.check(BAN, &Object::Application(Application::Caller)));
    assert!(!e.check(BAN, &Object::Application(Application::Alerter)));
    assert!(!e.check(NINA, &Object::Application(Application::Caller)));
    let via = e.explain(BAN, &Object::Application(Application::Caller));
    assert_eq!(
        via,
        vec![Via {
            grant: GrantId(1),
            subject: Subject::Group(ALL_PARIS),
            object: Object::Application(Application::Caller)
        }]
    );
    // A direct grant as well: both paths are explained, user first.
    e.add_grant(grant(
        2,
        Subject::User(BAN),
        Object::Application(Application::Caller),
    ))
    .unwrap();
    let grants: Vec<_> = e
        .explain(BAN, &Object::Application(Application::Caller))
        .iter()
        .map(|v| v.grant)
        .collect();
    assert_eq!(grants, vec![GrantId(2), GrantId(1)]);
    assert!(
        e.explain(NINA, &Object::Application(Application::Caller))
            .is_empty()
    );
}

#[test]
fn directories_may_cross_domains_not_companies() {
    let mut e = engine();
    // Guide 7.4.2: group All of Paris sees directory Public of Nice.
    e.add_grant(grant(
        1,
        Subject::Group(ALL_PARIS),
        Object::Directory(PUBLIC_NICE),
    ))
    .unwrap();
    assert!(e.check(ABO, &Object::Directory(PUBLIC_NICE)));
    let err = e
        .add_grant(grant(
            2,
            Subject::Group(ALL_PARIS),
            Object::Directory(FOREIGN_DIR),
        ))
        .unwrap_err();
    assert!(matches!(err, GrantError::CrossCompany { .. }), "{err}");
    assert!(err.to_string().contains("between companies"));
    assert!(!e.check(ABO, &Object::Directory(FOREIGN_DIR)));
}

#[test]
fn calendars_may_cross_domains_not_companies() {
    let mut e = engine();
    e.add_grant(grant(
        1,
        Subject::Group(ALL_NICE),
        Object::Calendar(Principal::Group(COMMERCE)),
    ))
    .unwrap();
    // Nina sees Ban's calendar because Ban is in Commerce.
    assert!(e.check(NINA, &Object::Calendar(Principal::User(BAN))));
    assert!(!e.check(NINA, &Object::Calendar(Principal::User(ABO))));
    let err = e
        .add_grant(grant(
            2,
            Subject::User(ZED),
            Object::Calendar(Principal::User(BAN)),
        ))
        .unwrap_err();
    assert!(matches!(err, GrantError::CrossCompany { .. }), "{err}");
}

#[test]
fn intercom_groups_may_cross_domains_not_companies() {
    let mut e = engine();
    // Guide 7.4.4: group All of Paris, intercom group Hotline of Nice.
    e.add_grant(grant(
        1,
        Subject::Group(ALL_PARIS),
        Object::IntercomGroup(HOTLINE_NICE),
    ))
    .unwrap();
    assert!(e.check(BAN, &Object::IntercomGroup(HOTLINE_NICE)));
    let err = e
        .add_grant(grant(
            2,
            Subject::Group(ALL_FOREIGN),
            Object::IntercomGroup(HOTLINE_NICE),
        ))
        .unwrap_err();
    assert!(matches!(err, GrantError::CrossCompany { .. }), "{err}");
}

#[test]
fn phone_queues_stay_in_their_domain() {
    let mut e = engine();
    e.add_grant(grant(
        1,
        Subject::Group(COMMERCE),
        Object::PhoneQueue(STANDARD_PARIS),
    ))
    .unwrap();
    assert!(e.check(BAN, &Object::PhoneQueue(STANDARD_PARIS)));
    let err = e
        .add_grant(grant(
            2,
            Subject::Group(COMMERCE),
            Object::PhoneQueue(QUEUE_NICE),
        ))
        .unwrap_err();
    match &err {
        GrantError::CrossDomain {
            kind,
            chapter,
            subject_domain,
            object_domain,
            ..
        } => {
            assert_eq!(*kind, ObjectKind::PhoneQueue);
            assert_eq!(*chapter, "7.4.5");
            assert_eq!((*subject_domain, *object_domain), (PARIS, NICE));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("Phone queues cannot be shared between domains")
    );
}

#[test]
fn call_logs_stay_in_their_domain() {
    let mut e = engine();
    // Guide 7.4.6: Commerce sees the call logs of user abo.
    e.add_grant(grant(
        1,
        Subject::Group(COMMERCE),
        Object::CallLog(Principal::User(ABO)),
    ))
    .unwrap();
    assert!(e.check(BAN, &Object::CallLog(Principal::User(ABO))));
    assert!(!e.check(ABO, &Object::CallLog(Principal::User(BAN))));
    let err = e
        .add_grant(grant(
            2,
            Subject::User(NINA),
            Object::CallLog(Principal::User(ABO)),
        ))
        .unwrap_err();
    assert!(
        matches!(
            err,
            GrantError::CrossDomain {
                chapter: "7.4.6",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn queues_and_intercom_groups_may_only_receive_directories() {
    let mut e = engine();
    e.add_directory(DirectoryId(3), home(PARIS, ACME));
    e.add_grant(grant(
        1,
        Subject::PhoneQueue(STANDARD_PARIS),
        Object::Directory(DirectoryId(3)),
    ))
    .unwrap();
    e.add_grant(grant(
        2,
        Subject::IntercomGroup(HOTLINE_NICE),
        Object::Directory(PUBLIC_NICE),
    ))
    .unwrap();
    assert_eq!(e.visible_to(Subject::PhoneQueue(STANDARD_PARIS)).len(), 1);
    let err = e
        .add_grant(grant(
            3,
            Subject::PhoneQueue(STANDARD_PARIS),
            Object::Application(Application::Caller),
        ))
        .unwrap_err();
    assert!(
        matches!(
            err,
            GrantError::SubjectNotAllowed {
                kind: ObjectKind::Application,
                ..
            }
        ),
        "{err}"
    );
    let err = e
        .add_grant(grant(
            4,
            Subject::IntercomGroup(HOTLINE_NICE),
            Object::Calendar(Principal::User(NINA)),
        ))
        .unwrap_err();
    assert!(matches!(err, GrantError::SubjectNotAllowed { .. }), "{err}");
}

#[test]
fn statistics_are_entered_in_reverse() {
    let mut e = engine();
    // Guide 9.4.2: in the console, the upper list picks "ban" (the viewer),
    // the lower one adds group Patrons (whose statistics are seen).
    let g = Grant::from_console(
        GrantId(1),
        ObjectKind::Statistics,
        ConsolePick::Principal(Principal::User(BAN)),
        Principal::Group(PATRONS),
    )
    .unwrap();
    assert_eq!(g.subject, Subject::User(BAN));
    assert_eq!(g.object, Object::Statistics(Principal::Group(PATRONS)));
    e.add_grant(g).unwrap();
    // ban sees abo's statistics (abo is in Patrons); not the other way round.
    assert!(e.check(BAN, &Object::Statistics(Principal::User(ABO))));
    assert!(!e.check(ABO, &Object::Statistics(Principal::User(BAN))));
    // Calendars are entered the usual way: upper = owner, added = viewer.
    let c = Grant::from_console(
        GrantId(2),
        ObjectKind::Calendar,
        ConsolePick::Principal(Principal::Group(COMMERCE)),
        Principal::Group(ALL_PARIS),
    )
    .unwrap();
    assert_eq!(c.subject, Subject::Group(ALL_PARIS));
    assert_eq!(c.object, Object::Calendar(Principal::Group(COMMERCE)));
    // A pick that does not fit the kind is no grant.
    assert!(
        Grant::from_console(
            GrantId(3),
            ObjectKind::Directory,
            ConsolePick::Principal(Principal::User(BAN)),
            Principal::User(ABO)
        )
        .is_none()
    );
}

#[test]
fn statistics_and_records_viewer_must_be_a_user() {
    let mut e = engine();
    for object in [
        Object::Statistics(Principal::User(ABO)),
        Object::Records(Principal::User(ABO)),
    ] {
        let err = e
            .add_grant(grant(1, Subject::Group(COMMERCE), object))
            .unwrap_err();
        assert!(matches!(err, GrantError::ViewerMustBeUser { .. }), "{err}");
    }
    // Across domains of one company: allowed; across companies: refused.
    e.add_grant(grant(
        2,
        Subject::User(NINA),
        Object::Records(Principal::Group(PATRONS)),
    ))
    .unwrap();
    assert!(e.check(NINA, &Object::Records(Principal::User(ABO))));
    let err = e
        .add_grant(grant(
            3,
            Subject::User(ZED),
            Object::Statistics(Principal::User(ABO)),
        ))
        .unwrap_err();
    assert!(matches!(err, GrantError::CrossCompany { .. }), "{err}");
}

#[test]
fn duplicates_and_unknown_parties_are_refused() {
    let mut e = engine();
    e.add_grant(grant(1, Subject::User(BAN), Object::Directory(PUBLIC_NICE)))
        .unwrap();
    let err = e
        .add_grant(grant(2, Subject::User(BAN), Object::Directory(PUBLIC_NICE)))
        .unwrap_err();
    assert_eq!(
        err,
        GrantError::Duplicate {
            subject: "user 100".into(),
            object: "directory 1".into(),
            existing: GrantId(1)
        }
    );
    let err = e
        .add_grant(grant(1, Subject::User(ABO), Object::Directory(PUBLIC_NICE)))
        .unwrap_err();
    assert_eq!(err, GrantError::DuplicateId(GrantId(1)));
    let err = e
        .add_grant(grant(
            3,
            Subject::User(UserId(999)),
            Object::Directory(PUBLIC_NICE),
        ))
        .unwrap_err();
    assert_eq!(
        err,
        GrantError::Unknown {
            what: "user",
            id: 999
        }
    );
    let err = e
        .add_grant(grant(
            3,
            Subject::User(BAN),
            Object::Directory(DirectoryId(999)),
        ))
        .unwrap_err();
    assert_eq!(
        err,
        GrantError::Unknown {
            what: "directory",
            id: 999
        }
    );
}

#[test]
fn visible_lists_objects_and_grants() {
    let mut e = engine();
    e.add_directory(DirectoryId(3), home(PARIS, ACME));
    e.add_grant(grant(
        1,
        Subject::Group(ALL_PARIS),
        Object::Directory(PUBLIC_NICE),
    ))
    .unwrap();
    e.add_grant(grant(
        2,
        Subject::User(BAN),
        Object::Directory(DirectoryId(3)),
    ))
    .unwrap();
    e.add_grant(grant(
        3,
        Subject::User(BAN),
        Object::Application(Application::Caller),
    ))
    .unwrap();
    let mut dirs = e.visible(BAN, ObjectKind::Directory);
    dirs.sort_by_key(|v| v.grant);
    assert_eq!(
        dirs,
        vec![
            Via {
                grant: GrantId(1),
                subject: Subject::Group(ALL_PARIS),
                object: Object::Directory(PUBLIC_NICE)
            },
            Via {
                grant: GrantId(2),
                subject: Subject::User(BAN),
                object: Object::Directory(DirectoryId(3))
            },
        ]
    );
    assert_eq!(e.visible(ABO, ObjectKind::Directory).len(), 1);
    assert!(e.visible(ABO, ObjectKind::Application).is_empty());
}

#[test]
fn incremental_removal_and_membership() {
    let mut e = engine();
    e.add_grant(grant(
        1,
        Subject::Group(COMMERCE),
        Object::Directory(PUBLIC_NICE),
    ))
    .unwrap();
    assert!(!e.check(ABO, &Object::Directory(PUBLIC_NICE)));
    e.add_member(COMMERCE, ABO).unwrap();
    assert!(e.check(ABO, &Object::Directory(PUBLIC_NICE)));
    assert!(e.remove_member(COMMERCE, ABO));
    assert!(!e.remove_member(COMMERCE, ABO));
    assert!(!e.check(ABO, &Object::Directory(PUBLIC_NICE)));
    assert!(e.check(BAN, &Object::Directory(PUBLIC_NICE)));
    assert_eq!(e.remove_grant(GrantId(1)).map(|g| g.id), Some(GrantId(1)));
    assert!(!e.check(BAN, &Object::Directory(PUBLIC_NICE)));
    assert!(e.remove_grant(GrantId(1)).is_none());
    // A group holds users of its own domain only.
    let err = e.add_member(COMMERCE, NINA).unwrap_err();
    assert!(matches!(err, GrantError::MemberOtherDomain { .. }), "{err}");
}

#[test]
fn seats_count_each_user_once_and_refuse_with_numbers() {
    let mut e = engine();
    let mut limits: SeatLimits = [None; 8];
    limits[0] = Some(2); // Caller
    e.set_seat_limits(limits);
    let caller = Object::Application(Application::Caller);
    // ALL_PARIS = ban, abo: 2 seats.
    e.add_grant(grant(1, Subject::Group(ALL_PARIS), caller))
        .unwrap();
    // ban again, directly and through Commerce: still 2.
    e.add_grant(grant(2, Subject::User(BAN), caller)).unwrap();
    e.add_grant(grant(3, Subject::Group(COMMERCE), caller))
        .unwrap();
    let usage = e.seat_usage();
    assert_eq!(
        usage[0],
        SeatUsage {
            application: Application::Caller,
            in_use: 2,
            licensed: Some(2)
        }
    );
    // Nina would be a third.
    let err = e
        .add_grant(grant(4, Subject::User(NINA), caller))
        .unwrap_err();
    assert_eq!(
        err,
        GrantError::SeatsExceeded {
            application: Application::Caller,
            licensed: 2,
            in_use: 2,
            requested: 1
        }
    );
    assert!(
        err.to_string().contains("2 in use + 1 new > 2 licensed"),
        "{err}"
    );
    // Removing the group grant frees abo's seat (ban keeps his through 2 and 3).
    e.remove_grant(GrantId(1));
    assert_eq!(e.seat_usage()[0].in_use, 1);
    e.add_grant(grant(4, Subject::User(NINA), caller)).unwrap();
    // Now full again: adding abo to Commerce (which holds Caller) is refused.
    let err = e.add_member(COMMERCE, ABO).unwrap_err();
    assert!(
        matches!(err, GrantError::SeatsExceeded { requested: 1, .. }),
        "{err}"
    );
    assert!(!e.check(ABO, &Object::Directory(PUBLIC_NICE)));
    // Other applications are not limited by Caller's count.
    e.add_grant(grant(
        5,
        Subject::Group(ALL_PARIS),
        Object::Application(Application::Alerter),
    ))
    .unwrap();
    assert_eq!(e.seat_usage()[1].in_use, 2);
}

#[test]
fn snapshot_with_a_bad_grant_names_it() {
    let err = Engine::from_snapshot(Snapshot {
        users: vec![UserEntry {
            id: BAN,
            domain: PARIS,
            company: ACME,
        }],
        phone_queues: vec![(QUEUE_NICE, home(NICE, ACME))],
        grants: vec![grant(7, Subject::User(BAN), Object::PhoneQueue(QUEUE_NICE))],
        ..Snapshot::default()
    })
    .unwrap_err();
    assert!(
        matches!(
            err,
            SnapshotError::Grant {
                grant: GrantId(7),
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().starts_with("grant 7: "));
}
