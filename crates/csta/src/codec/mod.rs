//! The message codec: XML body bytes to [`Message`] and back.
//!
//! Decoding accepts the ECMA-323 namespaces of editions 2 to 6 (under both
//! `www.ecma.ch` and `www.ecma-international.org`), the ECMA-354
//! application-session namespace, and no namespace at all; elements may be
//! prefixed or not; vendor `privateData` is skipped. Encoding writes
//! unprefixed elements in the namespace of the chosen [`Edition`].

mod event;
mod request;
mod response;

use crate::model::{CstaError, ErrorCategory, Event, Message, Request, Response};
use crate::xml::error::{FieldError, XmlError};
use crate::xml::read::{FieldResult, Token};
use crate::xml::tree::{self, Element};
use crate::xml::write::XmlWriter;

/// ECMA-354 application session services namespace.
pub const APPL_SESSION_NAMESPACE: &str =
    "http://www.ecma-international.org/standards/ecma-354/appl_session";

/// An edition of ECMA-323, for the namespace written on encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Edition {
    Ed2,
    Ed3,
    #[default]
    Ed4,
    Ed5,
    Ed6,
}

impl Edition {
    pub fn namespace(self) -> &'static str {
        match self {
            Edition::Ed2 => "http://www.ecma.ch/standards/ecma-323/csta/ed2",
            Edition::Ed3 => "http://www.ecma-international.org/standards/ecma-323/csta/ed3",
            Edition::Ed4 => "http://www.ecma-international.org/standards/ecma-323/csta/ed4",
            Edition::Ed5 => "http://www.ecma-international.org/standards/ecma-323/csta/ed5",
            Edition::Ed6 => "http://www.ecma-international.org/standards/ecma-323/csta/ed6",
        }
    }

    /// The edition a namespace URI designates, if it is an ECMA-323 one.
    pub fn from_namespace(ns: &str) -> Option<Edition> {
        let ns = ns.trim().trim_end_matches('/');
        let rest = ns
            .strip_prefix("http://www.ecma.ch/standards/ecma-323/csta/")
            .or_else(|| {
                ns.strip_prefix("http://www.ecma-international.org/standards/ecma-323/csta/")
            })?;
        match rest {
            "ed2" => Some(Edition::Ed2),
            "ed3" => Some(Edition::Ed3),
            "ed4" => Some(Edition::Ed4),
            "ed5" => Some(Edition::Ed5),
            "ed6" => Some(Edition::Ed6),
            _ => None,
        }
    }
}

/// ASCII XML names, as every CSTA element has.
fn is_element_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn namespace_accepted(ns: &str) -> bool {
    ns.is_empty()
        || Edition::from_namespace(ns).is_some()
        || ns.trim().trim_end_matches('/') == APPL_SESSION_NAMESPACE
}

impl Message {
    /// The root element name this message is written as.
    pub fn name(&self) -> &str {
        match self {
            Message::Request(r) => r.name(),
            Message::Response(r) => r.name(),
            Message::Event(e) => e.kind.name(),
            Message::Error(_) => "CSTAErrorCode",
            Message::Unknown { name } => name,
        }
    }

    fn is_application_session(&self) -> bool {
        matches!(
            self,
            Message::Request(
                Request::StartApplicationSession { .. }
                    | Request::StopApplicationSession { .. }
                    | Request::ResetApplicationSessionTimer { .. }
            ) | Message::Response(
                Response::StartApplicationSessionPos { .. }
                    | Response::StartApplicationSessionNeg { .. }
                    | Response::StopApplicationSessionPos
                    | Response::ResetApplicationSessionTimerPos { .. }
            )
        )
    }
}

/// Decodes one XML body.
pub fn decode(body: &[u8]) -> Result<Message, XmlError> {
    let doc = tree::parse(body)?;
    let name = doc.root.name.as_str();
    if !is_element_name(name) {
        return Err(XmlError::Syntax {
            position: 0,
            message: format!("invalid root element name {name:?}"),
        });
    }
    if let Some(ns) = &doc.namespace
        && !namespace_accepted(ns)
    {
        return Err(XmlError::UnsupportedNamespace {
            message: name.to_owned(),
            namespace: ns.clone(),
        });
    }
    let field = |source: FieldError| XmlError::Field {
        message: name.to_owned(),
        source,
    };
    let el = &doc.root;
    if let Some(r) = Request::read(name, el) {
        return r.map(Message::Request).map_err(field);
    }
    if let Some(r) = Response::read(name, el) {
        return r.map(Message::Response).map_err(field);
    }
    if name == "CSTAErrorCode" {
        return read_error(el).map(Message::Error).map_err(field);
    }
    if let Some(e) = Event::read(name, el) {
        return e.map(Message::Event).map_err(field);
    }
    Ok(Message::Unknown {
        name: name.to_owned(),
    })
}

/// Encodes in the ECMA-323 edition 4 namespace (ECMA-354 for application
/// session messages), as OpenScape Voice and most switches expect.
pub fn encode(msg: &Message) -> String {
    encode_with(msg, Edition::default())
}

/// Encodes with the namespace of `edition`.
pub fn encode_with(msg: &Message, edition: Edition) -> String {
    let name = msg.name();
    let ns = if msg.is_application_session() {
        APPL_SESSION_NAMESPACE
    } else {
        edition.namespace()
    };
    let mut w = XmlWriter::new(name, ns);
    match msg {
        Message::Request(r) => r.write(&mut w),
        Message::Response(r) => r.write(&mut w),
        Message::Event(e) => e.write(&mut w),
        Message::Error(e) => w.leaf(e.category.token(), &e.value),
        Message::Unknown { .. } => {}
    }
    w.finish(name)
}

fn read_error(el: &Element) -> FieldResult<CstaError> {
    let Some(first) = el.children.first() else {
        return Ok(CstaError::new(ErrorCategory::Unspecified, el.text()));
    };
    let category = ErrorCategory::from_token(&first.name).ok_or_else(|| FieldError::Invalid {
        field: "CSTAErrorCode",
        value: first.name.clone(),
        expected: ErrorCategory::EXPECTED,
    })?;
    // The value is the element's text, or the name of an empty child
    // element as some editions write it.
    let value = if first.text().is_empty() {
        first
            .children
            .first()
            .map(|c| c.name.clone())
            .unwrap_or_default()
    } else {
        first.text().to_owned()
    };
    Ok(CstaError { category, value })
}
