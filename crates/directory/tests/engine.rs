#![allow(clippy::unwrap_used)]
//! The engine end to end: synchronisation reports, failures and cancel,
//! reverse look-up (priority, red list, VIP, merge), search and paging.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use twp_dialplan::DialPlan;
use twp_directory::*;
use twp_domain::DomainId;

const DOMAIN: DomainId = DomainId(1);

const FIELDS: &[(Target, &str)] = &[
    (Target::Field(ContactField::Id), "id"),
    (Target::Field(ContactField::LastName), "sn|u"),
    (Target::Field(ContactField::FirstName), "givenName"),
    (Target::Field(ContactField::Company), "company"),
    (Target::Field(ContactField::Email1), "mail"),
    (Target::Field(ContactField::Work), "phone"),
    (Target::Field(ContactField::Mobile), "mobile"),
    (Target::Field(ContactField::Custom0), "vip"),
    (Target::RedList(ContactField::Mobile), "private"),
];
const HEADER: &str = "id;sn;givenName;company;mail;phone;mobile;vip;private\n";

fn directory(id: i64, priority: u32, merge: bool) -> Directory {
    Directory {
        id: DirectoryId(id),
        domain: DOMAIN,
        name: format!("dir {id}"),
        kind: DirectoryType::Public,
        priority,
        merge_contacts: merge,
        mapping: Mapping::new(
            FIELDS.iter().copied(),
            [(ContactField::Custom0, "[VIP]".to_owned())],
        )
        .unwrap(),
    }
}

fn engine(persistence: Arc<MemoryPersistence>) -> DirectoryEngine {
    DirectoryEngine::new(DOMAIN, DialPlan::default().compile().unwrap(), persistence)
}

fn csv(body: &str) -> CsvConnector {
    let text = format!("{HEADER}{body}");
    CsvConnector::new(
        CsvSource::Bytes(Arc::from(text.into_bytes())),
        CsvOptions::default(),
    )
}

fn sync(e: &DirectoryEngine, id: i64, body: &str) -> SyncReport {
    e.synchronise(DirectoryId(id), &mut csv(body)).unwrap()
}

fn names(page: &SearchPage) -> Vec<String> {
    page.hits.iter().map(Profile::name).collect()
}

#[test]
fn sync_report_counts_and_locates_ignored_lines() {
    let e = engine(Arc::new(MemoryPersistence::new()));
    e.upsert_directory(directory(1, 1, false)).unwrap();
    let r = sync(
        &e,
        1,
        "1;Dupont;Jean;Acme;;01 23 45 67 89;;;\n\
         2;Martin;Zoé;Acme;;;06 11 22 33 44;;\n\
         bad;line\n\
         ;NoId;X;;;;;;\n\
         1;Again;Jean;;;;;;\n\
         3;Durand;Léa;;;;;;\n",
    );
    assert_eq!((r.rows_read, r.created, r.updated, r.deleted), (6, 3, 0, 0));
    assert_eq!(r.ignored_total, 3);
    assert_eq!(r.ignored[0].location, Location::Line(4));
    assert!(
        matches!(&r.ignored[0].reason, IgnoreReason::Unreadable(m) if m.contains("expected 9 fields, found 2"))
    );
    assert_eq!(
        r.ignored[1],
        IgnoredRecord {
            location: Location::Line(5),
            reason: IgnoreReason::MissingId
        }
    );
    assert_eq!(
        r.ignored[2],
        IgnoredRecord {
            location: Location::Line(6),
            reason: IgnoreReason::DuplicateId {
                id: "1".into(),
                first: "line 2".into()
            }
        }
    );
    // Options applied: `sn|u`.
    let g = e.generation(DirectoryId(1)).unwrap();
    let i = g.find_id("1").unwrap();
    assert_eq!(
        g.contact(i).unwrap().get(ContactField::LastName),
        Some("DUPONT")
    );

    let r = sync(
        &e,
        1,
        "1;Dupont;Jean;Acme;;01 23 45 67 89;;;\n\
         2;Martin;Zoé;Globex;;;06 11 22 33 44;;\n\
         4;Petit;Noé;;;;;;\n",
    );
    assert_eq!((r.created, r.updated, r.deleted, r.unchanged), (1, 1, 1, 1));
    assert_eq!(r.ignored_total, 0);
    assert!(e.generation(DirectoryId(1)).unwrap().find_id("3").is_none());
}

