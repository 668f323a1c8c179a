//! Human-readable report of captured CSTA traffic, for `twp csta decode FILE`.
//!
//! Accepts three inputs, told apart by their first bytes:
//! - a captured byte stream: frames back to back (starts with `00 00`);
//!   a bad header is reported with its offset and the report resumes at
//!   the next plausible header;
//! - one XML body (starts with `<`);
//! - a PDU trace text: any lines, each XML document found in them is
//!   decoded; a 4-digit number on the text before it is taken as the
//!   invoke id.

use std::fmt::{self, Write as _};

use bytes::BytesMut;

use crate::device::extract_number;
use crate::frame::{FrameDecoder, HEADER_LEN, InvokeId};
use crate::model::Message;
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
    let docs = xml_documents(input);
    let mut entries = Vec::with_capacity(docs.len());
    let mut prev_end = 0;
    for (start, end) in docs {
        let before = String::from_utf8_lossy(&input[prev_end..start]);
        let context_line = before.lines().rev().find(|l| !l.trim().is_empty());
        let context = context_line.map(|l| l.trim().to_owned());
        let invoke_id = context.as_deref().and_then(invoke_id_in);
        entries.push(body_entry(start, invoke_id, context, &input[start..end]));
        prev_end = end;
    }
    if entries.is_empty() {
        entries.push(error_entry(0, "no CSTA frame or XML document found".into()));
    }
    entries
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
    fn nothing_found() {
        let report = decode_report(b"hello");
        assert_eq!(report.errors(), 1);
        let report = decode_report(b"");
        assert_eq!(report.errors(), 1);
    }
}
