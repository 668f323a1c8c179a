//! The connector interface: every source (CSV today; LDAP, SQL, ODBC,
//! Excel, Exchange/Graph, CardDAV later) streams records through it, so the
//! engine never holds a whole source in memory and never knows the source.
//!
//! A sync calls [`Connector::open`] with the source fields its mapping
//! needs; the stream fills one reusable [`SourceRecord`] per call, aligned
//! with those fields. A record the connector cannot read is
//! [`ReadOutcome::Skipped`] with its [`Location`] (line, DN…) and the rest is
//! imported; a [`ConnectorError`] stops the sync and the previous data stays.

pub mod csv;
pub mod encoding;

use std::fmt;

use thiserror::Error;

/// Where a record is in its source, for reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A line of a text file (1-based; where the record starts).
    Line(u64),
    /// An LDAP distinguished name.
    Dn(String),
    /// A row number (SQL, spreadsheets).
    Row(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line(n) => write!(f, "line {n}"),
            Self::Dn(dn) => write!(f, "DN {dn}"),
            Self::Row(n) => write!(f, "row {n}"),
        }
    }
}

/// One record, its values aligned with the fields asked of
/// [`Connector::open`]. Reused from record to record (no allocation once
/// warm).
#[derive(Clone, Debug, Default)]
pub struct SourceRecord {
    location: Option<Location>,
    values: Vec<String>,
    present: Vec<bool>,
}

impl SourceRecord {
    /// An empty record for `width` fields.
    pub fn new(width: usize) -> Self {
        Self {
            location: None,
            values: vec![String::new(); width],
            present: vec![false; width],
        }
    }

    /// Starts a new record at `location`: every value absent.
    pub fn reset(&mut self, location: Location) {
        self.location = Some(location);
        self.present.iter_mut().for_each(|p| *p = false);
    }

    /// Sets field `i` (ignored when out of range); blanks are trimmed and an
    /// empty value is absent.
    pub fn set(&mut self, i: usize, value: &str) {
        let value = value.trim();
        if let (Some(slot), Some(p)) = (self.values.get_mut(i), self.present.get_mut(i)) {
            slot.clear();
            slot.push_str(value);
            *p = !value.is_empty();
        }
    }

    /// A mutable buffer for field `i`, cleared and marked present; the
    /// caller writes the value (used by decoders). Call [`Self::finish`] after.
    pub fn buffer(&mut self, i: usize) -> Option<&mut String> {
        let slot = self.values.get_mut(i)?;
        slot.clear();
        if let Some(p) = self.present.get_mut(i) {
            *p = true;
        }
        Some(slot)
    }

    /// Trims the values written through [`Self::buffer`]; empty ones become absent.
    pub fn finish(&mut self) {
        for (v, p) in self.values.iter_mut().zip(self.present.iter_mut()) {
            if *p {
                let t = v.trim();
                if t.len() != v.len() {
                    *v = t.to_owned();
                }
                *p = !v.is_empty();
            }
        }
    }

    /// Value of field `i`, if present.
    pub fn get(&self, i: usize) -> Option<&str> {
        (*self.present.get(i)?).then(|| self.values[i].as_str())
    }

    /// Where the record is.
    pub fn location(&self) -> Option<&Location> {
        self.location.as_ref()
    }
}

/// The result of reading one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// The record was read into the buffer.
    Record,
    /// This record is unreadable and skipped; the stream goes on.
    Skipped {
        /// Where it is.
        location: Location,
        /// Why.
        reason: String,
    },
    /// No more records.
    End,
}

/// A stream of records from an opened source.
pub trait RecordStream {
    /// Reads the next record into `out`.
    fn next_record(&mut self, out: &mut SourceRecord) -> Result<ReadOutcome, ConnectorError>;

    /// Progress as `(done, total)` in the source's unit (bytes for a file,
    /// entries when a count is known), for the rate and ETA; `None` if unknown.
    fn progress(&self) -> Option<(u64, u64)> {
        None
    }
}

/// What a connection test found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionTest {
    /// The source fields available (CSV header, table columns…), if known.
    pub fields: Vec<String>,
    /// A human summary (encoding, delimiter, server…).
    pub detail: String,
}

/// A source of contacts.
pub trait Connector: Send {
    /// Checks that the source can be reached and read, without importing.
    fn test_connection(&mut self) -> Result<ConnectionTest, ConnectorError>;

    /// Opens a stream of records carrying `fields` (the mapping's source
    /// fields, in that order).
    fn open<'a>(
        &'a mut self,
        fields: &[String],
    ) -> Result<Box<dyn RecordStream + 'a>, ConnectorError>;
}

/// A failure that stops a synchronisation.
#[derive(Debug, Error)]
pub enum ConnectorError {
    /// Reading the source failed.
    #[error("cannot read {what}: {source}")]
    Io {
        /// The file or resource.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A mapped field does not exist in the source.
    #[error("field {field:?} is not in the source (available: {available})")]
    MissingField {
        /// The mapped source field.
        field: String,
        /// The fields the source has.
        available: String,
    },
    /// The source is not in the expected format.
    #[error("{0}")]
    Format(String),
    /// Could not connect (servers).
    #[error("connection failed: {0}")]
    Connection(String),
}
