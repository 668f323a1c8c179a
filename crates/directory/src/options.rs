//! Field mappings with options (guide 8.1, "Adding options"):
//! `Surname | h, u,p::9{0}::^[0-9]{4}$`.
//!
//! Grammar: `source [ '|' option { ',' option } ]`. Options are applied to
//! the value in the order written. A comma splits options only outside
//! brackets and escapes, so `p::{0}::^[0-9]{2,4}$` keeps its regex whole.
//! Option letters are lower case, as in the guide's list: `I` is refused
//! rather than guessed (the guide's typesetting shows `I` for `l`, but `i`
//! is another option).

use std::borrow::Cow;
use std::fmt;

use regex::{Regex, RegexBuilder};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Longest accepted regular expression in a `p` option, in bytes.
pub const MAX_REGEX_LEN: usize = 512;
/// Compiled size limit of a `p` option's regular expression (the `regex`
/// crate matches in linear time; this bounds its memory).
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// The value placeholder in a `p` template.
const PLACEHOLDER: &str = "{0}";

/// A field mapping: the source field and its options.
#[derive(Clone, Debug)]
pub struct FieldMapping {
    /// The source field name (CSV column, LDAP attribute…), trimmed.
    pub source: String,
    /// The options after the pipe.
    pub options: FieldOptions,
}

/// The parsed options of a mapping.
#[derive(Clone, Debug, Default)]
pub struct FieldOptions {
    /// `a`: the value is a postal address, shown as a link to MapServiceURL.
    pub address_link: bool,
    /// `i`: invisible in the Caller contact card (still in Alerter).
    pub invisible_in_caller: bool,
    /// Value transformations (`h`, `l`, `m`, `u`, `p`), in written order.
    pub transforms: Vec<Transform>,
}

/// A value transformation.
#[derive(Clone, Debug)]
pub enum Transform {
    /// `h`: SHA-256 of the value, lower-case hexadecimal.
    Hash,
    /// `l`: lower case.
    Lower,
    /// `m`: first letter capitalised, the rest lower case.
    Capitalise,
    /// `u`: upper case.
    Upper,
    /// `p::template::regex`: the template with `{0}` replaced by the value,
    /// when the value matches the regex (always when there is none).
    Affix {
        /// Text with one or more `{0}`.
        template: String,
        /// The condition, when given.
        condition: Option<Regex>,
    },
}

/// What is wrong in a mapping; `position` is the 1-based character position
/// of the offending option in the mapping text.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{kind} (at position {position})")]
pub struct OptionError {
    /// 1-based character position in the mapping text.
    pub position: usize,
    /// The problem.
    pub kind: OptionErrorKind,
}

/// The kinds of [`OptionError`].
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum OptionErrorKind {
    /// Nothing before the pipe.
    #[error("the source field name is empty")]
    EmptySource,
    /// `a,,u` or a trailing comma.
    #[error("empty option")]
    EmptyOption,
    /// Not one of a, h, i, l, m, u, p.
    #[error("unknown option `{0}`: expected a, h, i, l, m, u or p::template::regex (lower case)")]
    Unknown(String),
    /// The same flag option twice.
    #[error("option `{0}` given twice")]
    Duplicate(char),
    /// Two of l, m, u.
    #[error("options `{0}` and `{1}` conflict: choose one of l, m, u")]
    ConflictingCase(char, char),
    /// `p` not followed by `::`.
    #[error("option p is written p::template or p::template::regex")]
    AffixSyntax,
    /// The template has no `{0}`.
    #[error("the template of option p must contain {{0}} (the value)")]
    MissingPlaceholder,
    /// The regex is longer than [`MAX_REGEX_LEN`].
    #[error("the regular expression of option p is longer than {MAX_REGEX_LEN} bytes")]
    RegexTooLong,
    /// The regex does not compile (or exceeds the size limit).
    #[error("invalid regular expression in option p: {0}")]
    InvalidRegex(String),
}

