//! PDU traces (guide 10.6): the tap a [`Link`](crate::Link) calls for
//! every PDU it sends or receives, and the one-line record format of trace
//! files.
//!
//! A [`Tap`] is a switch shared by every link of an engine (each link sees
//! it under its own label). While nothing is attached, a link pays one
//! atomic load per PDU. While a [`PduSink`] is attached, the link calls it
//! synchronously from its own task, so a sink must never block: the
//! engine's sink filters, copies and `try_send`s to a bounded channel.
//!
//! A record line is
//! `2026-11-30T23:40:00.123Z link=0 192.0.2.10:3211 >> 0042 <MonitorStart…>`:
//! UTC time with milliseconds, the link label, the peer address, the
//! direction (`>>` sent, `<<` received), the invoke id (`----` when the
//! frame had none) and the body on the rest of the line. Bodies are made
//! single-line without changing their XML meaning ([`one_line`]); a body
//! that is not XML (a frame that could not even be cut) starts with `!`.
//! Any other line (headers, dropped-record notes) is free text that
//! readers skip. [`TraceLine::parse`] reads a record back; `twp csta
//! decode` uses it.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::frame::InvokeId;
use crate::model::Message;

/// Which way a PDU went, seen from TWP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Written to the switch (`>>`).
    Sent,
    /// Read from the switch (`<<`).
    Received,
}

impl Direction {
    pub fn marker(self) -> &'static str {
        match self {
            Direction::Sent => ">>",
            Direction::Received => "<<",
        }
    }
}

/// One PDU as the link sees it; borrowed, the sink copies what it keeps.
#[derive(Debug, Clone, Copy)]
pub struct Pdu<'a> {
    pub time: SystemTime,
    /// The label the link got from its [`Tap`] (the engine's link index).
    pub link: &'a str,
    /// The switch's address.
    pub peer: &'a str,
    pub direction: Direction,
    /// `None` for a frame whose header could not be read.
    pub invoke_id: Option<InvokeId>,
    /// The XML body as on the wire (empty when the frame could not be cut).
    pub body: &'a [u8],
    /// The decoded message; `None` when the body or frame is malformed.
    pub message: Option<&'a Message>,
    /// Why the body or frame could not be decoded.
    pub error: Option<&'a str>,
}

/// Receives every PDU of the links sharing a [`Tap`]. Called from the
/// links' own tasks: must return at once (never block, never await).
pub trait PduSink: Send + Sync {
    fn pdu(&self, pdu: &Pdu<'_>);
}

struct Slot {
    on: AtomicBool,
    sink: RwLock<Option<(u64, Arc<dyn PduSink>)>>,
    next_id: AtomicU64,
}

/// A switch that links call for each PDU; cheap to clone. Clones share the
/// attached sink; [`Tap::labelled`] gives a clone under another label.
#[derive(Clone)]
pub struct Tap {
    slot: Arc<Slot>,
    label: Arc<str>,
}

impl Default for Tap {
    fn default() -> Self {
        Tap::new()
    }
}

impl fmt::Debug for Tap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tap")
            .field("label", &self.label)
            .field("attached", &self.is_attached())
            .finish()
    }
}

impl Tap {
    pub fn new() -> Tap {
        Tap {
            slot: Arc::new(Slot {
                on: AtomicBool::new(false),
                sink: RwLock::new(None),
                next_id: AtomicU64::new(1),
            }),
            label: Arc::from("0"),
        }
    }

