#![allow(clippy::unwrap_used)]
//! The ODBC connector through unixODBC with Debian's drivers: SQLite3
//! (libsqliteodbc) on a file and PostgreSQL (odbc-postgresql) on the local
//! server; generated people synchronised and named, errors named.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor};
use twp_connectors::{OdbcConnector, OdbcSettings, Secret, SqlSource};
use twp_dialplan::DialPlan;
use twp_directory::generate::{COLUMNS, Config, People};
use twp_directory::{
    Allowed, Connector, ContactField as F, Directory, DirectoryEngine, DirectoryId, DirectoryType,
    Mapping, MemoryPersistence, SyncError, Target as T,
};
use twp_domain::DomainId;

const CONFIG: Config = Config {
    seed: 13,
    people: 200,
    duplicate_share: 0.0,
};

fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn statements(table: &str) -> Vec<String> {
    let cols: Vec<String> = COLUMNS
        .iter()
        .map(|c| format!("\"{c}\" VARCHAR(255)"))
        .collect();
    let mut out = vec![format!(
        "CREATE TABLE {table} ({}, seq INTEGER)",
        cols.join(", ")
    )];
    let names: Vec<String> = COLUMNS.iter().map(|c| format!("\"{c}\"")).collect();
    for (i, person) in People::new(CONFIG).enumerate() {
        let values: Vec<String> = person.rows[0]
            .values
            .iter()
            .map(|v| {
                if v.is_empty() {
                    "NULL".to_owned()
                } else {
                    format!("'{}'", v.replace('\'', "''"))
                }
            })
            .collect();
        out.push(format!(
            "INSERT INTO {table} ({}, seq) VALUES ({}, {i})",
            names.join(", "),
            values.join(", ")
        ));
    }
    out
}

async fn exec_all<C>(conn: &mut C, sql: &[String])
where
    for<'c> &'c mut C: Executor<'c>,
{
    for s in sql {
        sqlx::raw_sql(s).execute(&mut *conn).await.unwrap();
    }
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
        name: "ODBC".into(),
        kind: DirectoryType::Public,
        priority: 1,
        merge_contacts: false,
        mapping: Mapping::new(
            [
                (T::Field(F::Id), "id"),
                (T::Field(F::LastName), "sn"),
                (T::Field(F::FirstName), "givenName"),
                (T::Field(F::Email1), "mail"),
                (T::Field(F::Work), "telephoneNumber"),
                (T::Field(F::Mobile), "mobile"),
                (T::Field(F::Home), "homePhone"),
                (T::Field(F::Custom1), "seq"),
            ],
            [],
        )
        .unwrap(),
    })
    .unwrap();
    e
}

fn check_people(settings: OdbcSettings) {
    let e = engine();
    let mut c = OdbcConnector::new(settings);
    let t = c.test_connection().unwrap();
    assert!(t.fields.iter().any(|f| f == "seq"), "{:?}", t.fields);
    let r = e.synchronise(DirectoryId(1), &mut c).unwrap();
    assert_eq!((r.rows_read, r.created), (200, 200), "{r:?}");
    for (i, person) in People::new(CONFIG).enumerate() {
        for p in &person.presented {
            let m = e.lookup(&p.number, Allowed::All).unwrap();
            let contact = m.profile.found().contact();
            assert_eq!(contact.id(), person.rows[0].id());
            assert_eq!(contact.get(F::Custom1), Some(i.to_string().as_str()));
        }
    }
}

fn failure(settings: OdbcSettings) -> String {
    let mut c = OdbcConnector::new(settings);
    let tested = c.test_connection().unwrap_err().to_string();
    match engine().synchronise(DirectoryId(1), &mut c) {
        Err(SyncError::Connector { source, .. }) => assert_eq!(source.to_string(), tested),
        other => panic!("{other:?}"),
    }
    tested
}

#[test]
fn sqlite_driver() {
    let path = std::env::temp_dir().join(format!("{}.db", unique("twp_odbc")));
    let rt = runtime();
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let mut conn = rt
        .block_on(sqlx::ConnectOptions::connect(&options))
        .unwrap();
    rt.block_on(exec_all(&mut conn, &statements("contacts")));
    rt.block_on(conn.close()).unwrap();
    let settings = OdbcSettings {
        connection_string: format!("Driver=SQLite3;Database={};", path.display()),
        database: String::new(),
        user: String::new(),
        password: Secret::default(),
        source: SqlSource::Table("contacts".into()),
    };
    check_people(settings.clone());
    check_people(OdbcSettings {
        source: SqlSource::Query("SELECT * FROM contacts WHERE seq >= 0".into()),
        ..settings.clone()
    });
    let bad = failure(OdbcSettings {
        source: SqlSource::Query("SELECT * FROM nowhere".into()),
        ..settings.clone()
    });
    assert!(
        bad.starts_with("Query: the database refused the statement"),
        "{bad}"
    );
    let driver = failure(OdbcSettings {
        connection_string: "Driver={No Such Driver};Database=x;PWD=hidden".into(),
        ..settings
    });
    assert!(
        driver.contains("Connection string: no such DSN or driver"),
        "{driver}"
    );
    assert!(!driver.contains("hidden"), "{driver}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn postgresql_driver() {
    let table = unique("twp_odbc_pg");
    let rt = runtime();
    let mut conn = rt
        .block_on(sqlx::PgConnection::connect(
            "postgres://postgres@127.0.0.1:5432/postgres",
        ))
        .unwrap();
    rt.block_on(exec_all(&mut conn, &statements(&table)));
    let settings = OdbcSettings {
        connection_string:
            "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=5432;Database=postgres;".into(),
        database: String::new(),
        user: "postgres".into(),
        password: Secret::default(),
        source: SqlSource::Table(table.clone()),
    };
    let result = std::panic::catch_unwind(|| {
        check_people(settings.clone());
        let unreachable = failure(OdbcSettings {
            connection_string:
                "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=1;Database=postgres;".into(),
            ..settings.clone()
        });
        assert!(
            unreachable.contains("cannot reach the database"),
            "{unreachable}"
        );
        let missing = failure(OdbcSettings {
            source: SqlSource::Table("no_such_table_twp".into()),
            ..settings.clone()
        });
        assert!(
            missing.starts_with("Table \"no_such_table_twp\": the database refused"),
            "{missing}"
        );
    });
    rt.block_on(sqlx::raw_sql(&format!("DROP TABLE {table}")).execute(&mut conn))
        .unwrap();
    result.unwrap();
}