/// A connector fed by a channel: each message is a record, or an error.
struct Scripted {
    rx: Arc<Mutex<mpsc::Receiver<Option<Vec<String>>>>>,
}

struct ScriptedStream {
    rx: Arc<Mutex<mpsc::Receiver<Option<Vec<String>>>>>,
    line: u64,
}

impl Connector for Scripted {
    fn test_connection(&mut self) -> Result<ConnectionTest, ConnectorError> {
        Ok(ConnectionTest {
            fields: vec![],
            detail: "scripted".into(),
        })
    }

    fn open<'a>(
        &'a mut self,
        _fields: &[String],
    ) -> Result<Box<dyn RecordStream + 'a>, ConnectorError> {
        Ok(Box::new(ScriptedStream {
            rx: Arc::clone(&self.rx),
            line: 0,
        }))
    }
}

impl RecordStream for ScriptedStream {
    fn next_record(&mut self, out: &mut SourceRecord) -> Result<ReadOutcome, ConnectorError> {
        let msg = self.rx.lock().unwrap().recv();
        self.line += 1;
        match msg {
            Err(_) => Ok(ReadOutcome::End),
            Ok(None) => Err(ConnectorError::Connection("server went away".into())),
            Ok(Some(values)) => {
                out.reset(Location::Dn(format!("uid={},dc=x", self.line)));
                for (i, v) in values.iter().enumerate() {
                    out.set(i, v);
                }
                Ok(ReadOutcome::Record)
            }
        }
    }
}

fn row(id: &str, sn: &str, phone: &str) -> Option<Vec<String>> {
    // Aligned with the mapping's source fields: id, sn, givenName, company,
    // mail, phone, mobile, vip, private.
    Some(vec![
        id.into(),
        sn.into(),
        "".into(),
        "".into(),
        "".into(),
        phone.into(),
    ])
}