impl fmt::Display for FieldMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Parses a mapping such as `Surname | h, u,p::9{0}::^[0-9]{4}$`.
pub fn parse_mapping(text: &str) -> Result<FieldMapping, OptionError> {
    let (source, rest, rest_at) = match text.find('|') {
        Some(bar) => (&text[..bar], Some(&text[bar + 1..]), bar + 1),
        None => (text, None, text.len()),
    };
    let source = source.trim();
    if source.is_empty() {
        return Err(OptionError {
            position: 1,
            kind: OptionErrorKind::EmptySource,
        });
    }
    let options = match rest {
        Some(rest) => parse_options(rest, char_pos(text, rest_at))?,
        None => FieldOptions::default(),
    };
    Ok(FieldMapping {
        source: source.to_owned(),
        options,
    })
}

/// Parses the option list after the pipe; `base` is the 1-based character
/// position of its first character in the whole mapping.
fn parse_options(list: &str, base: usize) -> Result<FieldOptions, OptionError> {
    let mut out = FieldOptions::default();
    let mut case: Option<char> = None;
    let mut seen_flags: Vec<char> = Vec::new();
    for (start, raw) in split_options(list) {
        let lead = raw.len() - raw.trim_start().len();
        let opt = raw.trim();
        let position = base + list[..start + lead].chars().count();
        let err = |kind| OptionError { position, kind };
        if opt.is_empty() {
            return Err(err(OptionErrorKind::EmptyOption));
        }
        let first = opt.chars().next().unwrap_or(' ');
        if first == 'p' && opt.len() > 1 {
            out.transforms.push(parse_affix(opt).map_err(err)?);
            continue;
        }
        if opt.chars().count() != 1 {
            return Err(err(OptionErrorKind::Unknown(opt.to_owned())));
        }
        if first == 'p' {
            return Err(err(OptionErrorKind::AffixSyntax));
        }
        if seen_flags.contains(&first) {
            return Err(err(OptionErrorKind::Duplicate(first)));
        }
        match first {
            'a' => out.address_link = true,
            'i' => out.invisible_in_caller = true,
            'h' => out.transforms.push(Transform::Hash),
            'l' | 'm' | 'u' => {
                if let Some(other) = case {
                    return Err(err(OptionErrorKind::ConflictingCase(other, first)));
                }
                case = Some(first);
                out.transforms.push(match first {
                    'l' => Transform::Lower,
                    'm' => Transform::Capitalise,
                    _ => Transform::Upper,
                });
            }
            _ => return Err(err(OptionErrorKind::Unknown(opt.to_owned()))),
        }
        seen_flags.push(first);
    }
    Ok(out)
}

/// `p::template` or `p::template::regex`.
fn parse_affix(opt: &str) -> Result<Transform, OptionErrorKind> {
    let body = opt
        .get(1..)
        .and_then(|r| r.strip_prefix("::"))
        .ok_or(OptionErrorKind::AffixSyntax)?;
    let (template, regex) = match body.find("::") {
        Some(at) => (&body[..at], Some(&body[at + 2..])),
        None => (body, None),
    };
    if !template.contains(PLACEHOLDER) {
        return Err(OptionErrorKind::MissingPlaceholder);
    }
    let condition = match regex.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Some(compile_regex(r)?),
        None => None,
    };
    Ok(Transform::Affix {
        template: template.to_owned(),
        condition,
    })
}

/// Compiles a bounded regular expression (linear-time engine, size limit).
fn compile_regex(pattern: &str) -> Result<Regex, OptionErrorKind> {
    if pattern.len() > MAX_REGEX_LEN {
        return Err(OptionErrorKind::RegexTooLong);
    }
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| OptionErrorKind::InvalidRegex(e.to_string()))
}

