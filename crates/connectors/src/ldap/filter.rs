//! LDAP search filters (RFC 4515): the administrator's filter is checked
//! before it is sent (balanced parentheses, then the full grammar), and
//! values typed by users are escaped before they enter a filter.

use std::borrow::Cow;

use thiserror::Error;

/// Why the Filter setting was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum FilterError {
    /// Nothing but blanks.
    #[error("Filter: the filter is empty")]
    Empty,
    /// A `)` with no `(` before it.
    #[error("Filter: unbalanced parentheses: ')' at position {0} closes nothing")]
    UnexpectedClose(usize),
    /// A `(` never closed.
    #[error("Filter: unbalanced parentheses: '(' at position {0} is never closed")]
    Unclosed(usize),
    /// Text after the filter's last `)`.
    #[error("Filter: unexpected text at position {0} after the end of the filter")]
    Trailing(usize),
    /// Balanced, but not an RFC 4515 filter (bad operator, bad escape…).
    #[error("Filter: {0:?} is not a valid LDAP filter (RFC 4515)")]
    Syntax(String),
}

/// Checks the administrator's filter and returns it ready to send: blanks
/// trimmed and a bare `attr=value` item wrapped in parentheses.
pub fn validate_filter(filter: &str) -> Result<Cow<'_, str>, FilterError> {
    let trimmed = filter.trim();
    if trimmed.is_empty() {
        return Err(FilterError::Empty);
    }
    let offset = filter.len() - filter.trim_start().len();
    let text: Cow<'_, str> = if trimmed.starts_with('(') {
        Cow::Borrowed(trimmed)
    } else {
        Cow::Owned(format!("({trimmed})"))
    };
    let shift = if trimmed.starts_with('(') { 0 } else { 1 };
    // Positions reported are in the administrator's text.
    let at = |i: usize| (i + offset).saturating_sub(shift);
    let mut open: Vec<usize> = Vec::new();
    // Where the outermost filter ends.
    let mut end = None;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'(' => open.push(i),
            b')' => {
                if open.pop().is_none() {
                    return Err(FilterError::UnexpectedClose(at(i)));
                }
                if open.is_empty() && end.is_none() {
                    end = Some(i);
                }
            }
            _ => {}
        }
    }
    if let Some(&i) = open.first() {
        return Err(FilterError::Unclosed(at(i)));
    }
    if let Some(e) = end.filter(|e| e + 1 < text.len()) {
        return Err(FilterError::Trailing(at(e + 1)));
    }
    if ldap3::parse_filter(text.as_bytes()).is_err() {
        return Err(FilterError::Syntax(trimmed.to_owned()));
    }
    Ok(text)
}

/// Escapes a value for use inside a filter item (RFC 4515 section 3):
/// `*`, `(`, `)`, `\` and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`.
/// Any other character, UTF-8 included, is sent as is.
pub fn escape_filter_value(value: &str) -> Cow<'_, str> {
    if !value.bytes().any(needs_escape) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '*' => out.push_str("\\2a"),
            '(' => out.push_str("\\28"),
            ')' => out.push_str("\\29"),
            '\\' => out.push_str("\\5c"),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(b: u8) -> bool {
    matches!(b, b'*' | b'(' | b')' | b'\\' | 0)
}

/// `(&<admin filter>(<attribute>=<escaped value>))`: narrows the
/// administrator's filter to entries whose `attribute` equals a value typed
/// by a user. The attribute name must be a plain LDAP descriptor.
pub fn and_equals(filter: &str, attribute: &str, value: &str) -> Result<String, FilterError> {
    let base = validate_filter(filter)?;
    let valid_attr = !attribute.is_empty()
        && attribute.starts_with(|c: char| c.is_ascii_alphabetic())
        && attribute
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid_attr {
        return Err(FilterError::Syntax(attribute.to_owned()));
    }
    Ok(format!(
        "(&{base}({attribute}={}))",
        escape_filter_value(value)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reverses [`escape_filter_value`] (test oracle).
    fn unescape(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\\' {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn filters_checked_with_positions() {
        assert_eq!(
            validate_filter("(objectClass=person)").unwrap(),
            "(objectClass=person)"
        );
        assert_eq!(validate_filter(" uid=1 ").unwrap(), "(uid=1)");
        assert_eq!(validate_filter("  "), Err(FilterError::Empty));
        assert_eq!(
            validate_filter("(&(a=1)(b=2)"),
            Err(FilterError::Unclosed(0))
        );
        assert_eq!(
            validate_filter("(a=1))"),
            Err(FilterError::UnexpectedClose(5))
        );
        assert_eq!(validate_filter("(a=1)(b=2)"), Err(FilterError::Trailing(5)));
        assert!(matches!(
            validate_filter("(a~~1)"),
            Err(FilterError::Syntax(_))
        ));
        let e = validate_filter("(&(a=1)").unwrap_err().to_string();
        assert!(e.starts_with("Filter: unbalanced parentheses"), "{e}");
    }

    #[test]
    fn escapes_the_five_characters() {
        assert_eq!(escape_filter_value("Dupont"), "Dupont");
        assert_eq!(escape_filter_value("a*(b)\\c\0"), "a\\2a\\28b\\29\\5cc\\00");
        assert_eq!(escape_filter_value("Zoé"), "Zoé");
        assert_eq!(
            and_equals("(objectClass=person)", "mail", "*)(uid=*").unwrap(),
            "(&(objectClass=person)(mail=\\2a\\29\\28uid=\\2a))"
        );
        assert!(and_equals("(a=1)", "ma il", "x").is_err());
    }

    proptest! {
        #[test]
        fn escaped_values_stay_one_item(value in any::<String>()) {
            let escaped = escape_filter_value(&value);
            prop_assert!(!escaped.bytes().any(|b| matches!(b, b'*' | b'(' | b')' | 0)));
            prop_assert_eq!(unescape(&escaped), value.clone());
            let filter = format!("(cn={escaped})");
            prop_assert!(validate_filter(&filter).is_ok(), "{}", filter);
        }

        #[test]
        fn validation_never_panics(text in "[()&|!=a-z*\\\\ ]{0,40}") {
            let _ = validate_filter(&text);
        }

        #[test]
        fn unbalanced_is_always_refused(depth in 1usize..6, extra in 1usize..3) {
            let open = format!("{}(a=1){}", "(&".repeat(depth), ")".repeat(depth.saturating_sub(extra)));
            prop_assert!(validate_filter(&open).is_err());
        }
    }
}
