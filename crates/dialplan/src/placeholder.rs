//! `[-Name-]` placeholders (guide 5.3): replaced by the value of the global
//! parameter of that name, in patterns and values.

use crate::error::RuleError;
use crate::params::GlobalParameters;

/// How a text containing placeholders is expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Literal text (plain patterns, values): an unknown name is an error.
    Literal,
    /// Regular expression: values are escaped; an unknown `[-…-]` is left
    /// alone because it is a legitimate character class.
    Regex,
}

/// Replaces every known `[-Name-]` of `text` by its value.
pub(crate) fn expand(
    text: &str,
    params: &GlobalParameters,
    mode: Mode,
) -> Result<String, RuleError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("[-") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("-]") {
            Some(end) if is_name(&after[..end]) => {
                let name = &after[..end];
                match (params.placeholder(name), mode) {
                    (Some(value), Mode::Literal) => out.push_str(&value),
                    (Some(value), Mode::Regex) => out.push_str(&fancy_regex::escape(&value)),
                    (None, Mode::Literal) => {
                        return Err(RuleError::UnknownPlaceholder {
                            name: name.to_owned(),
                        });
                    }
                    (None, Mode::Regex) => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            _ => {
                out.push_str("[-");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// A placeholder name is a non-empty run of ASCII letters.
fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic())
}

/// `[-Name-]` with a name known to the global parameters.
fn is_known_token(token: &str) -> bool {
    token
        .strip_prefix("[-")
        .and_then(|t| t.strip_suffix("-]"))
        .is_some_and(|name| GlobalParameters::default().placeholder(name).is_some())
}

/// Whether `pattern` is an extended rule: written between square brackets
/// whose opening and closing brackets are not those of a placeholder.
pub(crate) fn is_regex_pattern(pattern: &str) -> bool {
    if pattern.len() < 2 || !pattern.starts_with('[') || !pattern.ends_with(']') {
        return false;
    }
    let opens_placeholder = pattern
        .find("-]")
        .is_some_and(|end| is_known_token(&pattern[..end + 2]));
    let closes_placeholder = pattern
        .rfind("[-")
        .is_some_and(|start| is_known_token(&pattern[start..]));
    !opens_placeholder && !closes_placeholder
}

/// Whether a rule's value starts with the `[-ExternalPrefix-]` placeholder,
/// i.e. supplies the external prefix itself (guide 5.2, "if necessary").
pub(crate) fn supplies_external_prefix(value: &str) -> bool {
    value.starts_with("[-ExternalPrefix-]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_known_placeholders() {
        let p = GlobalParameters::default();
        assert_eq!(
            expand(
                "[-ExternalPrefix-][-InternationalPrefix-]$2",
                &p,
                Mode::Literal
            )
            .unwrap(),
            "000$2"
        );
        assert_eq!(
            expand("+[-LocalCountryPrefix-](0", &p, Mode::Literal).unwrap(),
            "+33(0"
        );
        assert_eq!(
            expand(
                "[-InternalLength-]/[-InternalReverseLength-]",
                &p,
                Mode::Literal
            )
            .unwrap(),
            "4/9"
        );
    }

    #[test]
    fn unknown_placeholder() {
        let p = GlobalParameters::default();
        assert_eq!(
            expand("[-Nope-]1", &p, Mode::Literal),
            Err(RuleError::UnknownPlaceholder {
                name: "Nope".into()
            })
        );
        assert_eq!(expand("[-Nope-]1", &p, Mode::Regex).unwrap(), "[-Nope-]1");
        assert_eq!(expand("[-1-]", &p, Mode::Literal).unwrap(), "[-1-]");
    }

    #[test]
    fn regex_or_plain() {
        assert!(is_regex_pattern(
            r"[(\+|[-InternationalPrefix-])?([^\(]+)\(0\)]"
        ));
        assert!(is_regex_pattern("[[-ExternalPrefix-]]"));
        assert!(is_regex_pattern("[-?1]"));
        assert!(!is_regex_pattern(
            "[-InternationalPrefix-][-LocalCountryPrefix-]"
        ));
        assert!(!is_regex_pattern("[-InternationalPrefix-]"));
        assert!(!is_regex_pattern("+33(0"));
        assert!(!is_regex_pattern("["));
    }
}
