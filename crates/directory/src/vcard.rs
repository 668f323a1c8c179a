//! vCard 3.0 and 4.0 (RFC 2426, RFC 6350) as pushed by Outlook's add-in
//! (guide 8.8): one or many cards in one text, read into TWP contact
//! fields. Lines are unfolded (CRLF or LF followed by a space or tab),
//! group prefixes (`item1.TEL`) dropped, parameters read (quoted values,
//! comma lists), text values unescaped (`\n \, \; \\`).
//!
//! Kept: UID (the id), N, FN, ORG, TEL by type (work, cell, home, main or
//! pref without a type → standard, assistant; untyped numbers fill work,
//! then mobile, then home), EMAIL (three), URL, ADR, PHOTO given as an
//! http(s) URI, X-ASSISTANT. Other properties are skipped; a card without
//! any name, company or number is refused with its line.

use crate::model::ContactField;

/// Largest text read (the API bounds bodies anyway).
pub const MAX_VCARD_TEXT: usize = 4 * 1024 * 1024;

/// Most cards in one text.
pub const MAX_VCARDS: usize = 10_000;

/// A card read from the text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VCard {
    /// Line of its `BEGIN:VCARD` (1-based).
    pub line: usize,
    /// The fields, in the order first met; a field appears once.
    pub fields: Vec<(ContactField, String)>,
}

impl VCard {
    /// The value of `field`.
    pub fn get(&self, field: ContactField) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.as_str())
    }

    fn set_if_absent(&mut self, field: ContactField, value: String) -> bool {
        let value = value.trim().to_owned();
        if value.is_empty() || self.get(field).is_some() {
            return false;
        }
        self.fields.push((field, value));
        true
    }
}

/// A text that is not a vCard; `line` is 1-based.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("vCard line {line}: {message}")]
pub struct VCardError {
    /// Where.
    pub line: usize,
    /// What.
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> VCardError {
    VCardError {
        line,
        message: message.into(),
    }
}

/// One unfolded content line.
struct ContentLine<'a> {
    name: String,
    params: Vec<(String, Vec<String>)>,
    value: std::borrow::Cow<'a, str>,
}

/// Unfolds physical lines into (first line number, logical line).
fn unfold(text: &str) -> Vec<(usize, std::borrow::Cow<'_, str>)> {
    let mut out: Vec<(usize, std::borrow::Cow<'_, str>)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = raw.strip_prefix([' ', '\t']) {
            if let Some((_, last)) = out.last_mut() {
                last.to_mut().push_str(rest);
                continue;
            }
        }
        if !raw.trim().is_empty() {
            out.push((i + 1, std::borrow::Cow::Borrowed(raw)));
        }
    }
    out
}

fn parse_line<'a>(
    line: usize,
    text: &'a std::borrow::Cow<'a, str>,
) -> Result<ContentLine<'a>, VCardError> {
    // the value starts at the first ':' outside double quotes
    let mut quoted = false;
    let mut colon = None;
    for (i, ch) in text.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            ':' if !quoted => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    let colon = colon.ok_or_else(|| err(line, "a property needs NAME:value"))?;
    let head = &text[..colon];
    let value: std::borrow::Cow<'a, str> = match text {
        std::borrow::Cow::Borrowed(b) => std::borrow::Cow::Borrowed(&b[colon + 1..]),
        std::borrow::Cow::Owned(o) => std::borrow::Cow::Owned(o[colon + 1..].to_owned()),
    };
    let mut parts = split_outside_quotes(head, ';').into_iter();
    let name = parts.next().unwrap_or_default();
    let name = name
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(err(line, format!("{name:?} is not a property name")));
    }
    let mut params = Vec::new();
    for p in parts {
        let (k, v) = match p.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_uppercase(), v),
            // vCard 2.1 style bare parameter (`TEL;WORK:`): a type
            None => ("TYPE".to_owned(), p.as_str()),
        };
        // `TYPE="home,voice"` (v4, quoted list) and `TYPE=home,voice`
        let values = split_outside_quotes(v, ',')
            .iter()
            .flat_map(|part| part.trim().trim_matches('"').split(','))
            .map(|s| s.trim().to_ascii_lowercase())
            .collect();
        params.push((k, values));
    }
    Ok(ContentLine {
        name,
        params,
        value,
    })
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for ch in s.chars() {
        if ch == '"' {
            quoted = !quoted;
        }
        if ch == sep && !quoted {
            out.push(String::new());
        } else if let Some(last) = out.last_mut() {
            last.push(ch);
        }
    }
    out
}

