//! A small element tree built with quick-xml: local names only (prefixes
//! dropped), text trimmed and unescaped, vendor `privateData` skipped.
//! The typed decoder reads from this tree, which keeps it free of parser
//! details and lets it look fields up in any order.

use quick_xml::events::{BytesStart, Event as XmlEvent};
use quick_xml::reader::Reader;

use super::error::XmlError;

/// Deepest nesting accepted; CSTA messages need fewer than 10 levels.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Default)]
pub(crate) struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

/// The root element and the namespace it is in, if declared.
pub(crate) struct Document {
    pub root: Element,
    pub namespace: Option<String>,
}

fn local_name(start: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(start.local_name().as_ref()).into_owned()
}

/// Namespace of the root: from `xmlns` or `xmlns:prefix` on the root itself.
fn root_namespace(start: &BytesStart<'_>) -> Option<String> {
    let name = start.name();
    let wanted: Vec<u8> = match name.prefix() {
        Some(p) => [b"xmlns:".as_slice(), p.as_ref()].concat(),
        None => b"xmlns".to_vec(),
    };
    start
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == wanted.as_slice())
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

pub(crate) fn parse(body: &[u8]) -> Result<Document, XmlError> {
    let text = std::str::from_utf8(body).map_err(|e| XmlError::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Element> = Vec::new();
    let mut namespace = None;
    let mut root: Option<Element> = None;
    // Depth of the `privateData` element being skipped, if any.
    let mut skipping: Option<usize> = None;
    let syntax = |reader: &Reader<&[u8]>, e: quick_xml::Error| XmlError::Syntax {
        position: reader.buffer_position(),
        message: e.to_string(),
    };
    loop {
        let event = reader.read_event().map_err(|e| syntax(&reader, e))?;
        let depth = stack.len();
        match event {
            XmlEvent::Start(start) => {
                if root.is_some() {
                    return Err(XmlError::TrailingContent {
                        position: reader.buffer_position(),
                    });
                }
                if depth >= MAX_DEPTH {
                    return Err(XmlError::TooDeep { limit: MAX_DEPTH });
                }
                let name = local_name(&start);
                if depth == 0 {
                    namespace = root_namespace(&start);
                }
                if skipping.is_none() && name == "privateData" {
                    skipping = Some(depth);
                }
                stack.push(Element {
                    name,
                    ..Element::default()
                });
            }
            XmlEvent::Empty(start) => {
                if root.is_some() {
                    return Err(XmlError::TrailingContent {
                        position: reader.buffer_position(),
                    });
                }
                let name = local_name(&start);
                if skipping.is_some() || name == "privateData" {
                    continue;
                }
                if depth == 0 {
                    namespace = root_namespace(&start);
                }
                let el = Element {
                    name,
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            XmlEvent::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err(XmlError::Syntax {
                        position: reader.buffer_position(),
                        message: "closing tag without opening tag".into(),
                    });
                };
                if let Some(d) = skipping {
                    if stack.len() == d {
                        skipping = None;
                    }
                    continue;
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            XmlEvent::Text(t) => {
                if skipping.is_some() {
                    continue;
                }
                let s = t.unescape().map_err(|e| syntax(&reader, e))?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => {
                        return Err(XmlError::Syntax {
                            position: reader.buffer_position(),
                            message: "text outside the root element".into(),
                        });
                    }
                }
            }
            XmlEvent::CData(c) => {
                if skipping.is_some() {
                    continue;
                }
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&String::from_utf8_lossy(&c));
                }
            }
            XmlEvent::Eof => break,
            XmlEvent::Decl(_) | XmlEvent::PI(_) | XmlEvent::Comment(_) | XmlEvent::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Syntax {
            position: reader.buffer_position(),
            message: format!(
                "unclosed element <{}>",
                stack.last().map_or("", |e| &e.name)
            ),
        });
    }
    let root = root.ok_or(XmlError::Empty)?;
    Ok(Document { root, namespace })
}
