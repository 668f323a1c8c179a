//! ODBC (guide 8.4) through the system's driver manager (unixODBC on
//! Linux) with the `odbc-api` crate: a connection string in the guide's
//! style (`Driver={…};Server=…;Database=…`, `DSN=…`) or a DSN named in the
//! Database setting; a table (`[Contacts$]` passed as written) or a query.
//!
//! Rows are fetched in blocks of [`BATCH`] into text buffers (the driver
//! converts every type to text; NULL is a missing value), so the source is
//! streamed. ODBC calls block: the stream runs on the engine's thread.

use std::collections::HashMap;
use std::fmt;

use odbc_api::buffers::TextRowSet;
use odbc_api::{ConnectionOptions, Cursor, ResultSetMetadata};
use serde::Deserialize;
use twp_directory::{
    ConnectionTest, Connector, ConnectorError, Location, ReadOutcome, RecordStream, SourceRecord,
};

use crate::Secret;
use crate::sql::SqlSource;

/// Rows fetched per ODBC call.
pub const BATCH: usize = 1000;
/// Longest text read from one cell (bytes); longer values are cut by the
/// driver.
const MAX_TEXT: usize = 4096;

/// Settings of an ODBC directory.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OdbcSettings {
    /// `Driver={…};Server=…;…` or `DSN=…`; may be empty when `database`
    /// names a DSN.
    #[serde(default)]
    pub connection_string: String,
    /// A DSN name, used when the connection string is empty.
    #[serde(default)]
    pub database: String,
    /// User, added as `UID=` when set.
    #[serde(default)]
    pub user: String,
    /// Password, added as `PWD=` when set.
    #[serde(default)]
    pub password: Secret,
    /// Table or query.
    pub source: SqlSource,
}

impl fmt::Debug for OdbcSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OdbcSettings")
            .field("connection_string", &redact(&self.connection_string))
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &self.password)
            .field("source", &self.source)
            .finish()
    }
}

