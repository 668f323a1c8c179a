//! SQL databases (guide 8.4, in place of SQL/OLE DB): PostgreSQL,
//! MySQL/MariaDB and SQLite, a table or the administrator's query.
//!
//! Rows are streamed (`fetch`) on a reader thread ([`crate::pump`]).
//! Every value is read as text whatever its SQL type: PostgreSQL and MySQL
//! run the statement with their text protocols (simple query / COM_QUERY,
//! which answer every value in its text form) and SQLite converts with
//! `sqlite3_column_text`; NULL is a missing value. Columns are matched to
//! the mapping's fields by name, case-insensitively. The statement runs in
//! a read-only transaction (PostgreSQL, MySQL) or on a read-only connection
//! (SQLite).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use serde::Deserialize;
use sqlx::mysql::MySqlConnectOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Column, ConnectOptions, Connection, Database, Decode, Row};
use twp_directory::{ConnectionTest, Connector, ConnectorError, Location, RecordStream};

use crate::Secret;
use crate::pump::{self, Item, Sink};

/// Rows per batch handed to the engine.
const BATCH: usize = 512;

/// The database server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqlEngine {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
    /// SQLite (the database is a file on the server).
    Sqlite,
}

impl SqlEngine {
    fn name(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::Mysql => "MySQL",
            Self::Sqlite => "SQLite",
        }
    }
}

/// What is read.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqlSource {
    /// Every row of a table (`schema.table` allowed).
    Table(String),
    /// The administrator's `SELECT`.
    Query(String),
}

/// Settings of an SQL directory.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlSettings {
    /// PostgreSQL, MySQL/MariaDB or SQLite.
    pub engine: SqlEngine,
    /// Server name or address (not used by SQLite).
    #[serde(default)]
    pub host: String,
    /// Port; the engine's default (5432, 3306) when absent.
    #[serde(default)]
    pub port: Option<u16>,
    /// Database name; for SQLite, the database file.
    pub database: String,
    /// User.
    #[serde(default)]
    pub user: String,
    /// Password.
    #[serde(default)]
    pub password: Secret,
    /// Table or query.
    pub source: SqlSource,
    /// Seconds allowed to connect.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_timeout() -> u64 {
    30
}

impl SqlSettings {
    fn port(&self) -> u16 {
        self.port.unwrap_or(match self.engine {
            SqlEngine::Postgres => 5432,
            _ => 3306,
        })
    }

    fn server(&self) -> String {
        match self.engine {
            SqlEngine::Sqlite => self.database.clone(),
            _ => format!("{}:{}", self.host, self.port()),
        }
    }

    /// The statement to run.
    fn statement(&self) -> Result<String, ConnectorError> {
        match &self.source {
            SqlSource::Query(q) if q.trim().is_empty() => {
                Err(ConnectorError::Format("Query: the query is empty".into()))
            }
            SqlSource::Query(q) => Ok(q.trim().trim_end_matches(';').to_owned()),
            SqlSource::Table(t) => Ok(format!("SELECT * FROM {}", quote_table(self.engine, t)?)),
        }
    }

    fn what(&self) -> String {
        match &self.source {
            SqlSource::Table(t) => format!("Table {t:?}"),
            SqlSource::Query(_) => "Query".to_owned(),
        }
    }
}

/// Quotes `schema.table` for `engine`; names are letters, digits, `_`,
/// `$` and spaces.
pub fn quote_table(engine: SqlEngine, table: &str) -> Result<String, ConnectorError> {
    let q = if engine == SqlEngine::Mysql { '`' } else { '"' };
    let mut parts = Vec::new();
    for part in table.trim().split('.') {
        let ok = !part.trim().is_empty()
            && part
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == ' ');
        if !ok {
            return Err(ConnectorError::Format(format!(
                "Table: {table:?} is not a table name (letters, digits, _, $; schema.table)"
            )));
        }
        parts.push(format!("{q}{}{q}", part.trim()));
    }
    Ok(parts.join("."))
}

/// An SQL directory source.
#[derive(Clone, Debug)]
pub struct SqlConnector {
    settings: Arc<SqlSettings>,
}

impl SqlConnector {
    /// A connector with `settings`.
    pub fn new(settings: SqlSettings) -> Self {
        Self {
            settings: Arc::new(settings),
        }
    }
}

