//! Human-readable report of captured CSTA traffic, for `twp csta decode FILE`.
//!
//! Accepts three inputs, told apart by their first bytes:
//! - a captured byte stream: frames back to back (starts with `00 00`);
//!   a bad header is reported with its offset and the report resumes at
//!   the next plausible header;
//! - one XML body (starts with `<`);
//! - a PDU trace text: lines in TWP's record format
//!   ([`TraceLine`]: time, link, peer, direction,
//!   invoke id, body on one line) are read as such, one entry each, so a
//!   malformed body stays within its line; in any other text each XML
//!   document found is decoded, a 4-digit number on the text before it
//!   taken as the invoke id.

use std::fmt::{self, Write as _};

use bytes::BytesMut;

use crate::device::extract_number;
use crate::frame::{FrameDecoder, HEADER_LEN, InvokeId};
use crate::model::Message;
use crate::trace::TraceLine;
use crate::xml::tree::{self, Element};

/// What was found in the input.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub entries: Vec<Entry>,
}

/// One frame, body or trace record.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Byte offset in the input.
    pub offset: usize,
    pub invoke_id: Option<InvokeId>,
    /// Text preceding the XML in a trace line (time, direction...).
    pub context: Option<String>,
    /// The decoded message, or why it could not be decoded.
    pub outcome: Result<Message, String>,
    /// `name: value` lines of the body, device identifiers reduced.
    pub fields: Vec<String>,
}

impl Report {
    pub fn messages(&self) -> usize {
        self.entries.iter().filter(|e| e.outcome.is_ok()).count()
    }

    pub fn errors(&self) -> usize {
        self.entries.len() - self.messages()
    }
}

/// Decodes `input` (stream, body or trace) into a report.
pub fn decode_report(input: &[u8]) -> Report {
    let start = input
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(input.len());
    let entries = if input.len() >= 2 && input[0] == 0 && input[1] == 0 {
        stream_entries(input)
    } else if input[start..].starts_with(b"<") && xml_documents(input).len() <= 1 {
        vec![body_entry(start, None, None, &input[start..])]
    } else {
        trace_entries(input)
    };
    Report { entries }
}

fn body_entry(
    offset: usize,
    invoke_id: Option<InvokeId>,
    context: Option<String>,
    body: &[u8],
) -> Entry {
    let outcome = crate::codec::decode(body).map_err(|e| e.to_string());
    let mut fields = Vec::new();
    if let Ok(doc) = tree::parse(body) {
        for child in &doc.root.children {
            flatten(child, "", &mut fields);
        }
    }
    Entry {
        offset,
        invoke_id,
        context,
        outcome,
        fields,
    }
}

fn flatten(el: &Element, prefix: &str, out: &mut Vec<String>) {
    let path = if prefix.is_empty() {
        el.name.clone()
    } else {
        format!("{prefix}.{}", el.name)
    };
    let text = el.text();
    if !text.is_empty() {
        let number = extract_number(text);
        let is_device = path.contains("evice") || path.ends_with("deviceID");
        if is_device && number != text {
            out.push(format!("{path}: {number}  ({text})"));
        } else {
            let text: String = text.split_whitespace().collect::<Vec<_>>().join("");
            out.push(format!("{path}: {text}"));
        }
    } else if el.children.is_empty() {
        out.push(path.clone());
    }
    for c in &el.children {
        flatten(c, &path, out);
    }
}

fn stream_entries(input: &[u8]) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut pos = 0;
    while pos < input.len() {
        let mut buf = BytesMut::from(&input[pos..]);
        let dec = FrameDecoder::default();
        match dec.check_header(&buf) {
            Ok(Some((id, len))) if len <= buf.len() => {
                let frame = buf.split_to(len);
                entries.push(body_entry(pos, Some(id), None, &frame[HEADER_LEN..]));
                pos += len;
            }
            Ok(_) => {
                entries.push(error_entry(
                    pos,
                    format!(
                        "truncated frame: {} bytes left, header announces more",
                        input.len() - pos
                    ),
                ));
                break;
            }
            Err(e) => {
                let next = resync(input, pos + 1);
                entries.push(error_entry(
                    pos,
                    format!(
                        "{}; skipped {} bytes",
                        e.to_string()
                            .replace("offset 0:", &format!("offset {pos}:")),
                        next - pos
                    ),
                ));
                pos = next;
            }
        }
    }
    entries
}

/// Next offset at or after `from` where a plausible frame starts.
fn resync(input: &[u8], from: usize) -> usize {
    let dec = FrameDecoder::default();
    (from..input.len())
        .find(|&p| {
            matches!(dec.check_header(&input[p..]), Ok(Some((_, len))) if input.get(p + HEADER_LEN) == Some(&b'<') && p + len <= input.len())
        })
        .unwrap_or(input.len())
}

fn error_entry(offset: usize, message: String) -> Entry {
    Entry {
        offset,
        invoke_id: None,
        context: None,
        outcome: Err(message),
        fields: Vec::new(),
    }
}