/// The connection string with `PWD=`/`Password=` values hidden.
pub fn redact(connection_string: &str) -> String {
    connection_string
        .split(';')
        .map(|part| match part.split_once('=') {
            Some((k, _))
                if k.trim().eq_ignore_ascii_case("pwd")
                    || k.trim().eq_ignore_ascii_case("password") =>
            {
                format!("{k}=***")
            }
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// `{…}`-quotes a connection-string value when it needs it.
fn attribute_value(value: &str) -> String {
    if value.contains([';', '{', '}']) || value.trim() != value {
        format!("{{{}}}", value.replace('}', "}}"))
    } else {
        value.to_owned()
    }
}

impl OdbcSettings {
    fn connection_string(&self) -> Result<String, ConnectorError> {
        let mut cs = self.connection_string.trim().to_owned();
        if cs.is_empty() {
            if self.database.trim().is_empty() {
                return Err(ConnectorError::Format(
                    "Connection string: set a connection string or a DSN in Database".into(),
                ));
            }
            cs = format!("DSN={}", attribute_value(self.database.trim()));
        }
        if !self.user.is_empty() {
            cs = format!(
                "{};UID={}",
                cs.trim_end_matches(';'),
                attribute_value(&self.user)
            );
        }
        if !self.password.is_empty() {
            cs = format!(
                "{};PWD={}",
                cs.trim_end_matches(';'),
                attribute_value(self.password.expose())
            );
        }
        Ok(cs)
    }

    fn statement(&self) -> Result<String, ConnectorError> {
        match &self.source {
            SqlSource::Query(q) if q.trim().is_empty() => {
                Err(ConnectorError::Format("Query: the query is empty".into()))
            }
            SqlSource::Query(q) => Ok(q.trim().trim_end_matches(';').to_owned()),
            SqlSource::Table(t) => {
                let t = t.trim();
                let bracketed =
                    t.starts_with('[') && t.ends_with(']') && !t[1..t.len() - 1].contains(']');
                let plain = !t.is_empty()
                    && t.chars()
                        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '$'));
                if bracketed || plain {
                    Ok(format!("SELECT * FROM {t}"))
                } else {
                    Err(ConnectorError::Format(format!(
                        "Table: {t:?} is not a table name (letters, digits, _, $, or [Sheet$])"
                    )))
                }
            }
        }
    }

    fn what(&self) -> String {
        match &self.source {
            SqlSource::Table(t) => format!("Table {t:?}"),
            SqlSource::Query(_) => "Query".to_owned(),
        }
    }
}

/// An ODBC directory source.
#[derive(Clone, Debug)]
pub struct OdbcConnector {
    settings: OdbcSettings,
}

impl OdbcConnector {
    /// A connector with `settings`.
    pub fn new(settings: OdbcSettings) -> Self {
        Self { settings }
    }

    fn start(&self, fields: Option<&[String]>) -> Result<OdbcStream, ConnectorError> {
        let s = &self.settings;
        let statement = s.statement()?;
        let cs = s.connection_string()?;
        let env = odbc_api::environment().map_err(|e| {
            ConnectorError::Connection(format!("the ODBC driver manager is not usable: {e}"))
        })?;
        let conn = env
            .connect_with_connection_string(&cs, ConnectionOptions::default())
            .map_err(|e| connect_error(s, &e))?;
        let mut cursor = conn
            .into_cursor(&statement, (), None)
            .map_err(|e| statement_error(s, &e.error))?
            .ok_or_else(|| {
                ConnectorError::Format(format!("{}: the statement returned no rows", s.what()))
            })?;
        let names: Vec<String> = cursor
            .column_names()
            .and_then(|names| names.collect::<Result<Vec<_>, _>>())
            .map_err(|e| statement_error(s, &e))?;
        let by_name: HashMap<String, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_lowercase(), i))
            .collect();
        let mut slots = Vec::new();
        for f in fields.unwrap_or_default() {
            match by_name.get(&f.to_lowercase()) {
                Some(&i) => slots.push(i),
                None => {
                    return Err(ConnectorError::MissingField {
                        field: f.clone(),
                        available: format!("{}: {}", s.what(), names.join(", ")),
                    });
                }
            }
        }
        let buffer = TextRowSet::for_cursor(BATCH, &mut cursor, Some(MAX_TEXT))
            .map_err(|e| statement_error(s, &e))?;
        let cursor = cursor
            .bind_buffer(buffer)
            .map_err(|e| statement_error(s, &e))?;
        Ok(OdbcStream {
            cursor: Box::new(cursor),
            what: s.what(),
            names,
            slots,
            rows: Vec::new().into_iter(),
            row: 0,
        })
    }
}

fn connect_error(s: &OdbcSettings, e: &odbc_api::Error) -> ConnectorError {
    let redacted = redact(&s.connection_string().unwrap_or_default());
    let msg = match e {
        odbc_api::Error::Diagnostics { record, .. } => {
            let state = record.state.as_str();
            let text = record.to_string();
            match state {
                "28000" | "28P01" => {
                    format!("the database refused the login: wrong User or Password ({text})")
                }
                // unixODBC answers 01000 "Can't open lib" for an unknown driver.
                _ if state == "IM002" || text.contains("Can't open lib") => {
                    format!("Connection string: no such DSN or driver in {redacted:?} ({text})")
                }
                s if s.starts_with("08") => format!(
                    "cannot reach the database of {redacted:?} (Server/Port in the Connection string): {text}"
                ),
                _ => format!("cannot connect with {redacted:?}: {text}"),
            }
        }
        e => format!("cannot connect with {redacted:?}: {e}"),
    };
    ConnectorError::Connection(msg)
}

fn statement_error(s: &OdbcSettings, e: &odbc_api::Error) -> ConnectorError {
    let text = match e {
        odbc_api::Error::Diagnostics { record, .. } => record.to_string(),
        e => e.to_string(),
    };
    ConnectorError::Format(format!(
        "{}: the database refused the statement: {text}",
        s.what()
    ))
}

/// A block cursor over text buffers.
trait Blocks {
    /// Next block as rows of the wanted columns; `None` at the end.
    fn next_block(
        &mut self,
        slots: &[usize],
    ) -> Result<Option<Vec<Vec<Option<String>>>>, odbc_api::Error>;
}