#[test]
fn failed_syncs_keep_the_previous_data() {
    let store = Arc::new(MemoryPersistence::new());
    let e = engine(Arc::clone(&store));
    e.upsert_directory(directory(1, 1, false)).unwrap();
    sync(&e, 1, "1;Dupont;Jean;;;0123456789;;;\n");
    let named = |e: &DirectoryEngine| {
        e.lookup("0123456789", Allowed::All)
            .map(|m| m.profile.name())
    };

    // The store refuses the commit.
    store.fail_next_commit();
    let err = e
        .synchronise(DirectoryId(1), &mut csv("2;Other;X;;;0123456789;;;\n"))
        .unwrap_err();
    assert!(matches!(err, SyncError::Persist(_)), "{err}");
    assert_eq!(named(&e).as_deref(), Some("Jean DUPONT"));

    // The source fails midway.
    let (tx, rx) = mpsc::channel();
    tx.send(row("2", "Other", "0123456789")).unwrap();
    tx.send(None).unwrap();
    let err = e
        .synchronise(
            DirectoryId(1),
            &mut Scripted {
                rx: Arc::new(Mutex::new(rx)),
            },
        )
        .unwrap_err();
    assert!(
        matches!(err, SyncError::Connector { rows_read: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("server went away"));
    assert_eq!(named(&e).as_deref(), Some("Jean DUPONT"));

    // A mapped column missing from the file.
    let mut no_phone = CsvConnector::new(
        CsvSource::Bytes(Arc::from(&b"id;sn\n1;X\n"[..])),
        CsvOptions::default(),
    );
    let err = e.synchronise(DirectoryId(1), &mut no_phone).unwrap_err();
    assert!(err.to_string().contains("\"givenName\""), "{err}");
    assert_eq!(named(&e).as_deref(), Some("Jean DUPONT"));

    // After a restart, the committed generation is back.
    let again = engine(store);
    again.upsert_directory(directory(1, 1, false)).unwrap();
    assert_eq!(named(&again).as_deref(), Some("Jean DUPONT"));
}

#[test]
fn cancel_one_sync_at_a_time_and_progress() {
    let e = Arc::new(engine(Arc::new(MemoryPersistence::new())));
    e.upsert_directory(directory(1, 1, false)).unwrap();
    sync(&e, 1, "1;Dupont;Jean;;;0123456789;;;\n");
    let (tx, rx) = mpsc::channel();
    let rx = Arc::new(Mutex::new(rx));
    let worker = {
        let e = Arc::clone(&e);
        let rx = Arc::clone(&rx);
        thread::spawn(move || e.synchronise(DirectoryId(1), &mut Scripted { rx }))
    };
    tx.send(row("5", "New", "0999999999")).unwrap();
    tx.send(row("6", "Newer", "0888888888")).unwrap();
    let mut waited = 0;
    while e.sync_progress(DirectoryId(1)).map_or(0, |p| p.rows_read) < 2 {
        thread::sleep(Duration::from_millis(5));
        waited += 1;
        assert!(waited < 2000, "the sync did not progress");
    }
    let p = e.sync_progress(DirectoryId(1)).unwrap();
    assert_eq!(
        (p.rows_read, p.rows_written, p.phase),
        (2, 2, SyncPhase::Reading)
    );
    // The new rows are not visible before the swap.
    assert!(e.lookup("0999999999", Allowed::All).is_none());
    let second = e.synchronise(DirectoryId(1), &mut csv("")).unwrap_err();
    assert!(matches!(second, SyncError::AlreadyRunning(DirectoryId(1))));
    assert!(e.cancel_sync(DirectoryId(1)));
    tx.send(row("7", "Last", "0777777777")).unwrap();
    let err = worker.join().unwrap().unwrap_err();
    assert!(matches!(err, SyncError::Cancelled { .. }), "{err}");
    assert!(e.lookup("0999999999", Allowed::All).is_none());
    assert!(e.lookup("0123456789", Allowed::All).is_some());
    assert!(e.sync_progress(DirectoryId(1)).is_none());
    assert!(!e.cancel_sync(DirectoryId(1)));
    // The slot is free again.
    sync(&e, 1, "5;New;A;;;0999999999;;;\n");
    assert!(e.lookup("0999999999", Allowed::All).is_some());
}

#[test]
fn draft_directories_are_neither_synchronised_nor_queried() {
    let e = engine(Arc::new(MemoryPersistence::new()));
    e.upsert_directory(directory(1, 1, false)).unwrap();
    sync(&e, 1, "1;Dupont;Jean;;;0123456789;;;\n");
    let mut draft = directory(1, 1, false);
    draft.kind = DirectoryType::Draft;
    e.upsert_directory(draft).unwrap();
    assert!(e.lookup("0123456789", Allowed::All).is_none());
    assert!(matches!(
        e.synchronise(DirectoryId(1), &mut csv("")),
        Err(SyncError::Disabled(_))
    ));
    assert!(matches!(
        e.synchronise(DirectoryId(9), &mut csv("")),
        Err(SyncError::UnknownDirectory(_))
    ));
    let mut other = directory(2, 1, false);
    other.domain = DomainId(2);
    assert!(matches!(
        e.upsert_directory(other),
        Err(EngineError::WrongDomain { .. })
    ));
}

#[test]
fn lookup_forms_priority_and_allowed_set() {
    let e = engine(Arc::new(MemoryPersistence::new()));
    e.upsert_directory(directory(1, 20, false)).unwrap();
    e.upsert_directory(directory(2, 10, false)).unwrap();
    sync(
        &e,
        1,
        "a;Dupont;Jean;;;+33 (0)1 23 45 67 89 x12;+49 30 12345678;;\n",
    );
    sync(&e, 2, "b;Durand;Léa;;;01.23.45.67.89;;;\n");
    // Directory 2 has the lower priority number: it wins.
    let m = e.lookup("0123456789", Allowed::All).unwrap();
    assert_eq!(
        (m.directory, m.field, m.kind),
        (DirectoryId(2), ContactField::Work, MatchKind::Exact)
    );
    assert_eq!(m.canonical, "+33123456789");
    assert_eq!(m.profile.name(), "Léa DURAND");
    // Not allowed to read directory 2: directory 1 names the caller.
    let m = e
        .lookup("+33123456789", Allowed::Only(&[DirectoryId(1)]))
        .unwrap();
    assert_eq!(
        (m.directory, m.profile.found().contact().id()),
        (DirectoryId(1), "a")
    );
    assert!(e.lookup("+33123456789", Allowed::Only(&[])).is_none());
    // Priority change.
    e.upsert_directory(directory(2, 30, false)).unwrap();
    assert_eq!(
        e.lookup("0033123456789", Allowed::All).unwrap().directory,
        DirectoryId(1)
    );
    // Forms of the German mobile: E.164, 00 prefix, digits only (suffix).
    for (form, kind) in [
        ("+493012345678", MatchKind::Exact),
        ("0049 30 12345678", MatchKind::Suffix),
        ("493012345678", MatchKind::Suffix),
    ] {
        let m = e
            .lookup(form, Allowed::All)
            .unwrap_or_else(|| panic!("{form}"));
        assert_eq!((m.field, m.kind), (ContactField::Mobile, kind), "{form}");
    }
    assert!(e.lookup("0611111111", Allowed::All).is_none());
    assert!(e.lookup("", Allowed::All).is_none());
}

#[test]
fn red_list_hides_the_number_keeps_the_name_and_vip_shows() {
    let e = engine(Arc::new(MemoryPersistence::new()));
    e.upsert_directory(directory(1, 1, false)).unwrap();
    sync(
        &e,
        1,
        "1;Hollande;Noa;;;4594;0601020304;;1\n\
         2;Dupont;Francis;;;0155171889;0611223344;Key account;0\n\
         3;Rf;Rf;;;;0622334455;;RF\n\
         4;No;No;;;;0633445566;;nope\n",
    );
    let m = e.lookup("0601020304", Allowed::All).unwrap();
    assert!(m.number_hidden);
    assert_eq!(m.profile.name(), "Noa HOLLANDE");
    assert_eq!(m.profile.number(ContactField::Mobile).0, Number::Hidden);
    assert_eq!(m.profile.get(ContactField::Mobile), None);
    // Only the red-listed type is hidden: the work number is internal, shown.
    assert_eq!(
        m.profile.number(ContactField::Work).0,
        Number::Visible("4594")
    );
    assert_eq!(m.vip, None);
    let internal = e.lookup("4594", Allowed::All).unwrap();
    assert!(!internal.number_hidden);
    assert_eq!(internal.field, ContactField::Work);
    assert!(e.lookup("0622334455", Allowed::All).unwrap().number_hidden);
    assert!(!e.lookup("0633445566", Allowed::All).unwrap().number_hidden);
    let vip = e.lookup("+33155171889", Allowed::All).unwrap();
    assert_eq!(vip.vip.as_deref(), Some("Key account"));
    assert_eq!(
        vip.profile.number(ContactField::Mobile).0,
        Number::Visible("0611223344")
    );
    // Red-listed numbers are not searchable as numbers.
    let q = |text| SimpleQuery {
        text,
        mode: TextMatch::Contains,
        limit: 10,
        after: None,
    };
    assert!(e.search(q("0601020304"), Allowed::All).hits.is_empty());
    assert_eq!(
        names(&e.search(q("06 11 22"), Allowed::All)),
        ["Francis DUPONT"]
    );
}

#[test]
fn merge_by_email_in_priority_order() {
    let e = engine(Arc::new(MemoryPersistence::new()));
    e.upsert_directory(directory(1, 1, true)).unwrap();
    e.upsert_directory(directory(2, 2, true)).unwrap();
    e.upsert_directory(directory(3, 3, false)).unwrap();
    sync(
        &e,
        1,
        "a;Dupont;Jean;;Jean.Dupont@Acme.example;0123456789;;;\n",
    );
    sync(
        &e,
        2,
        "b;Dupond;;Acme;JEAN.DUPONT@acme.example;;0611223344;;\n",
    );
    sync(
        &e,
        3,
        "c;Other;;Globex;jean.dupont@acme.example;;0622334455;;\n",
    );
    // Found by the mobile of directory 2: merged with directory 1, fields in
    // priority order (directory 1's name wins), company from directory 2.
    let m = e.lookup("0611223344", Allowed::All).unwrap();
    assert_eq!(m.directory, DirectoryId(2));
    let p = &m.profile;
    assert_eq!(p.members().len(), 2);
    assert_eq!(
        p.get(ContactField::LastName),
        Some(("DUPONT", DirectoryId(1)))
    );
    assert_eq!(p.get(ContactField::Company), Some(("Acme", DirectoryId(2))));
    assert_eq!(
        p.get(ContactField::Work),
        Some(("0123456789", DirectoryId(1)))
    );
    assert_eq!(p.found().contact().id(), "b");
    // Directory 3 does not merge.
    let m = e.lookup("0622334455", Allowed::All).unwrap();
    assert_eq!(m.profile.members().len(), 1);
    // Not allowed to read directory 1: no fields from it.
    let m = e
        .lookup("0611223344", Allowed::Only(&[DirectoryId(2)]))
        .unwrap();
    assert_eq!(m.profile.members().len(), 1);
    assert_eq!(
        m.profile.get(ContactField::LastName),
        Some(("DUPOND", DirectoryId(2)))
    );
    // Search returns the merged profile once.
    let page = e.search(
        SimpleQuery {
            text: "dupon",
            mode: TextMatch::Prefix,
            limit: 10,
            after: None,
        },
        Allowed::All,
    );
    assert_eq!(names(&page), ["Jean DUPONT"]);
    // Found only through directory 2's company: still once, merged.
    let page = e.search(
        SimpleQuery {
            text: "acme",
            mode: TextMatch::Prefix,
            limit: 10,
            after: None,
        },
        Allowed::All,
    );
    assert_eq!(names(&page), ["Jean DUPONT"]);
    assert_eq!(page.hits[0].found().contact().id(), "b");
}

#[test]
fn simple_search_prefix_contains_numbers_and_paging() {
    let e = engine(Arc::new(MemoryPersistence::new()));
    e.upsert_directory(directory(1, 1, false)).unwrap();
    e.upsert_directory(directory(2, 2, false)).unwrap();
    sync(
        &e,
        1,
        "1;Müller;Élodie;Bäckerei Groß;;01 23 45 67 89;;;\n\
         2;Lefèvre;Jérôme;Acme;;;;;\n\
         3;Dupont;Zoé;;;;;;\n\
         4;Elmer;Fudd;;;;;;\n",
    );
    sync(&e, 2, "9;Eloïse;Anne;;;;;;\n");
    let q = |text, mode| SimpleQuery {
        text,
        mode,
        limit: 50,
        after: None,
    };
    assert_eq!(
        names(&e.search(q("ÉLO", TextMatch::Prefix), Allowed::All)),
        ["Élodie MÜLLER", "Anne ELOÏSE"]
    );
    assert_eq!(
        names(&e.search(q("gross", TextMatch::Prefix), Allowed::All)),
        ["Élodie MÜLLER"]
    );
    assert!(
        e.search(q("odie", TextMatch::Prefix), Allowed::All)
            .hits
            .is_empty()
    );
    assert_eq!(
        names(&e.search(q("odie", TextMatch::Contains), Allowed::All)),
        ["Élodie MÜLLER"]
    );
    assert_eq!(
        names(&e.search(q("01.23.45", TextMatch::Prefix), Allowed::All)),
        ["Élodie MÜLLER"]
    );
    assert_eq!(
        names(&e.search(q("+33 1 23", TextMatch::Prefix), Allowed::All)),
        ["Élodie MÜLLER"]
    );
    assert!(
        e.search(q("  ", TextMatch::Contains), Allowed::All)
            .hits
            .is_empty()
    );
    // Paging: pages of 2 over every contact with an "e".
    let all = names(&e.search(q("e", TextMatch::Contains), Allowed::All));
    assert_eq!(all.len(), 5);
    let mut paged = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let page = e.search(
            SimpleQuery {
                text: "e",
                mode: TextMatch::Contains,
                limit: 2,
                after: after.as_ref(),
            },
            Allowed::All,
        );
        paged.extend(names(&page));
        match page.next {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    assert_eq!(paged, all);
    // Short prefixes scan the text instead of the word-prefix index.
    assert_eq!(
        names(&e.search(q("zo", TextMatch::Prefix), Allowed::All)),
        ["Zoé DUPONT"]
    );
    assert_eq!(
        names(&e.search(q("Dupont Z", TextMatch::Prefix), Allowed::All)),
        ["Zoé DUPONT"]
    );
    // A cursor stays valid across a synchronisation that swaps the generation.
    let first = e.search(
        SimpleQuery {
            text: "e",
            mode: TextMatch::Contains,
            limit: 2,
            after: None,
        },
        Allowed::All,
    );
    sync(
        &e,
        1,
        "1;Müller;Élodie;Bäckerei Groß;;01 23 45 67 89;;;\n\
         2;Lefèvre;Jérôme;Acme;;;;;\n\
         5;Aaron;Eve;;;;;;\n\
         4;Elmer;Fudd;;;;;;\n",
    );
    let next = e.search(
        SimpleQuery {
            text: "e",
            mode: TextMatch::Contains,
            limit: 10,
            after: first.next.as_ref(),
        },
        Allowed::All,
    );
    assert_eq!(names(&first), ["Zoé DUPONT", "Fudd ELMER"]);
    assert_eq!(
        names(&next),
        ["Jérôme LEFÈVRE", "Élodie MÜLLER", "Anne ELOÏSE"]
    );
    // Sorted by last name within a directory, directories by priority.
    assert_eq!(
        all,
        [
            "Zoé DUPONT",
            "Fudd ELMER",
            "Jérôme LEFÈVRE",
            "Élodie MÜLLER",
            "Anne ELOÏSE"
        ]
    );
}

#[test]
fn advanced_search_conditions() {
    let e = engine(Arc::new(MemoryPersistence::new()));
    e.upsert_directory(directory(1, 1, false)).unwrap();
    sync(
        &e,
        1,
        "1;Müller;Élodie;Acme SA;;01 23 45 67 89;;;\n\
         2;Lefèvre;Jérôme;Acme;;;;;\n\
         3;Dupont;Zoé;;;;;;\n",
    );
    let run = |field, condition, value| {
        let q = AdvancedQuery {
            directory: DirectoryId(1),
            field,
            condition,
            value,
            limit: 10,
            after: None,
        };
        names(&e.search_advanced(q, Allowed::All))
    };
    use Condition::*;
    use ContactField::{Company, FirstName, Work};
    assert_eq!(run(Company, Equals, "acme"), ["Jérôme LEFÈVRE"]);
    assert_eq!(
        run(Company, Begins, "ACME"),
        ["Jérôme LEFÈVRE", "Élodie MÜLLER"]
    );
    assert_eq!(run(Company, Ends, " sa"), ["Élodie MÜLLER"]);
    assert_eq!(run(FirstName, Contains, "ERO"), ["Jérôme LEFÈVRE"]);
    assert_eq!(
        run(Company, Different, "acme"),
        ["Zoé DUPONT", "Élodie MÜLLER"]
    );
    assert_eq!(run(Work, Begins, "01.23"), ["Élodie MÜLLER"]);
    assert!(run(Company, Contains, "globex").is_empty());
    let other = AdvancedQuery {
        directory: DirectoryId(1),
        field: Company,
        condition: Equals,
        value: "acme",
        limit: 10,
        after: None,
    };
    assert!(
        e.search_advanced(other, Allowed::Only(&[DirectoryId(2)]))
            .hits
            .is_empty()
    );
}

#[test]
fn mapping_errors_name_the_field() {
    let err = Mapping::new(
        [
            (Target::Field(ContactField::Id), "id"),
            (Target::Field(ContactField::LastName), "sn|u,z"),
        ],
        [],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "field lastName: unknown option `z`: expected a, h, i, l, m, u or p::template::regex (lower case) (at position 6)"
    );
    assert!(matches!(
        Mapping::new([(Target::Field(ContactField::LastName), "sn")], []),
        Err(MappingError::MissingId)
    ));
    assert!(matches!(
        Mapping::new(
            [
                (Target::Field(ContactField::Id), "id"),
                (Target::RedList(ContactField::Company), "p")
            ],
            []
        ),
        Err(MappingError::RedListNotPhone(_))
    ));
    assert!(matches!(
        Mapping::new(
            [
                (Target::Field(ContactField::Id), "id"),
                (Target::Field(ContactField::Id), "x")
            ],
            []
        ),
        Err(MappingError::Duplicate(_))
    ));
    let m = Mapping::new(
        [
            (Target::Field(ContactField::Id), "id"),
            (Target::Field(ContactField::Address), "street|a,i"),
        ],
        [(ContactField::Custom3, "[vip]".to_owned())],
    )
    .unwrap();
    assert_eq!(m.vip_field(), Some(ContactField::Custom3));
    assert!(m.options(ContactField::Address).unwrap().address_link);
    assert_eq!(m.source_fields(), ["id", "street"]);
}

#[test]
fn large_sync_across_chunks_names_every_generated_person() {
    use twp_directory::generate::{self, Config, CsvEncoding, CsvSink, People};
    let config = Config {
        seed: 5,
        people: 20_000,
        duplicate_share: 0.0,
    };
    let mut bytes = Vec::new();
    {
        let mut main = CsvSink::new(&mut bytes, b';', CsvEncoding::Windows1252).unwrap();
        generate::write_all(config, &mut [&mut main]).unwrap();
    }
    // A duplicate of the sixth person (line 7) at the end, in another chunk.
    bytes.extend_from_slice(b"P0000005;Late;Copy;;;;;;;;;;;;;\n");
    let e = engine(Arc::new(MemoryPersistence::new()));
    let mut dir = directory(1, 1, true);
    dir.mapping = generate::mapping().unwrap();
    e.upsert_directory(dir).unwrap();
    let mut c = CsvConnector::new(CsvSource::Bytes(Arc::from(bytes)), CsvOptions::default());
    let r = e.synchronise(DirectoryId(1), &mut c).unwrap();
    assert_eq!(
        (r.rows_read, r.created, r.ignored_total),
        (20_001, 20_000, 1)
    );
    assert_eq!(
        r.ignored[0],
        IgnoredRecord {
            location: Location::Line(20_002),
            reason: IgnoreReason::DuplicateId {
                id: "P0000005".into(),
                first: "line 7".into()
            }
        }
    );
    let mut checked = 0;
    for (n, person) in People::new(config).enumerate().step_by(97) {
        for p in &person.presented {
            let m = e
                .lookup(&p.number, Allowed::All)
                .unwrap_or_else(|| panic!("{}", p.number));
            assert_eq!(
                m.profile.found().contact().id(),
                format!("P{n:07}"),
                "{}",
                p.number
            );
            checked += 1;
        }
    }
    assert!(checked > 500, "{checked}");
}