fn trace_entries(input: &[u8]) -> Vec<Entry> {
    let mut entries = Vec::new();
    // Text between record lines is scanned for XML documents.
    let mut free_start = 0;
    let mut pos = 0;
    while pos < input.len() {
        let line_end = input[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(input.len(), |p| pos + p);
        if let Some(entry) = record_entry(pos, &input[pos..line_end]) {
            free_entries(input, free_start, pos, &mut entries);
            entries.push(entry);
            free_start = (line_end + 1).min(input.len());
        }
        pos = line_end + 1;
    }
    free_entries(input, free_start, input.len(), &mut entries);
    if entries.is_empty() {
        entries.push(error_entry(0, "no CSTA frame or XML document found".into()));
    }
    entries
}

/// A line in the record format, if it is one.
fn record_entry(offset: usize, line: &[u8]) -> Option<Entry> {
    let line = std::str::from_utf8(line).ok()?;
    let record = TraceLine::parse(line).ok()?;
    let prefix = record.prefix();
    let body_offset = offset + (prefix.len() + 1).min(line.len());
    let body = record.body.trim_end();
    Some(match body.strip_prefix('!') {
        Some(reason) => Entry {
            invoke_id: record.invoke_id,
            context: Some(prefix),
            ..error_entry(body_offset, reason.to_owned())
        },
        None => body_entry(body_offset, record.invoke_id, Some(prefix), body.as_bytes()),
    })
}

/// Entries of the XML documents in `input[from..to]`, free text.
fn free_entries(input: &[u8], from: usize, to: usize, entries: &mut Vec<Entry>) {
    let text = &input[from..to];
    let mut prev_end = 0;
    for (start, end) in xml_documents(text) {
        let before = String::from_utf8_lossy(&text[prev_end..start]);
        let context_line = before.lines().rev().find(|l| !l.trim().is_empty());
        let context = context_line.map(|l| l.trim().to_owned());
        let invoke_id = context.as_deref().and_then(invoke_id_in);
        entries.push(body_entry(
            from + start,
            invoke_id,
            context,
            &text[start..end],
        ));
        prev_end = end;
    }
}

/// The last standalone 4-digit token of a trace line prefix.
fn invoke_id_in(context: &str) -> Option<InvokeId> {
    context
        .split(|c: char| !c.is_ascii_digit())
        .rfind(|t| t.len() == 4)
        .and_then(|t| t.parse().ok())
        .and_then(InvokeId::new)
}

/// Byte ranges of the XML documents in `input`: from an optional `<?xml`
/// declaration to the end tag closing the first element.
fn xml_documents(input: &[u8]) -> Vec<(usize, usize)> {
    let mut docs = Vec::new();
    let mut i = 0;
    while let Some(rel) = input[i..].iter().position(|&b| b == b'<') {
        let start = i + rel;
        let after = input.get(start + 1).copied();
        let begins_doc =
            input[start..].starts_with(b"<?xml") || after.is_some_and(|b| b.is_ascii_alphabetic());
        if !begins_doc {
            i = start + 1;
            continue;
        }
        match element_end(input, start) {
            Some(end) => {
                docs.push((start, end));
                i = end;
            }
            None => {
                docs.push((start, input.len()));
                break;
            }
        }
    }
    docs
}

/// End (exclusive) of the first element at or after `start`, skipping
/// declarations, comments and processing instructions.
fn element_end(input: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i < input.len() {
        let rest = &input[i..];
        let rel = rest.iter().position(|&b| b == b'<')?;
        i += rel;
        let rest = &input[i..];
        let skip_to = |pat: &[u8]| {
            rest.windows(pat.len())
                .position(|w| w == pat)
                .map(|p| i + p + pat.len())
        };
        if rest.starts_with(b"<?") {
            i = skip_to(b"?>")?;
            continue;
        }
        if rest.starts_with(b"<!--") {
            i = skip_to(b"-->")?;
            continue;
        }
        if rest.starts_with(b"<![CDATA[") {
            i = skip_to(b"]]>")?;
            continue;
        }
        let close = skip_to(b">")?;
        let tag = &input[i..close];
        if tag.starts_with(b"</") {
            depth = depth.checked_sub(1)?;
        } else if !tag.ends_with(b"/>") {
            depth += 1;
        }
        i = close;
        if depth == 0 {
            return Some(close);
        }
    }
    None
}

fn kind_of(msg: &Message) -> &'static str {
    match msg {
        Message::Request(_) => "request",
        Message::Response(_) => "response",
        Message::Event(e) if matches!(e.kind, crate::model::EventKind::Unknown { .. }) => {
            "event (not modelled, skipped by the client)"
        }
        Message::Event(_) => "event",
        Message::Error(_) => "negative response",
        Message::Unknown { .. } => "unknown message",
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut head = format!("@{}", self.offset);
        if let Some(id) = self.invoke_id {
            let _ = write!(head, "  invoke {id}");
        }
        if let Some(ctx) = &self.context {
            let _ = write!(head, "  [{ctx}]");
        }
        match &self.outcome {
            Ok(msg) => {
                writeln!(f, "{head}  {} {}", kind_of(msg), msg.name())?;
                if let Message::Error(e) = msg {
                    writeln!(f, "    error: {e}")?;
                }
            }
            Err(e) => writeln!(f, "{head}  ERROR {e}")?,
        }
        for line in &self.fields {
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.entries.iter().enumerate() {
            write!(f, "#{} {e}", i + 1)?;
        }
        writeln!(
            f,
            "{} message(s) decoded, {} error(s)",
            self.messages(),
            self.errors()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Frame, frame_to_bytes};

    fn framed(id: u16, body: &str) -> Vec<u8> {
        frame_to_bytes(&Frame::new(
            InvokeId::new(id).unwrap(),
            body.as_bytes().to_vec(),
        ))
        .unwrap()
        .to_vec()
    }

    #[test]
    fn stream_with_garbage_resyncs() {
        let mut input = framed(
            1,
            "<MonitorStartResponse><monitorCrossRefID>5</monitorCrossRefID></MonitorStartResponse>",
        );
        let second_at = input.len();
        input.extend_from_slice(b"\x00\x00\xff\xffjunk");
        input.extend(framed(9999, "<HeldEvent><monitorCrossRefID>5</monitorCrossRefID><heldConnection><callID>1</callID><deviceID>N&lt;100&gt;;noa=nk</deviceID></heldConnection></HeldEvent>"));
        let report = decode_report(&input);
        assert_eq!(report.messages(), 2, "{report}");
        assert_eq!(report.errors(), 1, "{report}");
        let text = report.to_string();
        assert!(text.contains(&format!("@{second_at}  ERROR")), "{text}");
        assert!(text.contains("invoke 9999  event HeldEvent"), "{text}");
        assert!(
            text.contains("heldConnection.deviceID: 100  (N<100>;noa=nk)"),
            "{text}"
        );
    }

    #[test]
    fn single_body() {
        let report =
            decode_report(b"  <SystemStatus><systemStatus>normal</systemStatus></SystemStatus>");
        assert_eq!(report.messages(), 1);
        assert!(report.to_string().contains("request SystemStatus"));
    }

    #[test]
    fn trace_text() {
        let trace = "2024-05-01 10:00:00.123 >> 0042 <MonitorStart><monitorObject><deviceObject>100</deviceObject></monitorObject></MonitorStart>\n\
                     2024-05-01 10:00:00.130 << 0042\n<?xml version=\"1.0\"?>\n<MonitorStartResponse>\n <monitorCrossRefID>9</monitorCrossRefID>\n</MonitorStartResponse>\n\
                     2024-05-01 10:00:01 << 9999 <Bogus";
        let report = decode_report(trace.as_bytes());
        assert_eq!(report.entries.len(), 3, "{report}");
        assert_eq!(report.messages(), 2, "{report}");
        assert_eq!(report.entries[0].invoke_id, InvokeId::new(42));
        assert_eq!(report.entries[1].invoke_id, InvokeId::new(42));
        assert!(report.entries[2].outcome.is_err());
    }

    #[test]
    fn record_lines_keep_malformed_bodies_to_their_line() {
        let trace = "# TWP PDU trace, device=*\n\
            2026-11-30T23:40:00.123Z link=0 192.0.2.10:3211 >> 0042 <MonitorStart><monitorObject><deviceObject>100</deviceObject></monitorObject></MonitorStart>\n\
            2026-11-30T23:40:00.130Z link=0 192.0.2.10:3211 << 0042 <MonitorStartResponse><monitorCrossRefID>9\n\
            2026-11-30T23:40:00.131Z link=0 192.0.2.10:3211 << ---- !malformed frame: bad header\n\
            2026-11-30T23:40:00.140Z trace: 3 record(s) dropped (queue full)\n\
            2026-11-30T23:40:01.000Z link=1 192.0.2.11:3211 << 9999 <HeldEvent><monitorCrossRefID>5</monitorCrossRefID><heldConnection><callID>1</callID><deviceID>100</deviceID></heldConnection></HeldEvent>\n";
        let report = decode_report(trace.as_bytes());
        assert_eq!(report.entries.len(), 4, "{report}");
        assert_eq!(report.messages(), 2, "{report}");
        let e = &report.entries;
        assert_eq!(e[0].invoke_id, InvokeId::new(42));
        assert_eq!(
            e[0].context.as_deref(),
            Some("2026-11-30T23:40:00.123Z link=0 192.0.2.10:3211 >> 0042")
        );
        assert!(e[1].outcome.is_err(), "{report}");
        assert_eq!(e[2].outcome, Err("malformed frame: bad header".to_owned()));
        assert_eq!(e[2].invoke_id, None);
        assert_eq!(e[3].invoke_id, InvokeId::new(9999));
        assert!(matches!(e[3].outcome, Ok(Message::Event(_))), "{report}");
        let body_at = trace.find("<HeldEvent>").unwrap();
        assert_eq!(e[3].offset, body_at);
    }

    #[test]
    fn nothing_found() {
        let report = decode_report(b"hello");
        assert_eq!(report.errors(), 1);
        let report = decode_report(b"");
        assert_eq!(report.errors(), 1);
    }
}