/// Splits at commas outside `(…)`, `{…}`, `[…]` and escapes; yields the
/// byte offset of each piece and the piece.
fn split_options(list: &str) -> Vec<(usize, &str)> {
    let mut pieces = Vec::new();
    let (mut depth, mut in_class, mut escaped) = (0usize, false, false);
    let mut start = 0;
    for (i, c) in list.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '(' | '{' if !in_class => depth += 1,
            ')' | '}' if !in_class => depth = depth.saturating_sub(1),
            ',' if depth == 0 && !in_class => {
                pieces.push((start, &list[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push((start, &list[start..]));
    pieces
}

/// 1-based character position of byte offset `byte` in `text`.
fn char_pos(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].chars().count() + 1
}

impl FieldOptions {
    /// Applies the transformations in order.
    pub fn apply<'a>(&self, value: &'a str) -> Cow<'a, str> {
        let mut value = Cow::Borrowed(value);
        for t in &self.transforms {
            value = Cow::Owned(t.apply(&value).into_owned());
        }
        value
    }
}

impl Transform {
    /// Applies this transformation.
    pub fn apply<'a>(&self, value: &'a str) -> Cow<'a, str> {
        match self {
            Self::Hash => {
                let digest = Sha256::digest(value.as_bytes());
                let mut hex = String::with_capacity(64);
                for b in digest {
                    hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
                    hex.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
                }
                Cow::Owned(hex)
            }
            Self::Lower => Cow::Owned(value.to_lowercase()),
            Self::Upper => Cow::Owned(value.to_uppercase()),
            Self::Capitalise => {
                let mut chars = value.chars();
                match chars.next() {
                    Some(first) => {
                        let mut out: String = first.to_uppercase().collect();
                        out.push_str(&chars.as_str().to_lowercase());
                        Cow::Owned(out)
                    }
                    None => Cow::Borrowed(value),
                }
            }
            Self::Affix {
                template,
                condition,
            } => {
                if condition.as_ref().is_none_or(|r| r.is_match(value)) {
                    Cow::Owned(template.replace(PLACEHOLDER, value))
                } else {
                    Cow::Borrowed(value)
                }
            }
        }
    }
}

