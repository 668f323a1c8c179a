#![allow(clippy::unwrap_used)]
//! The Excel connector on workbooks written by the test: generated people
//! synchronised and named, numbers as text, broken workbooks located.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use common::xlsx::{Cell, write};
use twp_connectors::{XlsxConnector, XlsxSettings};
use twp_dialplan::DialPlan;
use twp_directory::generate::{COLUMNS, Config, People};
use twp_directory::{
    Allowed, Connector, ContactField as F, Directory, DirectoryEngine, DirectoryId, DirectoryType,
    Location, MemoryPersistence, SyncError,
};
use twp_domain::DomainId;

const CONFIG: Config = Config {
    seed: 9,
    people: 250,
    duplicate_share: 0.0,
};

fn temp(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "twp-xlsx-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
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
        name: "Excel".into(),
        kind: DirectoryType::Public,
        priority: 1,
        merge_contacts: false,
        mapping: twp_directory::generate::mapping().unwrap(),
    })
    .unwrap();
    e
}

/// The generated people; the `vip` column holds numbers (a float cell).
fn people_workbook(path: &std::path::Path) {
    let mut rows = vec![COLUMNS.iter().map(|c| Cell::Text((*c).into())).collect()];
    for (i, person) in People::new(CONFIG).enumerate() {
        let row = &person.rows[0];
        rows.push(
            row.values
                .iter()
                .enumerate()
                .map(|(c, v)| match (c, v.is_empty()) {
                    (14, _) => Cell::Number(i as f64),
                    (_, true) => Cell::Empty,
                    (_, false) => Cell::Text(v.clone()),
                })
                .collect(),
        );
    }
    // A row without id.
    rows.push(vec![Cell::Empty, Cell::Text("Nobody".into())]);
    write(path, "Contacts", &rows);
}

#[test]
fn generated_people_from_a_sheet() {
    let path = temp("people.xlsx");
    people_workbook(&path);
    let e = engine();
    let mut c = XlsxConnector::new(XlsxSettings {
        path: path.clone(),
        sheet: Some("[Contacts$]".into()),
    });
    let t = c.test_connection().unwrap();
    assert_eq!(t.fields, COLUMNS);
    let r = e.synchronise(DirectoryId(1), &mut c).unwrap();
    assert_eq!(
        (r.rows_read, r.created, r.ignored_total),
        (251, 250, 1),
        "{r:?}"
    );
    assert_eq!(r.ignored[0].location, Location::Row(252));
    for (i, person) in People::new(CONFIG).enumerate() {
        for p in &person.presented {
            let m = e.lookup(&p.number, Allowed::All).unwrap();
            assert_eq!(m.profile.found().contact().id(), person.rows[0].id());
            // A number cell is read as text, without ".0".
            assert_eq!(
                m.profile.found().contact().get(F::Custom0),
                Some(i.to_string().as_str())
            );
        }
    }
    let _ = std::fs::remove_file(&path);
}

fn failure(settings: XlsxSettings) -> String {
    let mut c = XlsxConnector::new(settings);
    let tested = c.test_connection().unwrap_err().to_string();
    match engine().synchronise(DirectoryId(1), &mut c) {
        Err(SyncError::Connector { source, .. }) => assert_eq!(source.to_string(), tested),
        other => panic!("{other:?}"),
    }
    tested
}

#[test]
fn broken_workbooks_are_named() {
    let garbage = temp("broken.xlsx");
    std::fs::write(&garbage, b"PK\x03\x04 this is not a workbook").unwrap();
    let e = failure(XlsxSettings {
        path: garbage.clone(),
        sheet: None,
    });
    assert!(
        e.contains("is not a readable .xlsx file") && e.contains("broken.xlsx"),
        "{e}"
    );

    let good = temp("good.xlsx");
    people_workbook(&good);
    let e = failure(XlsxSettings {
        path: good.clone(),
        sheet: Some("[People$]".into()),
    });
    assert!(
        e.starts_with("Table: sheet \"People\" is not in workbook") && e.contains("Contacts"),
        "{e}"
    );

    let empty = temp("empty.xlsx");
    write(&empty, "Contacts", &[]);
    let e = failure(XlsxSettings {
        path: empty.clone(),
        sheet: None,
    });
    assert!(e.contains("the sheet is empty"), "{e}");

    let e = failure(XlsxSettings {
        path: temp("absent.xlsx"),
        sheet: None,
    });
    assert!(
        e.starts_with("cannot read") && e.contains("absent.xlsx"),
        "{e}"
    );
    for p in [garbage, good, empty] {
        let _ = std::fs::remove_file(p);
    }
}