impl<C: Cursor> Blocks for odbc_api::BlockCursor<C, TextRowSet> {
    fn next_block(
        &mut self,
        slots: &[usize],
    ) -> Result<Option<Vec<Vec<Option<String>>>>, odbc_api::Error> {
        let Some(batch) = self.fetch()? else {
            return Ok(None);
        };
        let mut rows = Vec::with_capacity(batch.num_rows());
        for r in 0..batch.num_rows() {
            rows.push(
                slots
                    .iter()
                    .map(|&c| {
                        batch
                            .at(c, r)
                            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
                    })
                    .collect(),
            );
        }
        Ok(Some(rows))
    }
}

struct OdbcStream {
    cursor: Box<dyn Blocks>,
    what: String,
    names: Vec<String>,
    slots: Vec<usize>,
    rows: std::vec::IntoIter<Vec<Option<String>>>,
    row: u64,
}

impl RecordStream for OdbcStream {
    fn next_record(&mut self, out: &mut SourceRecord) -> Result<ReadOutcome, ConnectorError> {
        loop {
            if let Some(values) = self.rows.next() {
                self.row += 1;
                out.reset(Location::Row(self.row));
                for (i, v) in values.iter().enumerate() {
                    if let Some(v) = v {
                        out.set(i, v);
                    }
                }
                return Ok(ReadOutcome::Record);
            }
            match self.cursor.next_block(&self.slots) {
                Ok(Some(rows)) => self.rows = rows.into_iter(),
                Ok(None) => return Ok(ReadOutcome::End),
                Err(e) => {
                    return Err(ConnectorError::Format(format!(
                        "{}: reading after row {} failed: {e}",
                        self.what, self.row
                    )));
                }
            }
        }
    }
}

impl Connector for OdbcConnector {
    fn test_connection(&mut self) -> Result<ConnectionTest, ConnectorError> {
        let stream = self.start(None)?;
        Ok(ConnectionTest {
            detail: format!(
                "{}, {}",
                redact(&self.settings.connection_string()?),
                self.settings.what()
            ),
            fields: stream.names,
        })
    }

    fn open<'a>(
        &'a mut self,
        fields: &[String],
    ) -> Result<Box<dyn RecordStream + 'a>, ConnectorError> {
        Ok(Box::new(self.start(Some(fields))?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_and_tables_checked() {
        assert_eq!(
            redact("Driver={x};Server=h;PWD=abc;Uid=u"),
            "Driver={x};Server=h;PWD=***;Uid=u"
        );
        let s = OdbcSettings {
            connection_string: "Driver=SQLite3;Database=/tmp/a.db;Password=zz".into(),
            database: String::new(),
            user: "u".into(),
            password: Secret::new("p;w"),
            source: SqlSource::Table("[Contacts$]".into()),
        };
        assert_eq!(
            s.connection_string().unwrap(),
            "Driver=SQLite3;Database=/tmp/a.db;Password=zz;UID=u;PWD={p;w}"
        );
        let shown = format!("{s:?}");
        assert!(!shown.contains("zz") && !shown.contains("p;w"), "{shown}");
        assert_eq!(s.statement().unwrap(), "SELECT * FROM [Contacts$]");
        let bad = OdbcSettings {
            source: SqlSource::Table("a; drop".into()),
            ..s
        };
        assert!(
            bad.statement()
                .unwrap_err()
                .to_string()
                .starts_with("Table:")
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn redacted_strings_never_show_the_password(
            pwd in "[a-zA-Z0-9!@#%]{1,20}",
            key in prop::sample::select(vec!["PWD", "pwd", "Password", " PWD "]),
            rest in "X[A-Za-z]{0,7}=[a-z0-9.]{0,10}",
        ) {
            let cs = format!("Driver={{X}};{rest};{key}={pwd};Uid=u");
            let shown = redact(&cs);
            let parts: Vec<&str> = shown.split(';').collect();
            prop_assert_eq!(parts.len(), 4);
            prop_assert_eq!(parts[1], rest.as_str());
            prop_assert_eq!(parts[2], format!("{key}=***"));
        }
    }
}