/// Splits a structured value on unescaped `sep` and unescapes each part.
fn components(value: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        let Some(cur) = out.last_mut() else { break };
        match c {
            '\\' => match chars.next() {
                Some('n' | 'N') => cur.push('\n'),
                Some(o) => cur.push(o),
                None => {}
            },
            c if c == sep => out.push(String::new()),
            c => cur.push(c),
        }
    }
    out
}

fn text(value: &str) -> String {
    // a text value has no structure: unescape everything
    components(value, '\u{0}').concat()
}

fn types<'c>(c: &'c ContentLine<'_>) -> Vec<&'c str> {
    c.params
        .iter()
        .filter(|(k, _)| k == "TYPE")
        .flat_map(|(_, v)| v.iter().map(String::as_str))
        .collect()
}

fn phone(card: &mut VCard, c: &ContentLine<'_>) {
    let t = types(c);
    if t.contains(&"fax") || t.contains(&"pager") {
        return;
    }
    let v = text(&c.value);
    let number = v.strip_prefix("tel:").unwrap_or(&v).to_owned();
    let field = if t.contains(&"cell") || t.contains(&"mobile") {
        Some(ContactField::Mobile)
    } else if t.contains(&"home") {
        Some(ContactField::Home)
    } else if t.contains(&"work") {
        Some(ContactField::Work)
    } else if t.contains(&"x-assistant") || t.contains(&"assistant") {
        Some(ContactField::AssistantPhone)
    } else if t.contains(&"main") || t.contains(&"x-main") || t.contains(&"pref") {
        Some(ContactField::Standard)
    } else {
        None
    };
    match field {
        Some(f) => {
            card.set_if_absent(f, number);
        }
        None => {
            for f in [ContactField::Work, ContactField::Mobile, ContactField::Home] {
                if card.set_if_absent(f, number.clone()) {
                    break;
                }
            }
        }
    }
}

fn apply(card: &mut VCard, c: &ContentLine<'_>) {
    use ContactField as F;
    match c.name.as_str() {
        "UID" => {
            card.set_if_absent(F::Id, text(&c.value));
        }
        "N" => {
            let parts = components(&c.value, ';');
            card.set_if_absent(F::LastName, parts.first().cloned().unwrap_or_default());
            card.set_if_absent(F::FirstName, parts.get(1).cloned().unwrap_or_default());
        }
        "FN" => {
            card.set_if_absent(F::DisplayName, text(&c.value));
        }
        "ORG" => {
            let parts = components(&c.value, ';');
            card.set_if_absent(F::Company, parts.first().cloned().unwrap_or_default());
        }
        "TEL" => phone(card, c),
        "EMAIL" => {
            let v = text(&c.value);
            let v = v.strip_prefix("mailto:").unwrap_or(&v).to_owned();
            for f in ContactField::EMAILS {
                if card.get(*f) == Some(v.trim()) || card.set_if_absent(*f, v.clone()) {
                    break;
                }
            }
        }
        "URL" => {
            card.set_if_absent(F::Url, text(&c.value));
        }
        "ADR" => {
            let parts: Vec<String> = components(&c.value, ';')
                .into_iter()
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect();
            card.set_if_absent(F::Address, parts.join(", "));
        }
        "PHOTO" => {
            let v = text(&c.value);
            if v.starts_with("http://") || v.starts_with("https://") {
                card.set_if_absent(F::PictureUrl, v);
            }
        }
        "X-ASSISTANT" | "X-MS-ASSISTANT" => {
            card.set_if_absent(F::Assistant, text(&c.value));
        }
        _ => {}
    }
}

