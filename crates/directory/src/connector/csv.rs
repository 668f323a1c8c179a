//! The CSV connector: the first line holds the field names; delimiter and
//! encoding are detected from the first 64 KiB or set. A line with the
//! wrong number of fields is skipped with its line number, the rest imported.

use std::fs::File;
use std::io::{Cursor, Read};
use std::path::PathBuf;
use std::sync::Arc;

use super::encoding::{Encoding, UTF8_BOM, decode_into, detect};
use super::{
    ConnectionTest, Connector, ConnectorError, Location, ReadOutcome, RecordStream, SourceRecord,
};

/// Bytes read to detect the encoding and the delimiter.
const SAMPLE_LEN: usize = 64 * 1024;
/// Delimiters tried by detection, in order of preference on a tie.
const DELIMITERS: [u8; 4] = [b';', b',', b'\t', b'|'];

/// Where the CSV text is.
#[derive(Clone, Debug)]
pub enum CsvSource {
    /// A file on the server.
    File(PathBuf),
    /// Bytes in memory (uploads, tests).
    Bytes(Arc<[u8]>),
}

/// CSV settings; `None` means detect.
#[derive(Clone, Copy, Debug, Default)]
pub struct CsvOptions {
    /// Field delimiter (`;`, `,`, tab, `|`…).
    pub delimiter: Option<u8>,
    /// Text encoding.
    pub encoding: Option<Encoding>,
}

/// A CSV directory source.
#[derive(Clone, Debug)]
pub struct CsvConnector {
    source: CsvSource,
    options: CsvOptions,
}

impl CsvConnector {
    /// A connector over `source`.
    pub fn new(source: CsvSource, options: CsvOptions) -> Self {
        Self { source, options }
    }

    /// Opens the source: sample read, BOM skipped, settings detected.
    fn prepare(&self) -> Result<Prepared, ConnectorError> {
        let what = || match &self.source {
            CsvSource::File(p) => p.display().to_string(),
            CsvSource::Bytes(_) => "CSV data".to_owned(),
        };
        let io = |source| ConnectorError::Io {
            what: what(),
            source,
        };
        let (mut rest, total): (Box<dyn Read + Send>, u64) = match &self.source {
            CsvSource::File(path) => {
                let file = File::open(path).map_err(io)?;
                let len = file.metadata().map_err(io)?.len();
                (Box::new(file), len)
            }
            CsvSource::Bytes(b) => (Box::new(Cursor::new(Arc::clone(b))), b.len() as u64),
        };
        let mut sample = Vec::with_capacity(SAMPLE_LEN);
        (&mut rest)
            .take(SAMPLE_LEN as u64)
            .read_to_end(&mut sample)
            .map_err(io)?;
        let encoding = self.options.encoding.unwrap_or_else(|| detect(&sample));
        let skip = if sample.starts_with(UTF8_BOM) { 3 } else { 0 };
        sample.drain(..skip);
        let delimiter = self
            .options
            .delimiter
            .unwrap_or_else(|| detect_delimiter(&sample));
        let reader = Cursor::new(sample).chain(rest);
        let mut csv = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .buffer_capacity(64 * 1024)
            .from_reader(Box::new(reader) as Box<dyn Read + Send>);
        let mut header = ::csv::ByteRecord::new();
        let found = csv
            .read_byte_record(&mut header)
            .map_err(|e| ConnectorError::Format(format!("{}: {e}", what())))?;
        if !found {
            return Err(ConnectorError::Format(format!(
                "{}: empty file, the first line must hold the field names",
                what()
            )));
        }
        let mut names = Vec::with_capacity(header.len());
        for (i, raw) in header.iter().enumerate() {
            let mut name = String::new();
            decode_into(encoding, raw, &mut name).map_err(|_| {
                ConnectorError::Format(format!("line 1: field name {} is not valid UTF-8", i + 1))
            })?;
            names.push(name.trim().to_owned());
        }
        Ok(Prepared {
            csv,
            names,
            encoding,
            delimiter,
            total: total.saturating_sub(skip as u64),
        })
    }
}

struct Prepared {
    csv: ::csv::Reader<Box<dyn Read + Send>>,
    names: Vec<String>,
    encoding: Encoding,
    delimiter: u8,
    total: u64,
}

/// The delimiter that occurs most in the first line, outside quotes
/// (`,` when none occurs).
fn detect_delimiter(sample: &[u8]) -> u8 {
    let mut counts = [0usize; DELIMITERS.len()];
    let mut quoted = false;
    for &b in sample {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = DELIMITERS.iter().position(|d| *d == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let mut best = (0usize, b',');
    for (i, &n) in counts.iter().enumerate() {
        if n > best.0 {
            best = (n, DELIMITERS[i]);
        }
    }
    best.1
}

impl Connector for CsvConnector {
    fn test_connection(&mut self) -> Result<ConnectionTest, ConnectorError> {
        let p = self.prepare()?;
        let delimiter = match p.delimiter {
            b'\t' => "tab".to_owned(),
            d => format!("{:?}", char::from(d)),
        };
        Ok(ConnectionTest {
            detail: format!(
                "{} fields, delimiter {delimiter}, encoding {:?}",
                p.names.len(),
                p.encoding
            ),
            fields: p.names,
        })
    }

    fn open<'a>(
        &'a mut self,
        fields: &[String],
    ) -> Result<Box<dyn RecordStream + 'a>, ConnectorError> {
        let p = self.prepare()?;
        let mut columns = Vec::with_capacity(fields.len());
        for field in fields {
            let col = p
                .names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(field))
                .ok_or_else(|| ConnectorError::MissingField {
                    field: field.clone(),
                    available: p.names.join(", "),
                })?;
            columns.push(col);
        }
        Ok(Box::new(CsvStream {
            width: p.names.len(),
            names: p.names,
            csv: p.csv,
            encoding: p.encoding,
            columns,
            total: p.total,
            row: ::csv::ByteRecord::new(),
        }))
    }
}

