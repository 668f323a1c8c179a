//! Character clean-up shared by dialing and canonicalisation.

use std::borrow::Cow;

/// Visual separators people type inside numbers: white space, `.`, `-`, `/`.
pub(crate) fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '.' | '-' | '/')
}

/// Removes visual separators, keeping everything else (parentheses, letters)
/// for the specific rules to see. Borrows when there is nothing to remove.
pub(crate) fn remove_separators(s: &str) -> Cow<'_, str> {
    // Fast path: ASCII without separator (the usual case) is borrowed as is.
    let plain = s
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_whitespace() && !matches!(b, b'.' | b'-' | b'/'));
    if !plain && s.chars().any(is_separator) {
        Cow::Owned(s.chars().filter(|c| !is_separator(*c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// Standard rule of guide 5.1: "any non-numerical character is deleted,
/// except for +, # and * when they are the first character". In a facility
/// code (first character `#` or `*`) the `#` and `*` that follow are kept
/// too, since codes such as `*21*1234#` need them.
pub(crate) fn keep_dialable(s: &str, out: &mut String) {
    out.clear();
    let mut bytes = s.bytes();
    let facility = match bytes.next() {
        Some(b @ (b'+' | b'#' | b'*')) => {
            out.push(char::from(b));
            b != b'+'
        }
        Some(b) if b.is_ascii_digit() => {
            out.push(char::from(b));
            false
        }
        _ => false,
    };
    // Bytes of multi-byte characters are never ASCII, so never kept.
    for b in bytes {
        if b.is_ascii_digit() || (facility && matches!(b, b'#' | b'*')) {
            out.push(char::from(b));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialable(s: &str) -> String {
        let mut out = String::new();
        keep_dialable(s, &mut out);
        out
    }

    #[test]
    fn separators() {
        assert_eq!(
            remove_separators("+33 (0) 1.55-17/18 89"),
            "+33(0)155171889"
        );
        assert!(matches!(remove_separators("0155"), Cow::Borrowed(_)));
    }

    #[test]
    fn non_numeric_characters() {
        assert_eq!(dialable("00)123456789"), "00123456789");
        assert_eq!(dialable("+33(0)1"), "+3301");
        assert_eq!(dialable("1+2#3*"), "123");
        assert_eq!(dialable("*21*1234#"), "*21*1234#");
        assert_eq!(dialable("#21#"), "#21#");
        assert_eq!(dialable("abc"), "");
        assert_eq!(dialable("(01) 55"), "0155");
    }
}