/// Reads every card of `text`.
pub fn parse_vcards(text: &str) -> Result<Vec<VCard>, VCardError> {
    if text.len() > MAX_VCARD_TEXT {
        return Err(err(
            1,
            format!("the text is larger than {MAX_VCARD_TEXT} bytes"),
        ));
    }
    let mut cards = Vec::new();
    let mut current: Option<VCard> = None;
    let lines = unfold(text);
    for (line, raw) in &lines {
        let c = parse_line(*line, raw)?;
        match (c.name.as_str(), &mut current) {
            ("BEGIN", None) => {
                if !c.value.trim().eq_ignore_ascii_case("VCARD") {
                    return Err(err(*line, "expected BEGIN:VCARD"));
                }
                if cards.len() == MAX_VCARDS {
                    return Err(err(*line, format!("more than {MAX_VCARDS} cards")));
                }
                current = Some(VCard {
                    line: *line,
                    fields: Vec::new(),
                });
            }
            ("BEGIN", Some(_)) => {
                return Err(err(*line, "BEGIN inside a card (END:VCARD missing)"));
            }
            ("END", Some(card)) => {
                if !c.value.trim().eq_ignore_ascii_case("VCARD") {
                    return Err(err(*line, "expected END:VCARD"));
                }
                let has_name = [
                    ContactField::LastName,
                    ContactField::FirstName,
                    ContactField::DisplayName,
                    ContactField::Company,
                ]
                .iter()
                .chain(ContactField::PHONES)
                .any(|f| card.get(*f).is_some());
                if !has_name {
                    return Err(err(card.line, "the card has no name, company nor number"));
                }
                cards.push(std::mem::take(card));
                current = None;
            }
            (_, None) => {
                return Err(err(
                    *line,
                    format!("{} outside a card (BEGIN:VCARD missing)", c.name),
                ));
            }
            ("VERSION", Some(_)) => {
                let v = c.value.trim();
                if v != "3.0" && v != "4.0" {
                    return Err(err(
                        *line,
                        format!("version {v:?} is not supported (3.0 or 4.0)"),
                    ));
                }
            }
            (_, Some(card)) => apply(card, &c),
        }
    }
    if let Some(card) = current {
        return Err(err(card.line, "the card is not closed (END:VCARD missing)"));
    }
    if cards.is_empty() {
        return Err(err(1, "no card (BEGIN:VCARD … END:VCARD)"));
    }
    Ok(cards)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ContactField as F;

    #[test]
    fn outlook_v3_and_v4_cards() {
        let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Dupont;Jean;;;\r\nFN:Jean Dupont\r\n\
            ORG:Acme\\, Inc.;Sales\r\nTEL;TYPE=WORK,VOICE:+33 1 23 45 67 89\r\n\
            TEL;TYPE=CELL:06 11 22 33 44\r\nitem1.EMAIL;TYPE=INTERNET:jean@acme.fr\r\n\
            ADR;TYPE=WORK:;;1 rue de la Paix;Paris;;75002;France\r\nNOTE:long\r\n  note\r\n\
            END:VCARD\r\n\
            BEGIN:VCARD\nVERSION:4.0\nUID:urn:uuid:42\nFN:Zoé Martin\n\
            TEL;VALUE=uri;TYPE=\"home,voice\":tel:+33-4-00-00-00-01\nTEL:0140000002\n\
            PHOTO:https://example.com/z.jpg\nEND:VCARD\n";
        let cards = parse_vcards(text).unwrap();
        assert_eq!(cards.len(), 2);
        let a = &cards[0];
        assert_eq!(a.get(F::LastName), Some("Dupont"));
        assert_eq!(a.get(F::FirstName), Some("Jean"));
        assert_eq!(a.get(F::Company), Some("Acme, Inc."));
        assert_eq!(a.get(F::Work), Some("+33 1 23 45 67 89"));
        assert_eq!(a.get(F::Mobile), Some("06 11 22 33 44"));
        assert_eq!(a.get(F::Email1), Some("jean@acme.fr"));
        assert_eq!(
            a.get(F::Address),
            Some("1 rue de la Paix, Paris, 75002, France")
        );
        let b = &cards[1];
        assert_eq!(b.line, 13);
        assert_eq!(b.get(F::Id), Some("urn:uuid:42"));
        assert_eq!(b.get(F::Home), Some("+33-4-00-00-00-01"));
        assert_eq!(b.get(F::Work), Some("0140000002"));
        assert_eq!(b.get(F::PictureUrl), Some("https://example.com/z.jpg"));
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse_vcards("BEGIN:VCARD\nVERSION:2.1\nEND:VCARD\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse_vcards("BEGIN:VCARD\nFN:x\n").unwrap_err();
        assert_eq!((e.line, e.message.contains("not closed")), (1, true));
        let e = parse_vcards("FN:x\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse_vcards("BEGIN:VCARD\nFN:x\nno colon here\nEND:VCARD\n").unwrap_err();
        assert_eq!(e.line, 3);
        let e = parse_vcards("BEGIN:VCARD\nNOTE:only a note\nEND:VCARD\n").unwrap_err();
        assert!(e.message.contains("no name"), "{e}");
        assert!(parse_vcards("").is_err());
    }
}