struct CsvStream {
    csv: ::csv::Reader<Box<dyn Read + Send>>,
    names: Vec<String>,
    width: usize,
    encoding: Encoding,
    /// For each requested field, its column.
    columns: Vec<usize>,
    total: u64,
    row: ::csv::ByteRecord,
}

impl RecordStream for CsvStream {
    fn next_record(&mut self, out: &mut SourceRecord) -> Result<ReadOutcome, ConnectorError> {
        let found = self.csv.read_byte_record(&mut self.row).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            ConnectorError::Format(format!("line {line}: {e}"))
        })?;
        if !found {
            return Ok(ReadOutcome::End);
        }
        let line = self.row.position().map_or(0, |p| p.line());
        let location = Location::Line(line);
        if self.row.len() != self.width {
            return Ok(ReadOutcome::Skipped {
                location,
                reason: format!("expected {} fields, found {}", self.width, self.row.len()),
            });
        }
        out.reset(location.clone());
        for (i, &col) in self.columns.iter().enumerate() {
            let raw = self.row.get(col).unwrap_or_default();
            if raw.is_empty() {
                continue;
            }
            if let Some(buf) = out.buffer(i) {
                if decode_into(self.encoding, raw, buf).is_err() {
                    return Ok(ReadOutcome::Skipped {
                        location,
                        reason: format!("field {:?} is not valid UTF-8", self.names[col]),
                    });
                }
            }
        }
        out.finish();
        Ok(ReadOutcome::Record)
    }

    fn progress(&self) -> Option<(u64, u64)> {
        Some((self.csv.position().byte(), self.total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Rows = Vec<Result<Vec<Option<String>>, (Location, String)>>;

    fn connector(bytes: &[u8]) -> CsvConnector {
        CsvConnector::new(CsvSource::Bytes(Arc::from(bytes)), CsvOptions::default())
    }

    fn read_all(c: &mut CsvConnector, fields: &[&str]) -> Rows {
        let fields: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
        let mut stream = c.open(&fields).unwrap();
        let mut rec = SourceRecord::new(fields.len());
        let mut out = Vec::new();
        loop {
            match stream.next_record(&mut rec).unwrap() {
                ReadOutcome::Record => out.push(Ok((0..fields.len())
                    .map(|i| rec.get(i).map(str::to_owned))
                    .collect())),
                ReadOutcome::Skipped { location, reason } => out.push(Err((location, reason))),
                ReadOutcome::End => return out,
            }
        }
    }

    #[test]
    fn detects_semicolon_bom_and_skips_bad_lines() {
        let mut c =
            connector("\u{FEFF}id;Nom;Tél\n1;Dupont;01 23\n2;Martin\n3;\"Lé;a\";\n".as_bytes());
        let t = c.test_connection().unwrap();
        assert_eq!(t.fields, vec!["id", "Nom", "Tél"]);
        assert!(
            t.detail.contains("';'") && t.detail.contains("Utf8"),
            "{}",
            t.detail
        );
        let rows = read_all(&mut c, &["tél", "id", "nom"]);
        assert_eq!(
            rows[0],
            Ok(vec![
                Some("01 23".into()),
                Some("1".into()),
                Some("Dupont".into())
            ])
        );
        assert_eq!(
            rows[1],
            Err((Location::Line(3), "expected 3 fields, found 2".into()))
        );
        assert_eq!(
            rows[2],
            Ok(vec![None, Some("3".into()), Some("Lé;a".into())])
        );
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn windows_1252_and_tab() {
        let mut c = connector(b"id\tnom\n1\t\xC9lo\xEFse \x80\n");
        let rows = read_all(&mut c, &["nom"]);
        assert_eq!(rows, vec![Ok(vec![Some("Éloïse €".into())])]);
    }

    #[test]
    fn forced_settings_and_quoted_newlines() {
        let mut c = CsvConnector::new(
            CsvSource::Bytes(Arc::from(&b"a|b\n\"x\ny\"|2\nz|3\n"[..])),
            CsvOptions {
                delimiter: Some(b'|'),
                encoding: Some(Encoding::Latin1),
            },
        );
        let rows = read_all(&mut c, &["a"]);
        assert_eq!(
            rows,
            vec![Ok(vec![Some("x\ny".into())]), Ok(vec![Some("z".into())])]
        );
    }

    #[test]
    fn missing_column_and_empty_file_are_errors() {
        let mut c = connector(b"id,name\n1,a\n");
        let err = c.open(&["mail".to_owned()]).err().unwrap();
        assert!(err.to_string().contains("\"mail\"") && err.to_string().contains("id, name"));
        let mut empty = connector(b"");
        assert!(empty.test_connection().is_err());
        let mut missing = CsvConnector::new(
            CsvSource::File("/nonexistent/x.csv".into()),
            CsvOptions::default(),
        );
        assert!(matches!(
            missing.test_connection(),
            Err(ConnectorError::Io { .. })
        ));
    }

    #[test]
    fn invalid_utf8_in_a_utf8_file_skips_the_line() {
        let mut c = CsvConnector::new(
            CsvSource::Bytes(Arc::from(&b"id,n\n1,\xFF\n2,b\n"[..])),
            CsvOptions {
                delimiter: None,
                encoding: Some(Encoding::Utf8),
            },
        );
        let rows = read_all(&mut c, &["id", "n"]);
        assert!(matches!(&rows[0], Err((Location::Line(2), r)) if r.contains("\"n\"")));
        assert_eq!(rows[1], Ok(vec![Some("2".into()), Some("b".into())]));
    }
}
