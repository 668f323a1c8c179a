//! Excel workbooks (`.xlsx`, guide 8.4.3's "Excel directory"): a sheet is
//! the table, named as the guide writes it (`[Contacts$]`) or plainly
//! (`Contacts`); the first row holds the field names.
//!
//! Cells are streamed from the sheet's XML with calamine's cell reader
//! (the shared-strings table is in memory, the rows are not). Numbers are
//! written without a trailing `.0` when whole; dates as calamine shows
//! them; error cells (`#N/A`…) are missing values.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use calamine::{DataRef, Reader, Xlsx, XlsxError};
use serde::Deserialize;
use twp_directory::{
    ConnectionTest, Connector, ConnectorError, Location, ReadOutcome, RecordStream, SourceRecord,
};

type Workbook = Xlsx<BufReader<File>>;

/// Settings of an Excel directory.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XlsxSettings {
    /// The workbook file on the server.
    pub path: PathBuf,
    /// The sheet ("Table"): `[Contacts$]` or `Contacts`; the first sheet
    /// when absent.
    #[serde(default)]
    pub sheet: Option<String>,
}

/// An Excel workbook source.
pub struct XlsxConnector {
    settings: XlsxSettings,
    workbook: Option<Workbook>,
}

impl XlsxConnector {
    /// A connector with `settings`.
    pub fn new(settings: XlsxSettings) -> Self {
        Self {
            settings,
            workbook: None,
        }
    }

    fn what(&self) -> String {
        self.settings.path.display().to_string()
    }

    /// Opens the workbook and finds the sheet.
    fn prepare(&mut self) -> Result<String, ConnectorError> {
        let what = self.what();
        let workbook: Workbook =
            calamine::open_workbook(&self.settings.path).map_err(|e| match e {
                XlsxError::Io(source) => ConnectorError::Io { what, source },
                e => ConnectorError::Format(format!(
                    "workbook {what} is not a readable .xlsx file: {e}"
                )),
            })?;
        let names = workbook.sheet_names();
        let sheet = match self.settings.sheet.as_deref().map(sheet_name) {
            Some(name) => names
                .iter()
                .find(|n| n.as_str() == name)
                .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(name)))
                .cloned()
                .ok_or_else(|| {
                    ConnectorError::Format(format!(
                        "Table: sheet {name:?} is not in workbook {} (sheets: {})",
                        self.what(),
                        names.join(", ")
                    ))
                })?,
            None => names.first().cloned().ok_or_else(|| {
                ConnectorError::Format(format!("workbook {} has no sheet", self.what()))
            })?,
        };
        self.workbook = Some(workbook);
        Ok(sheet)
    }
}

/// `[Contacts$]` → `Contacts` (the guide's ODBC spelling of a sheet).
pub fn sheet_name(table: &str) -> &str {
    let t = table.trim();
    let t = t
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(t);
    t.strip_suffix('$').unwrap_or(t)
}

impl Connector for XlsxConnector {
    fn test_connection(&mut self) -> Result<ConnectionTest, ConnectorError> {
        let fields = self.open_sheet(&[])?.header().to_vec();
        Ok(ConnectionTest {
            detail: format!("workbook {}, {} fields", self.what(), fields.len()),
            fields,
        })
    }

    fn open<'a>(
        &'a mut self,
        fields: &[String],
    ) -> Result<Box<dyn RecordStream + 'a>, ConnectorError> {
        Ok(Box::new(self.open_sheet(fields)?))
    }
}