impl Connector for SqlConnector {
    fn test_connection(&mut self) -> Result<ConnectionTest, ConnectorError> {
        let statement = self.settings.statement()?;
        let settings = Arc::clone(&self.settings);
        let columns = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = Arc::clone(&columns);
        // The first row (if any) gives the columns; the run stops there.
        let mut stream = pump::spawn("sql-test", 1, move |sink| async move {
            run(settings, statement, None, sink, Some(seen)).await
        })?;
        let mut record = twp_directory::SourceRecord::new(0);
        stream.next_record(&mut record)?;
        drop(stream);
        let fields = columns.lock().map(|c| c.clone()).unwrap_or_default();
        Ok(ConnectionTest {
            detail: format!(
                "{} {}, database {}, {}",
                self.settings.engine.name(),
                self.settings.server(),
                self.settings.database,
                self.settings.what()
            ),
            fields,
        })
    }

    fn open<'a>(
        &'a mut self,
        fields: &[String],
    ) -> Result<Box<dyn RecordStream + 'a>, ConnectorError> {
        let statement = self.settings.statement()?;
        let settings = Arc::clone(&self.settings);
        let fields = fields.to_vec();
        let stream = pump::spawn("sql-reader", BATCH, move |sink| async move {
            run(settings, statement, Some(fields), sink, None).await
        })?;
        Ok(Box::new(stream))
    }
}

type Columns = Arc<std::sync::Mutex<Vec<String>>>;

async fn run(
    settings: Arc<SqlSettings>,
    statement: String,
    fields: Option<Vec<String>>,
    sink: Sink,
    columns: Option<Columns>,
) -> Result<(), ConnectorError> {
    let timeout = Duration::from_secs(settings.timeout_secs.max(1));
    let s = &settings;
    match settings.engine {
        SqlEngine::Postgres => {
            let mut options = PgConnectOptions::new()
                .host(&s.host)
                .port(s.port())
                .username(&s.user)
                .database(&s.database);
            // An empty password is no password (MySQL tells them apart).
            if !s.password.is_empty() {
                options = options.password(s.password.expose());
            }
            let mut conn = connect(s, timeout, options.connect()).await?;
            read_only(s, &mut conn).await?;
            stream_rows(s, &mut conn, &statement, fields, sink, columns).await
        }
        SqlEngine::Mysql => {
            let mut options = MySqlConnectOptions::new()
                .host(&s.host)
                .port(s.port())
                .username(&s.user)
                .database(&s.database);
            // An empty password is no password (MySQL tells them apart).
            if !s.password.is_empty() {
                options = options.password(s.password.expose());
            }
            let mut conn = connect(s, timeout, options.connect()).await?;
            read_only(s, &mut conn).await?;
            stream_rows(s, &mut conn, &statement, fields, sink, columns).await
        }
        SqlEngine::Sqlite => {
            if !std::path::Path::new(&s.database).is_file() {
                return Err(ConnectorError::Connection(format!(
                    "Database: the SQLite file {:?} does not exist",
                    s.database
                )));
            }
            let options = SqliteConnectOptions::new()
                .filename(&s.database)
                .read_only(true);
            let mut conn = connect(s, timeout, options.connect()).await?;
            stream_rows(s, &mut conn, &statement, fields, sink, columns).await
        }
    }
}

async fn connect<C>(
    s: &SqlSettings,
    timeout: Duration,
    connecting: impl std::future::Future<Output = Result<C, sqlx::Error>>,
) -> Result<C, ConnectorError> {
    match tokio::time::timeout(timeout, connecting).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(connect_error(s, &e)),
        Err(_) => Err(ConnectorError::Connection(format!(
            "{} at {} did not answer within {} s (settings Host and Port)",
            s.engine.name(),
            s.server(),
            timeout.as_secs()
        ))),
    }
}