/// The link of an address field (option `a`): `{0}` in MapServiceURL is
/// replaced by the percent-encoded address, or the address is appended.
pub fn address_link(map_service_url: &str, address: &str) -> String {
    let mut encoded = String::with_capacity(address.len() * 3);
    for b in address.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push('%');
            encoded.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            encoded.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        }
    }
    if map_service_url.contains(PLACEHOLDER) {
        map_service_url.replace(PLACEHOLDER, &encoded)
    } else {
        format!("{map_service_url}{encoded}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(spec: &str, value: &str) -> String {
        parse_mapping(spec)
            .unwrap()
            .options
            .apply(value)
            .into_owned()
    }

    #[test]
    fn source_only_and_trimmed() {
        let m = parse_mapping("  Surname ").unwrap();
        assert_eq!(m.source, "Surname");
        assert!(m.options.transforms.is_empty());
        assert!(!m.options.address_link && !m.options.invisible_in_caller);
    }

    #[test]
    fn every_flag_option() {
        assert_eq!(apply("n|l", "ÉLODIE Dupont"), "élodie dupont");
        assert_eq!(apply("n|u", "élodie"), "ÉLODIE");
        assert_eq!(apply("n|m", "éLODIE dUPONT"), "Élodie dupont");
        assert_eq!(
            parse_mapping("n|I").unwrap_err().kind,
            OptionErrorKind::Unknown("I".into())
        );
        assert_eq!(
            apply("n|h", "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let a = parse_mapping("Street | a").unwrap();
        assert!(a.options.address_link && a.options.transforms.is_empty());
        let i = parse_mapping("Street|i").unwrap();
        assert!(i.options.invisible_in_caller);
    }

    #[test]
    fn affix_with_and_without_regex() {
        assert_eq!(apply(r"PhoneNumber|p::9{0}::^[0-9]{4}$", "4594"), "94594");
        assert_eq!(
            apply(r"PhoneNumber|p::9{0}::^[0-9]{4}$", "0601020304"),
            "0601020304"
        );
        assert_eq!(apply("x|p::<{0}>", "v"), "<v>");
        assert_eq!(apply("x|p::{0}-{0}::", "v"), "v-v");
    }

    #[test]
    fn combinations_apply_in_written_order() {
        // The guide's example: hash, upper case, then the affix (the hash in
        // upper case does not match a 4-digit number, so no affix).
        let m = parse_mapping(r"Surname | h, u,p::9{0}::^[0-9]{4}$").unwrap();
        assert_eq!(m.source, "Surname");
        assert_eq!(m.options.transforms.len(), 3);
        let out = m.options.apply("x");
        assert_eq!(out.len(), 64);
        assert!(
            out.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
        assert_eq!(apply("n|p::{0}x,u", "ab"), "ABX");
        assert_eq!(apply("n|u,p::{0}x", "ab"), "ABx");
        assert_eq!(apply(r"n|p::+{0}::^\d{2,4}$, a, i", "123"), "+123");
        let m = parse_mapping(r"n|p::+{0}::^\d{2,4}$, a, i").unwrap();
        assert!(m.options.address_link && m.options.invisible_in_caller);
    }

    #[test]
    fn errors_name_the_option_and_position() {
        let e = parse_mapping("Name|u,x").unwrap_err();
        assert_eq!(e.kind, OptionErrorKind::Unknown("x".into()));
        assert_eq!(e.position, 8);
        let e = parse_mapping("Name| u, l").unwrap_err();
        assert_eq!(e.kind, OptionErrorKind::ConflictingCase('u', 'l'));
        assert_eq!(e.position, 10);
        assert_eq!(
            parse_mapping("N|h,h").unwrap_err().kind,
            OptionErrorKind::Duplicate('h')
        );
        assert_eq!(
            parse_mapping("N|a,,u").unwrap_err().kind,
            OptionErrorKind::EmptyOption
        );
        assert_eq!(
            parse_mapping("N|u,").unwrap_err().kind,
            OptionErrorKind::EmptyOption
        );
        assert_eq!(
            parse_mapping(" | u").unwrap_err().kind,
            OptionErrorKind::EmptySource
        );
        assert_eq!(
            parse_mapping("N|p").unwrap_err().kind,
            OptionErrorKind::AffixSyntax
        );
        assert_eq!(
            parse_mapping("N|p:9{0}").unwrap_err().kind,
            OptionErrorKind::AffixSyntax
        );
        assert_eq!(
            parse_mapping("N|p::9").unwrap_err().kind,
            OptionErrorKind::MissingPlaceholder
        );
        assert!(matches!(
            parse_mapping("N|p::{0}::(").unwrap_err().kind,
            OptionErrorKind::InvalidRegex(_)
        ));
        let long = format!("N|p::{{0}}::{}", "a".repeat(MAX_REGEX_LEN + 1));
        assert_eq!(
            parse_mapping(&long).unwrap_err().kind,
            OptionErrorKind::RegexTooLong
        );
        // A regex too big once compiled is refused, not built.
        assert!(matches!(
            parse_mapping(r"N|p::{0}::\w{1000}\w{1000}")
                .unwrap_err()
                .kind,
            OptionErrorKind::InvalidRegex(_)
        ));
        let text = parse_mapping("Name|u,x").unwrap_err().to_string();
        assert!(text.contains("unknown option `x`") && text.contains("position 8"));
    }

    #[test]
    fn address_link_encodes() {
        assert_eq!(
            address_link("https://maps.example/?q={0}", "1 rue d'Été"),
            "https://maps.example/?q=1%20rue%20d%27%C3%89t%C3%A9"
        );
        assert_eq!(address_link("https://m/?q=", "a b"), "https://m/?q=a%20b");
    }
}