impl XlsxConnector {
    fn open_sheet(&mut self, fields: &[String]) -> Result<SheetStream<'_>, ConnectorError> {
        let sheet = self.prepare()?;
        let what = format!("{} sheet {sheet}", self.what());
        let Some(workbook) = self.workbook.as_mut() else {
            return Err(ConnectorError::Format(format!("workbook {what} not open")));
        };
        let mut reader = workbook
            .worksheet_cells_reader(&sheet)
            .map_err(|e| ConnectorError::Format(format!("{what}: {e}")))?;
        // calamine does not export the reader's type: keep it in a closure.
        let cells: NextCell<'_> = Box::new(move || {
            Ok(reader
                .next_cell()?
                .map(|c| (c.get_position(), text(c.get_value()))))
        });
        let mut stream = SheetStream {
            cells,
            what,
            pending: None,
            header: Vec::new(),
            columns: HashMap::new(),
            row: Vec::new(),
            done: false,
        };
        let Some((first, _)) = stream.next_row()? else {
            return Err(ConnectorError::Format(format!(
                "{}: the sheet is empty; its first row must hold the field names",
                stream.what
            )));
        };
        let width = stream.row.iter().map(|(c, _)| *c + 1).max().unwrap_or(0) as usize;
        let mut header = vec![String::new(); width];
        for (c, v) in stream.row.drain(..) {
            header[c as usize] = v;
        }
        let mut by_name: HashMap<String, u32> = HashMap::new();
        for (c, name) in header.iter().enumerate() {
            if !name.is_empty() {
                by_name.entry(name.to_lowercase()).or_insert(c as u32);
            }
        }
        for (i, f) in fields.iter().enumerate() {
            let Some(&c) = by_name.get(&f.to_lowercase()) else {
                return Err(ConnectorError::MissingField {
                    field: f.clone(),
                    available: format!("{} row {}: {}", stream.what, first + 1, header.join(", ")),
                });
            };
            stream.columns.entry(c).or_default().push(i);
        }
        stream.header = header;
        Ok(stream)
    }
}

/// The next used cell of a sheet: position and text.
type NextCell<'a> =
    Box<dyn FnMut() -> Result<Option<((u32, u32), Option<String>)>, XlsxError> + 'a>;

/// Rows of one sheet, assembled from the cell stream.
struct SheetStream<'a> {
    cells: NextCell<'a>,
    what: String,
    /// The first cell of the next row, read ahead.
    pending: Option<(u32, u32, String)>,
    header: Vec<String>,
    /// Column → indexes of the asked fields it feeds.
    columns: HashMap<u32, Vec<usize>>,
    row: Vec<(u32, String)>,
    done: bool,
}

impl SheetStream<'_> {
    fn header(&self) -> &[String] {
        &self.header
    }

    /// Reads the next row with a value into `self.row`; its 0-based row
    /// number, or `None` at the end.
    fn next_row(&mut self) -> Result<Option<(u32, ())>, ConnectorError> {
        self.row.clear();
        let mut current = None;
        if let Some((r, c, v)) = self.pending.take() {
            current = Some(r);
            self.row.push((c, v));
        }
        while !self.done {
            let cell = (self.cells)().map_err(|e| {
                ConnectorError::Format(format!(
                    "{}: broken sheet near row {}: {e}",
                    self.what,
                    current.map_or(1, |r| r + 1)
                ))
            })?;
            let Some(cell) = cell else {
                self.done = true;
                break;
            };
            let ((r, c), value) = cell;
            let Some(text) = value else {
                continue;
            };
            match current {
                None => current = Some(r),
                Some(cur) if cur != r => {
                    self.pending = Some((r, c, text));
                    break;
                }
                Some(_) => {}
            }
            self.row.push((c, text));
        }
        Ok(current.map(|r| (r, ())))
    }
}

impl RecordStream for SheetStream<'_> {
    fn next_record(&mut self, out: &mut SourceRecord) -> Result<ReadOutcome, ConnectorError> {
        let Some((r, ())) = self.next_row()? else {
            return Ok(ReadOutcome::End);
        };
        out.reset(Location::Row(u64::from(r) + 1));
        for (c, v) in &self.row {
            if let Some(at) = self.columns.get(c) {
                for &i in at {
                    out.set(i, v);
                }
            }
        }
        Ok(ReadOutcome::Record)
    }
}

/// A cell as text; `None` for empty and error cells.
fn text(value: &DataRef<'_>) -> Option<String> {
    let s = match value {
        DataRef::Empty | DataRef::Error(_) => return None,
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        DataRef::DateTime(d) => d.to_string(),
    };
    (!s.trim().is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_as_the_guide_writes_them() {
        assert_eq!(sheet_name("[Contacts$]"), "Contacts");
        assert_eq!(sheet_name(" Contacts "), "Contacts");
        assert_eq!(sheet_name("Contacts$"), "Contacts");
    }

    #[test]
    fn cells_as_text() {
        assert_eq!(text(&DataRef::Float(33.0)).as_deref(), Some("33"));
        assert_eq!(text(&DataRef::Float(2.5)).as_deref(), Some("2.5"));
        assert_eq!(text(&DataRef::Int(-4)).as_deref(), Some("-4"));
        assert_eq!(text(&DataRef::Empty), None);
        assert_eq!(text(&DataRef::SharedString("x")).as_deref(), Some("x"));
    }
}
