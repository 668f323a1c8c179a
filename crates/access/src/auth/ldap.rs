//! LDAP escaping: DN attribute values (RFC 4514) for the AuthLdapDn bind
//! template (guide 6.3), and filter values (RFC 4515) for directory look-ups.
//! The network bind itself is done elsewhere.

use thiserror::Error;

/// Characters escaped with a backslash in a DN value (RFC 4514 §2.4;
/// `=` is optional there, escaped here for safety).
const DN_SPECIAL: &[char] = &['"', '+', ',', ';', '<', '>', '\\', '='];
/// Escaped as hex although harmless in a DN: a value that later lands in
/// a search filter cannot open a filter expression.
const DN_HEX: &[char] = &['*', '(', ')'];

/// Escapes a string for use as a DN attribute value.
pub fn escape_dn_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let edge_space = c == ' ' && (i == 0 || i == last);
        if DN_SPECIAL.contains(&c) || edge_space || (c == '#' && i == 0) {
            out.push('\\');
            out.push(c);
        } else if c.is_control() || DN_HEX.contains(&c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\{b:02x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EscapeError {
    #[error("escape at byte {0} is cut short")]
    Truncated(usize),
    #[error("escape at byte {0} is neither a special character nor two hex digits")]
    BadEscape(usize),
    #[error("escaped bytes are not UTF-8")]
    NotUtf8,
    #[error("the user name is empty (an empty name would make an anonymous bind)")]
    EmptyUserName,
}

/// Reverses [`escape_dn_value`] (and any RFC 4514 value escaping).
pub fn unescape_dn_value(value: &str) -> Result<String, EscapeError> {
    unescape(value, true)
}

/// Reverses [`escape_filter_value`].
pub fn unescape_filter_value(value: &str) -> Result<String, EscapeError> {
    unescape(value, false)
}

fn unescape(value: &str, char_escapes: bool) -> Result<String, EscapeError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let Some(&next) = bytes.get(i + 1) else {
            return Err(EscapeError::Truncated(i));
        };
        if next.is_ascii_hexdigit() {
            let hi = hex(next);
            let lo = bytes.get(i + 2).copied().filter(u8::is_ascii_hexdigit);
            match lo {
                Some(lo) => out.push(hi * 16 + hex(lo)),
                None => return Err(EscapeError::BadEscape(i)),
            }
            i += 3;
        } else if char_escapes
            && (next == b' ' || next == b'#' || DN_SPECIAL.contains(&char::from(next)))
        {
            out.push(next);
            i += 2;
        } else {
            return Err(EscapeError::BadEscape(i));
        }
    }
    String::from_utf8(out).map_err(|_| EscapeError::NotUtf8)
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// The bind DN: AuthLdapDn with every `?` replaced by the escaped user name
/// (guide 6.3: "?" alone, or e.g. `CN=?,OU=PARIS,DC=SSDEI,DC=local`).
pub fn bind_dn(template: &str, user_name: &str) -> Result<String, EscapeError> {
    if user_name.is_empty() {
        return Err(EscapeError::EmptyUserName);
    }
    Ok(template.replace('?', &escape_dn_value(user_name)))
}

/// Escapes a value for an LDAP search filter (RFC 4515 §3): `*`, `(`, `)`,
/// `\` and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`.
pub fn escape_filter_value(value: &str) -> String {
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
    out
}
