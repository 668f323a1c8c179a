#![allow(clippy::unwrap_used)]
//! The SQL connector against the real PostgreSQL and MariaDB of the machine
//! (throw-away tables with unique names, dropped at the end) and SQLite
//! files: generated people synchronised through the engine and named by a
//! look-up, numbers and NULLs read as text, bad settings named.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor};
use twp_connectors::{Secret, SqlConnector, SqlEngine, SqlSettings, SqlSource};
use twp_dialplan::DialPlan;
use twp_directory::generate::{COLUMNS, Config, People};
use twp_directory::{
    Allowed, Connector, ContactField as F, Directory, DirectoryEngine, DirectoryId, DirectoryType,
    Mapping, MemoryPersistence, SyncError, Target as T,
};
use twp_domain::DomainId;

const CONFIG: Config = Config {
    seed: 5,
    people: 300,
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

fn quote(v: &str) -> String {
    if v.is_empty() {
        "NULL".to_owned()
    } else {
        format!("'{}'", v.replace('\'', "''"))
    }
}

/// DDL and rows of the generated people; `seq` is an integer column.
fn statements(table: &str, q: char) -> Vec<String> {
    let cols: Vec<String> = COLUMNS
        .iter()
        .map(|c| format!("{q}{c}{q} VARCHAR(255)"))
        .collect();
    let mut out = vec![format!(
        "CREATE TABLE {table} ({}, seq INTEGER, score REAL)",
        cols.join(", ")
    )];
    let names: Vec<String> = COLUMNS.iter().map(|c| format!("{q}{c}{q}")).collect();
    for (i, person) in People::new(CONFIG).enumerate() {
        let row = &person.rows[0];
        let values: Vec<String> = row.values.iter().map(|v| quote(v)).collect();
        out.push(format!(
            "INSERT INTO {table} ({}, seq, score) VALUES ({}, {i}, 2.5)",
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

fn mapping() -> Mapping {
    let generated = twp_directory::generate::mapping().unwrap();
    let _ = generated;
    Mapping::new(
        [
            (T::Field(F::Id), "id"),
            (T::Field(F::LastName), "sn"),
            (T::Field(F::FirstName), "GIVENNAME"),
            (T::Field(F::Company), "company"),
            (T::Field(F::Email1), "mail"),
            (T::Field(F::Work), "telephoneNumber"),
            (T::Field(F::Mobile), "mobile"),
            (T::Field(F::Home), "homePhone"),
            (T::Field(F::Custom1), "seq"),
            (T::Field(F::Custom2), "score"),
        ],
        [],
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
        name: "SQL".into(),
        kind: DirectoryType::Public,
        priority: 1,
        merge_contacts: false,
        mapping: mapping(),
    })
    .unwrap();
    e
}

/// Syncs `settings` and checks every generated person is named.
fn check_people(settings: SqlSettings) {
    let e = engine();
    let mut c = SqlConnector::new(settings);
    let tested = c.test_connection().unwrap();
    assert!(
        tested.fields.iter().any(|f| f == "seq"),
        "{:?}",
        tested.fields
    );
    let r = e.synchronise(DirectoryId(1), &mut c).unwrap();
    assert_eq!(
        (r.rows_read, r.created, r.ignored_total),
        (300, 300, 0),
        "{r:?}"
    );
    for (i, person) in People::new(CONFIG).enumerate() {
        let row = &person.rows[0];
        for p in &person.presented {
            let m = e.lookup(&p.number, Allowed::All).unwrap();
            let contact = m.profile.found().contact();
            assert_eq!(contact.id(), row.id());
            // Numbers are read as text; NULL is missing.
            assert_eq!(contact.get(F::Custom1), Some(i.to_string().as_str()));
            assert_eq!(contact.get(F::Custom2), Some("2.5"));
            assert_eq!(
                contact.get(F::Email1),
                Some(row.values[5].as_str()).filter(|v| !v.is_empty())
            );
        }
    }
}

fn failure(settings: SqlSettings) -> String {
    let mut c = SqlConnector::new(settings);
    let tested = c.test_connection().unwrap_err().to_string();
    match engine().synchronise(DirectoryId(1), &mut c) {
        Err(SyncError::Connector { source, .. }) => assert_eq!(source.to_string(), tested),
        other => panic!("{other:?}"),
    }
    tested
}

fn postgres(table: &str) -> SqlSettings {
    SqlSettings {
        engine: SqlEngine::Postgres,
        host: "127.0.0.1".into(),
        port: Some(5432),
        database: "postgres".into(),
        user: "postgres".into(),
        password: Secret::default(),
        source: SqlSource::Table(table.into()),
        timeout_secs: 5,
    }
}

fn mariadb(table: &str) -> SqlSettings {
    SqlSettings {
        engine: SqlEngine::Mysql,
        host: "127.0.0.1".into(),
        port: Some(3306),
        database: "test".into(),
        user: "root".into(),
        password: Secret::default(),
        source: SqlSource::Table(table.into()),
        timeout_secs: 5,
    }
}

#[test]
fn postgres_table_and_query() {
    let table = unique("twp_conn_pg");
    let rt = runtime();
    let url = "postgres://postgres@127.0.0.1:5432/postgres";
    let mut conn = rt.block_on(sqlx::PgConnection::connect(url)).unwrap();
    rt.block_on(exec_all(&mut conn, &statements(&table, '"')));
    let result = std::panic::catch_unwind(|| {
        check_people(postgres(&table));
        check_people(SqlSettings {
            source: SqlSource::Query(format!("SELECT * FROM {table} ORDER BY seq DESC")),
            ..postgres(&table)
        });
        // The query is read-only.
        let write = failure(SqlSettings {
            source: SqlSource::Query(format!("DELETE FROM {table} RETURNING *")),
            ..postgres(&table)
        });
        assert!(
            write.starts_with("Query: PostgreSQL refused") && write.contains("read-only"),
            "{write}"
        );
        let bad = failure(SqlSettings {
            source: SqlSource::Query("SELECT nope FROM nowhere".into()),
            ..postgres(&table)
        });
        assert!(
            bad.starts_with("Query: PostgreSQL refused the statement"),
            "{bad}"
        );
        let missing = failure(postgres("no_such_table_twp"));
        assert!(
            missing.starts_with("Table \"no_such_table_twp\""),
            "{missing}"
        );
        let user = failure(SqlSettings {
            user: "no_such_role_twp".into(),
            ..postgres(&table)
        });
        assert!(user.contains("wrong User or Password"), "{user}");
        let db = failure(SqlSettings {
            database: "no_such_db_twp".into(),
            ..postgres(&table)
        });
        assert!(
            db.starts_with("connection failed: Database:")
                || db.contains("Database: \"no_such_db_twp\""),
            "{db}"
        );
        let unreachable = failure(SqlSettings {
            port: Some(1),
            ..postgres(&table)
        });
        assert!(
            unreachable.contains("settings Host and Port"),
            "{unreachable}"
        );
    });
    rt.block_on(sqlx::raw_sql(&format!("DROP TABLE {table}")).execute(&mut conn))
        .unwrap();
    result.unwrap();
}

#[test]
fn mariadb_table_and_wrong_password() {
    let table = unique("twp_conn_my");
    let rt = runtime();
    let url = "mysql://root@127.0.0.1:3306/test";
    let mut conn = rt.block_on(sqlx::MySqlConnection::connect(url)).unwrap();
    rt.block_on(exec_all(&mut conn, &statements(&table, '`')));
    let result = std::panic::catch_unwind(|| {
        check_people(mariadb(&table));
        let wrong = failure(SqlSettings {
            password: Secret::new("wrong"),
            ..mariadb(&table)
        });
        assert!(wrong.contains("wrong User or Password"), "{wrong}");
        let bad = failure(SqlSettings {
            source: SqlSource::Query(format!("SELEC * FROM {table}")),
            ..mariadb(&table)
        });
        assert!(
            bad.starts_with("Query: MySQL refused the statement"),
            "{bad}"
        );
        // The connection works; the sync finds the mapped column missing.
        let mut c = SqlConnector::new(SqlSettings {
            source: SqlSource::Query(format!("SELECT id, sn FROM {table}")),
            ..mariadb(&table)
        });
        assert_eq!(c.test_connection().unwrap().fields, ["id", "sn"]);
        let column = engine()
            .synchronise(DirectoryId(1), &mut c)
            .unwrap_err()
            .to_string();
        assert!(
            column.contains("\"GIVENNAME\" is not in the source"),
            "{column}"
        );
    });
    rt.block_on(sqlx::raw_sql(&format!("DROP TABLE {table}")).execute(&mut conn))
        .unwrap();
    result.unwrap();
}

#[test]
fn sqlite_file() {
    let path = std::env::temp_dir().join(format!("{}.db", unique("twp_conn_sqlite")));
    let rt = runtime();
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let mut conn = rt
        .block_on(sqlx::ConnectOptions::connect(&options))
        .unwrap();
    rt.block_on(exec_all(&mut conn, &statements("people", '"')));
    rt.block_on(conn.close()).unwrap();
    let settings = SqlSettings {
        engine: SqlEngine::Sqlite,
        host: String::new(),
        port: None,
        database: path.display().to_string(),
        user: String::new(),
        password: Secret::default(),
        source: SqlSource::Table("people".into()),
        timeout_secs: 5,
    };
    check_people(settings.clone());
    let absent = failure(SqlSettings {
        database: "/nonexistent/twp.db".into(),
        ..settings.clone()
    });
    assert!(absent.contains("Database: the SQLite file"), "{absent}");
    let write = failure(SqlSettings {
        source: SqlSource::Query("DELETE FROM people RETURNING *".into()),
        ..settings
    });
    assert!(write.starts_with("Query: SQLite refused"), "{write}");
    let _ = std::fs::remove_file(&path);
}
