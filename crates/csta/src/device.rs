//! Device identifiers and their reduction to a dialable number.
//!
//! PBXs decorate identifiers: OpenScape Voice sends `N<302118840100>;noa=nk`
//! or `N<7868772298>Line71001;displayNumber=7868772298;uid=...`, SIP-minded
//! ones send `sip:1234@host` or `tel:+331234`. Directory look-ups need the
//! bare number, so [`DeviceId`] keeps both the text as received (`raw`,
//! written back unchanged on encode) and the extracted `number`.

use std::fmt;

/// A CSTA device identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId {
    number: String,
    raw: String,
}

impl DeviceId {
    /// A plain device number; what is written on the wire is the number.
    pub fn new(number: impl Into<String>) -> DeviceId {
        let number = number.into();
        DeviceId {
            raw: number.clone(),
            number,
        }
    }

    /// An identifier as received on the wire; the number is extracted.
    pub fn from_wire(raw: &str) -> DeviceId {
        DeviceId {
            number: extract_number(raw).to_owned(),
            raw: raw.to_owned(),
        }
    }

    /// The number the identifier designates (`302118840100` for
    /// `N<302118840100>;noa=nk`).
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The identifier exactly as received or to be sent.
    pub fn raw(&self) -> &str {
        &self.raw
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.number)
    }
}

impl From<&str> for DeviceId {
    fn from(s: &str) -> Self {
        DeviceId::from_wire(s)
    }
}

/// Reduces a decorated identifier to its number. Never fails: text that
/// carries no recognisable decoration is returned trimmed.
pub fn extract_number(raw: &str) -> &str {
    let s = raw.trim();
    // `N<number>rest` (ECMA-269 "diallingNumber" notation used by OSV),
    // also `<number>` alone.
    if let Some(open) = s.find('<')
        && let Some(close) = s[open + 1..].find('>')
    {
        let inner = s[open + 1..open + 1 + close].trim();
        if !inner.is_empty() {
            return strip_uri(inner);
        }
    }
    let before_params = s.split(';').next().unwrap_or(s).trim();
    strip_uri(before_params)
}

fn strip_uri(s: &str) -> &str {
    let s = s
        .strip_prefix("tel:")
        .or_else(|| s.strip_prefix("sip:"))
        .or_else(|| s.strip_prefix("sips:"))
        .unwrap_or(s);
    let s = s.split('@').next().unwrap_or(s);
    s.split(';').next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduces_decorated_identifiers() {
        for (raw, number) in [
            ("N<302118840100>;noa=nk", "302118840100"),
            (
                "N<7868772298>Line71001;displayNumber=7868772298;uid=FF0001",
                "7868772298",
            ),
            (
                "N<302118840101>;displayNumber=302118840101;noa=nk",
                "302118840101",
            ),
            ("302118840100", "302118840100"),
            ("  3021033 ", "3021033"),
            ("sip:1234@pbx.example;user=phone", "1234"),
            ("tel:+33123456789", "+33123456789"),
            ("SUB_C", "SUB_C"),
            ("1234;ext=5", "1234"),
            ("N<>x", "N<>x"),
            ("", ""),
        ] {
            assert_eq!(extract_number(raw), number, "{raw}");
        }
    }

    #[test]
    fn keeps_raw_text() {
        let d = DeviceId::from_wire("N<302118840100>;noa=nk");
        assert_eq!(d.number(), "302118840100");
        assert_eq!(d.raw(), "N<302118840100>;noa=nk");
        assert_eq!(DeviceId::new("100").raw(), "100");
    }
}