    /// The same switch, seen by a link as `label` (no whitespace: it is a
    /// field of the record line; whitespace is replaced by `_`).
    pub fn labelled(&self, label: &str) -> Tap {
        let label: String = label
            .chars()
            .map(|c| if c.is_whitespace() { '_' } else { c })
            .collect();
        Tap {
            slot: self.slot.clone(),
            label: Arc::from(if label.is_empty() { "-" } else { &label }),
        }
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// Attaches a sink, replacing any other; returns its attachment id for
    /// [`Tap::detach`].
    pub fn attach(&self, sink: Arc<dyn PduSink>) -> u64 {
        let id = self.slot.next_id.fetch_add(1, Ordering::Relaxed);
        let mut guard = self.slot.sink.write().unwrap_or_else(|p| p.into_inner());
        *guard = Some((id, sink));
        self.slot.on.store(true, Ordering::Release);
        id
    }

    /// Detaches the sink if it is still attachment `id`; returns whether
    /// it was. A sink replaced meanwhile stays.
    pub fn detach(&self, id: u64) -> bool {
        let mut guard = self.slot.sink.write().unwrap_or_else(|p| p.into_inner());
        if guard.as_ref().is_some_and(|(current, _)| *current == id) {
            *guard = None;
            self.slot.on.store(false, Ordering::Release);
            true
        } else {
            false
        }
    }

    pub fn is_attached(&self) -> bool {
        self.slot.on.load(Ordering::Acquire)
    }

    /// Hands a PDU to the sink, if one is attached. `make` runs only then.
    #[inline]
    pub(crate) fn emit<'a>(&'a self, make: impl FnOnce(&'a str) -> Pdu<'a>) {
        if !self.slot.on.load(Ordering::Relaxed) {
            return;
        }
        let guard = self.slot.sink.read().unwrap_or_else(|p| p.into_inner());
        if let Some((_, sink)) = guard.as_ref() {
            sink.pdu(&make(&self.label));
        }
    }
}

/// Makes an XML body a single line with the same XML meaning: a line break
/// inside markup (between attributes) becomes a space, one in text becomes
/// a character reference (`&#10;`, `&#13;`). Invalid UTF-8 is replaced.
pub fn one_line(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if !text.contains(['\n', '\r']) {
        return text.into_owned();
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_markup = false;
    for c in text.chars() {
        match c {
            '<' => in_markup = true,
            '>' => in_markup = false,
            _ => {}
        }
        match c {
            '\n' | '\r' if in_markup => out.push(' '),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// One record line of a trace file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceLine {
    pub time: SystemTime,
    pub link: String,
    pub peer: String,
    pub direction: Direction,
    pub invoke_id: Option<InvokeId>,
    /// Single-line body: XML, or `!` and a reason for a frame that could
    /// not be cut.
    pub body: String,
}

/// Why a line is not a record line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceLineError {
    #[error("missing field {0}")]
    Missing(&'static str),
    #[error("bad time {0:?} (expected YYYY-MM-DDTHH:MM:SS.mmmZ)")]
    Time(String),
    #[error("bad link field {0:?} (expected link=LABEL)")]
    Link(String),
    #[error("bad direction {0:?} (expected >> or <<)")]
    Direction(String),
    #[error("bad invoke id {0:?} (expected 4 digits or ----)")]
    InvokeId(String),
    #[error("line break in the body")]
    LineBreak,
}

impl TraceLine {
    /// Builds the record of a PDU (the body made single-line).
    pub fn of(pdu: &Pdu<'_>) -> TraceLine {
        let body = if pdu.body.is_empty() {
            format!("!{}", pdu.error.unwrap_or("empty frame")).replace(['\n', '\r'], " ")
        } else {
            one_line(pdu.body)
        };
        TraceLine {
            time: pdu.time,
            link: field(pdu.link),
            peer: field(pdu.peer),
            direction: pdu.direction,
            invoke_id: pdu.invoke_id,
            body,
        }
    }

    /// The text before the body (`time link=… peer dir invoke`).
    pub fn prefix(&self) -> String {
        let invoke = match self.invoke_id {
            Some(id) => id.to_string(),
            None => "----".to_owned(),
        };
        format!(
            "{} link={} {} {} {invoke}",
            Rfc3339(self.time),
            self.link,
            self.peer,
            self.direction.marker()
        )
    }

    /// Reads a record line (without its line break).
    pub fn parse(line: &str) -> Result<TraceLine, TraceLineError> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut rest = line;
        let mut next = |name: &'static str| -> Result<&str, TraceLineError> {
            let (f, r) = rest.split_once(' ').unwrap_or((rest, ""));
            if f.is_empty() {
                return Err(TraceLineError::Missing(name));
            }
            rest = r;
            Ok(f)
        };
        let time_text = next("time")?;
        let time =
            parse_rfc3339(time_text).ok_or_else(|| TraceLineError::Time(time_text.into()))?;
        let link_text = next("link")?;
        let link = link_text
            .strip_prefix("link=")
            .filter(|l| !l.is_empty())
            .ok_or_else(|| TraceLineError::Link(link_text.into()))?
            .to_owned();
        let peer = next("peer")?.to_owned();
        let direction = match next("direction")? {
            ">>" => Direction::Sent,
            "<<" => Direction::Received,
            other => return Err(TraceLineError::Direction(other.into())),
        };
        let invoke_text = next("invoke id")?;
        let invoke_id = if invoke_text == "----" {
            None
        } else {
            let ok = invoke_text.len() == 4 && invoke_text.bytes().all(|b| b.is_ascii_digit());
            Some(
                invoke_text
                    .parse()
                    .ok()
                    .filter(|_| ok)
                    .and_then(InvokeId::new)
                    .ok_or_else(|| TraceLineError::InvokeId(invoke_text.into()))?,
            )
        };
        if rest.contains(['\n', '\r']) {
            return Err(TraceLineError::LineBreak);
        }
        Ok(TraceLine {
            time,
            link,
            peer,
            direction,
            invoke_id,
            body: rest.to_owned(),
        })
    }
}

impl fmt::Display for TraceLine {
    /// The record line, without its line break.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.prefix(), self.body)
    }
}

/// A field of the line: no whitespace, never empty.
fn field(s: &str) -> String {
    if s.is_empty() {
        return "-".to_owned();
    }
    s.chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect()
}

/// Formats a time as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC; times before 1970
/// print as the epoch).
pub struct Rfc3339(pub SystemTime);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let since = self.0.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since.as_secs();
        let (y, m, d) = civil_from_days((secs / 86_400) as i64);
        let day_secs = secs % 86_400;
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
            day_secs / 3600,
            day_secs / 60 % 60,
            day_secs % 60,
            since.subsec_millis()
        )
    }
}

