//! Validated field values. Each `parse` takes the field's API name so that
//! the error names it.

use std::net::IpAddr;

use crate::FieldError;

/// A bounded, trimmed, printable name (company, domain, user name, group…).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name(String);

impl Name {
    pub fn parse(field: &str, raw: &str, max_chars: usize) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new(field, "required", "must not be empty"));
        }
        if s.chars().count() > max_chars {
            return Err(FieldError::new(
                field,
                "too_long",
                format!("must be at most {max_chars} characters"),
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                "invalid_characters",
                "must not contain control characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Optional free text: trimmed, bounded, empty becomes `None`.
pub fn validate_optional_text(
    field: &str,
    raw: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => Name::parse(field, s, max_chars).map(|n| Some(n.into_string())),
    }
}

/// A telephone number as TWP stores it: digits, optionally after one leading
/// `+` (international form), `*` or `#` (PBX facilities). Visual separators
/// people type (spaces, dots, dashes, brackets) are removed when `lenient`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub const MAX_DIGITS: usize = 32;

    pub fn parse(field: &str, raw: &str, lenient: bool) -> Result<Self, FieldError> {
        let s = raw.trim();
        let compact: String = if lenient {
            s.chars()
                .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')' | '/'))
                .collect()
        } else {
            s.to_owned()
        };
        let digits = compact
            .strip_prefix(['+', '*', '#'])
            .unwrap_or(compact.as_str());
        if digits.is_empty() {
            return Err(FieldError::new(field, "required", "must contain digits"));
        }
        if let Some(bad) = digits.chars().find(|c| !c.is_ascii_digit()) {
            return Err(FieldError::new(
                field,
                "invalid_number",
                format!(
                    "'{bad}' is not allowed: a number is digits, optionally after one leading '+', '*' or '#'"
                ),
            ));
        }
        if digits.len() > Self::MAX_DIGITS {
            return Err(FieldError::new(
                field,
                "too_long",
                format!("must have at most {} digits", Self::MAX_DIGITS),
            ));
        }
        Ok(Self(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// An e-mail address: one `@`, a plausible local part and a dotted domain.
/// Deliberately not RFC 5322 in full: TWP sends mail and matches contacts by
/// it, so quoted local parts and IP literals are refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let invalid = |why: &str| {
            FieldError::new(
                field,
                "invalid_email",
                format!("'{s}' is not an e-mail address: {why}"),
            )
        };
        if s.len() > 254 {
            return Err(invalid("longer than 254 characters"));
        }
        let (local, domain) = s.split_once('@').ok_or_else(|| invalid("no '@'"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(invalid("the part before '@' must be 1 to 64 characters"));
        }
        let local_ok = local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        if !local_ok {
            return Err(invalid("the part before '@' has characters not allowed"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !domain_ok {
            return Err(invalid("the domain after '@' is not a dotted host name"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A culture (language) tag as the applications use it: `fr-FR`, `en`, `de-CH`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Culture(String);

impl Culture {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let mut parts = s.split('-');
        let lang_ok = parts.next().is_some_and(|l| {
            (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic())
        });
        let rest_ok = parts
            .all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
        if !(lang_ok && rest_ok) {
            return Err(FieldError::new(
                field,
                "invalid_culture",
                format!("'{s}' is not a culture tag such as fr-FR, en-US or de"),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// An IPv4 or IPv6 address, returned in its canonical text form.
pub fn validate_ip(field: &str, raw: &str) -> Result<String, FieldError> {
    raw.trim()
        .parse::<IpAddr>()
        .map(|ip| ip.to_string())
        .map_err(|_| {
            FieldError::new(
                field,
                "invalid_ip",
                format!("'{}' is not an IPv4 or IPv6 address", raw.trim()),
            )
        })
}

/// A TCP/UDP port, 1 to 65535.
pub fn validate_port(field: &str, port: i64) -> Result<u16, FieldError> {
    u16::try_from(port)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| FieldError::new(field, "out_of_range", "must be a port from 1 to 65535"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse("name", "  Paris ", 10).unwrap().as_str(),
            "Paris"
        );
        assert_eq!(Name::parse("name", "   ", 10).unwrap_err().code, "required");
        assert_eq!(
            Name::parse("name", "abcdefghijk", 10).unwrap_err().code,
            "too_long"
        );
        assert_eq!(
            Name::parse("name", "a\u{0}b", 10).unwrap_err().code,
            "invalid_characters"
        );
        assert_eq!(Name::parse("name", "Élodie", 6).unwrap().as_str(), "Élodie");
    }

    #[test]
    fn numbers_allow_one_leading_facility_sign() {
        for ok in ["1234", "+33155171889", "*21", "#31"] {
            assert_eq!(
                PhoneNumber::parse("number", ok, false).unwrap().as_str(),
                ok
            );
        }
        for bad in ["12a4", "++33", "", "+", "12+3", "*#1"] {
            assert!(PhoneNumber::parse("number", bad, false).is_err(), "{bad}");
        }
        let e = PhoneNumber::parse("devices[0].number", "12a", false).unwrap_err();
        assert_eq!(e.field, "devices[0].number");
    }

    #[test]
    fn lenient_numbers_drop_what_people_type_between_digits() {
        let n = PhoneNumber::parse("gsm", "+33 6.12-34 (56) 78", true).unwrap();
        assert_eq!(n.as_str(), "+33612345678");
        assert!(PhoneNumber::parse("gsm", "06 12 34 AB", true).is_err());
    }

    #[test]
    fn emails() {
        for ok in [
            "a@b.fr",
            "jean.dupont+tw@ex-ample.co.uk",
            "élodie@exemple.fr",
        ] {
            assert!(Email::parse("email", ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.fr", "a@.fr", "a@b..fr", "a b@c.fr", ".a@b.fr", "a@-b.fr",
        ] {
            assert_eq!(
                Email::parse("email", bad).unwrap_err().code,
                "invalid_email",
                "{bad}"
            );
        }
    }

    #[test]
    fn cultures_ips_ports() {
        assert!(Culture::parse("culture", "fr-FR").is_ok());
        assert!(Culture::parse("culture", "en").is_ok());
        assert!(Culture::parse("culture", "french").is_err());
        assert_eq!(validate_ip("ip", " 10.0.0.1 ").unwrap(), "10.0.0.1");
        assert_eq!(validate_ip("ip", "::1").unwrap(), "::1");
        assert!(validate_ip("ip", "10.0.0").is_err());
        assert!(validate_port("port", 0).is_err());
        assert!(validate_port("port", 65536).is_err());
        assert_eq!(validate_port("port", 3211).unwrap(), 3211);
    }

    proptest! {
        #[test]
        fn validators_never_panic(s in ".{0,80}") {
            let _ = Name::parse("f", &s, 20);
            let _ = PhoneNumber::parse("f", &s, true);
            let _ = PhoneNumber::parse("f", &s, false);
            let _ = Email::parse("f", &s);
            let _ = Culture::parse("f", &s);
            let _ = validate_ip("f", &s);
        }

        #[test]
        fn accepted_numbers_are_stable(s in "[+*#]?[0-9]{1,32}") {
            let n = PhoneNumber::parse("f", &s, false).unwrap();
            prop_assert_eq!(PhoneNumber::parse("f", n.as_str(), false).unwrap(), n);
        }
    }
}