/// A precise message naming the setting to fix.
fn connect_error(s: &SqlSettings, e: &sqlx::Error) -> ConnectorError {
    let engine = s.engine.name();
    let server = s.server();
    let msg = match e {
        sqlx::Error::Io(io) => {
            format!("cannot reach {engine} at {server} (settings Host and Port): {io}")
        }
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            match code.as_ref() {
                // PostgreSQL invalid_password / invalid_authorization;
                // MySQL ER_ACCESS_DENIED_ERROR.
                "28P01" | "28000" | "1045" => format!(
                    "{engine} at {server} refused the login: wrong User or Password for {:?} ({})",
                    s.user,
                    db.message()
                ),
                // PostgreSQL invalid_catalog_name; MySQL ER_BAD_DB_ERROR.
                "3D000" | "1049" => format!(
                    "Database: {:?} does not exist on {engine} at {server}",
                    s.database
                ),
                _ => format!("{engine} at {server}: {}", db.message()),
            }
        }
        e => format!("cannot connect to {engine} at {server}: {e}"),
    };
    ConnectorError::Connection(msg)
}

async fn read_only<C>(s: &SqlSettings, conn: &mut C) -> Result<(), ConnectorError>
where
    for<'c> &'c mut C: sqlx::Executor<'c>,
{
    sqlx::raw_sql("START TRANSACTION READ ONLY")
        .execute(conn)
        .await
        .map(|_| ())
        .map_err(|e| {
            ConnectorError::Connection(format!(
                "{}: cannot start a read-only transaction: {e}",
                s.engine.name()
            ))
        })
}

fn statement_error(s: &SqlSettings, e: &sqlx::Error) -> ConnectorError {
    let detail = match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        e => e.to_string(),
    };
    ConnectorError::Format(format!(
        "{}: {} refused the statement: {detail}",
        s.what(),
        s.engine.name()
    ))
}

async fn stream_rows<C, DB>(
    s: &SqlSettings,
    conn: &mut C,
    statement: &str,
    fields: Option<Vec<String>>,
    mut sink: Sink,
    columns: Option<Columns>,
) -> Result<(), ConnectorError>
where
    C: Connection<Database = DB>,
    DB: Database,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = DB>,
    for<'r> Option<String>: Decode<'r, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let mut rows = sqlx::raw_sql(statement).fetch(&mut *conn);
    // For each asked field, its column.
    let mut slots: Option<Vec<Option<usize>>> = None;
    let mut n = 0u64;
    while let Some(row) = rows.try_next().await.map_err(|e| statement_error(s, &e))? {
        n += 1;
        if let Some(seen) = &columns {
            if let Ok(mut c) = seen.lock() {
                *c = row.columns().iter().map(|c| c.name().to_owned()).collect();
            }
            return Ok(());
        }
        let fields = fields.as_deref().unwrap_or_default();
        let at = match &slots {
            Some(at) => at,
            None => slots.insert(match_columns(s, &row, fields)?),
        };
        let mut values = vec![None; fields.len()];
        let mut unreadable = None;
        for (slot, column) in values.iter_mut().zip(at) {
            if let Some(i) = *column {
                match row.try_get_unchecked::<Option<String>, usize>(i) {
                    Ok(v) => *slot = v,
                    Err(_) => {
                        unreadable =
                            Some(format!("column {:?} is not text", row.columns()[i].name()));
                    }
                }
            }
        }
        let location = Location::Row(n);
        let item = match unreadable {
            Some(reason) => Item::Skipped { location, reason },
            None => Item::Record { location, values },
        };
        if !sink.push(item) {
            return Ok(());
        }
    }
    sink.flush();
    Ok(())
}

fn match_columns<R: Row>(
    s: &SqlSettings,
    row: &R,
    fields: &[String],
) -> Result<Vec<Option<usize>>, ConnectorError> {
    let by_name: HashMap<String, usize> = row
        .columns()
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name().to_lowercase(), i))
        .collect();
    fields
        .iter()
        .map(|f| match by_name.get(&f.to_lowercase()) {
            Some(&i) => Ok(Some(i)),
            None => Err(ConnectorError::MissingField {
                field: f.clone(),
                available: format!(
                    "{}: {}",
                    s.what(),
                    row.columns()
                        .iter()
                        .map(|c| c.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_quoted_or_refused() {
        assert_eq!(
            quote_table(SqlEngine::Postgres, "public.people").unwrap(),
            "\"public\".\"people\""
        );
        assert_eq!(quote_table(SqlEngine::Mysql, "people").unwrap(), "`people`");
        for bad in ["", "a;drop", "a\"b", "a..b", "x`y"] {
            let e = quote_table(SqlEngine::Sqlite, bad).unwrap_err().to_string();
            assert!(e.starts_with("Table:"), "{e}");
        }
    }
}