/// Reads what [`Rfc3339`] writes (the milliseconds are required).
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se, ms) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    if y < 1970 || !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    if h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let days = days_from_civil(y as i64, mo as u32, d as u32);
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + mi * 60 + se;
    Some(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(ms))
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Days since 1970-01-01 ⇄ proleptic Gregorian date, counting in 400-year
// eras that start on March 1st (so the leap day ends a year).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn known_dates() {
        assert_eq!(Rfc3339(at(0)).to_string(), "1970-01-01T00:00:00.000Z");
        // 2026-11-30T23:40:00.123Z
        let t = at(1_796_082_000_123);
        assert_eq!(Rfc3339(t).to_string(), "2026-11-30T23:40:00.123Z");
        assert_eq!(
            parse_rfc3339("2024-02-29T12:00:00.000Z"),
            Some(at(1_709_208_000_000))
        );
        assert_eq!(parse_rfc3339("2023-02-29T12:00:00.000Z"), None);
        assert_eq!(parse_rfc3339("2023-02-28T24:00:00.000Z"), None);
        assert_eq!(parse_rfc3339("2023-02-28T12:00:00Z"), None);
    }

    #[test]
    fn example_line() {
        let line = "2026-11-30T23:40:00.123Z link=0 192.0.2.10:3211 >> 0042 <MonitorStart><monitorObject><deviceObject>100</deviceObject></monitorObject></MonitorStart>";
        let r = TraceLine::parse(line).unwrap();
        assert_eq!(r.link, "0");
        assert_eq!(r.peer, "192.0.2.10:3211");
        assert_eq!(r.direction, Direction::Sent);
        assert_eq!(r.invoke_id, InvokeId::new(42));
        assert!(r.body.starts_with("<MonitorStart>"));
        assert_eq!(r.to_string(), line);
        assert_eq!(
            TraceLine::parse("2026-11-30T23:40:00.123Z link=0 x <> 0042 <a/>"),
            Err(TraceLineError::Direction("<>".into()))
        );
        assert_eq!(
            TraceLine::parse("2026-11-30T23:40:00.123Z link=0 x << 42 <a/>"),
            Err(TraceLineError::InvokeId("42".into()))
        );
        assert_eq!(
            TraceLine::parse("# TWP PDU trace"),
            Err(TraceLineError::Time("#".into()))
        );
    }

    #[test]
    fn multi_line_xml_keeps_its_meaning() {
        let body = "<?xml version=\"1.0\"?>\r\n<MonitorStartResponse\n  xmlns=\"http://www.ecma-international.org/standards/ecma-323/csta/ed5\">\n <monitorCrossRefID>9\n</monitorCrossRefID>\n</MonitorStartResponse>\n";
        let flat = one_line(body.as_bytes());
        assert!(!flat.contains(['\n', '\r']), "{flat}");
        assert_eq!(
            crate::decode(flat.as_bytes()).unwrap(),
            crate::decode(body.as_bytes()).unwrap()
        );
    }

    fn line_strategy() -> impl Strategy<Value = TraceLine> {
        (
            0u64..8_000_000_000_000,
            "[0-9A-Za-z._:-]{1,12}",
            "[0-9A-Za-z.:\\[\\]-]{1,24}",
            any::<bool>(),
            proptest::option::of(0u16..=9999),
            "[^\r\n]{0,80}",
        )
            .prop_map(|(ms, link, peer, sent, id, body)| TraceLine {
                time: at(ms),
                link,
                peer,
                direction: if sent {
                    Direction::Sent
                } else {
                    Direction::Received
                },
                invoke_id: id.and_then(InvokeId::new),
                body,
            })
    }

    proptest! {
        #[test]
        fn lines_round_trip(line in line_strategy()) {
            let text = line.to_string();
            prop_assert!(!text.contains('\n'));
            prop_assert_eq!(TraceLine::parse(&text).unwrap(), line);
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,120}") {
            let _ = TraceLine::parse(&text);
        }

        #[test]
        fn one_line_is_one_line_and_identity_without_breaks(body in "\\PC{0,60}(\r?\n\\PC{0,20}){0,3}") {
            let flat = one_line(body.as_bytes());
            prop_assert!(!flat.contains(['\n', '\r']));
            if !body.contains(['\n', '\r']) {
                prop_assert_eq!(flat, body);
            }
        }

        #[test]
        fn records_of_pdus_parse_back(
            body in proptest::collection::vec(any::<u8>(), 0..80),
            link in "\\PC{0,8}",
            peer in "\\PC{0,8}",
        ) {
            let pdu = Pdu {
                time: at(1_000),
                link: &link,
                peer: &peer,
                direction: Direction::Received,
                invoke_id: InvokeId::new(9999),
                body: &body,
                message: None,
                error: Some("bad\nthing"),
            };
            let line = TraceLine::of(&pdu);
            let back = TraceLine::parse(&line.to_string()).unwrap();
            prop_assert_eq!(back, line);
        }

        #[test]
        fn dates_round_trip(ms in 0u64..253_402_300_800_000) {
            let text = Rfc3339(at(ms)).to_string();
            prop_assert_eq!(parse_rfc3339(&text), Some(at(ms)));
        }
    }
}
