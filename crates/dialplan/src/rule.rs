//! Specific rules: the stored form ([`SpecificRule`]) and the compiled form
//! used to transform numbers.

use fancy_regex::{ByteSet, Regex, RegexInput, RegexOptionsBuilder};
use serde::{Deserialize, Serialize};

use crate::clean;
use crate::dotnet;
use crate::error::RuleError;
use crate::params::GlobalParameters;
use crate::placeholder::{self, Mode};
use crate::template::{self, Piece};

/// Longest pattern accepted, in bytes.
pub const MAX_PATTERN_LEN: usize = 512;
/// Longest value accepted, in bytes.
pub const MAX_VALUE_LEN: usize = 256;
/// Backtracking steps allowed to one regular-expression rule on one number.
pub const BACKTRACK_LIMIT: usize = 50_000;
/// Size limit of the compiled automata of one regular expression, in bytes.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A specific rule of a dialing plan, as the administrator writes it.
///
/// A pattern between square brackets is a regular expression (extended
/// rule, guide 5.3); otherwise it is a plain string searched at the
/// beginning of the number. Both may hold `[-Name-]` placeholders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SpecificRule {
    /// Rules are tried from the lowest priority number to the highest.
    pub priority: u32,
    /// Character string to be replaced, or `[regular expression]`.
    pub pattern: String,
    /// Character string which replaces the pattern.
    pub value: String,
}

impl SpecificRule {
    /// Builds a rule.
    pub fn new(priority: u32, pattern: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            priority,
            pattern: pattern.into(),
            value: value.into(),
        }
    }

    /// Whether the pattern is a regular expression (written between square brackets).
    pub fn is_extended(&self) -> bool {
        placeholder::is_regex_pattern(&self.pattern)
    }
}

/// How a compiled rule recognises a number.
#[derive(Clone, Debug)]
enum Matcher {
    /// Plain pattern: the number starts with this text.
    Prefix { pattern: String, value: String },
    /// Extended rule, anchored at the beginning of the number.
    Regex {
        regex: Regex,
        /// Bytes a match can start with, when known: a cheap first test.
        start: Option<ByteSet>,
        /// Bytes every match needs somewhere in the number: a second cheap test.
        required: ByteSet,
        value: Vec<Piece>,
    },
}

/// A rule ready to be applied.
#[derive(Clone, Debug)]
pub(crate) struct CompiledRule {
    /// Position in the plan's list of specific rules.
    pub(crate) index: usize,
    pub(crate) priority: u32,
    /// The value supplies the external prefix itself (starts with `[-ExternalPrefix-]`).
    pub(crate) supplies_external_prefix: bool,
    /// Pattern and value with placeholders replaced, for explanations.
    pub(crate) expanded: (String, String),
    matcher: Matcher,
}

/// A regular expression ran into its backtrack limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RunAway;

impl CompiledRule {
    pub(crate) fn compile(
        index: usize,
        rule: &SpecificRule,
        params: &GlobalParameters,
    ) -> Result<Self, RuleError> {
        if rule.pattern.len() > MAX_PATTERN_LEN {
            return Err(RuleError::PatternTooLong {
                len: rule.pattern.len(),
                max: MAX_PATTERN_LEN,
            });
        }
        if rule.value.len() > MAX_VALUE_LEN {
            return Err(RuleError::ValueTooLong {
                len: rule.value.len(),
                max: MAX_VALUE_LEN,
            });
        }
        let value = placeholder::expand(&rule.value, params, Mode::Literal)?;
        let expanded_value = value.clone();
        let (matcher, expanded_pattern) = if rule.is_extended() {
            let inner = &rule.pattern[1..rule.pattern.len() - 1];
            let expanded = placeholder::expand(inner, params, Mode::Regex)?;
            (compile_regex(&expanded, &value)?, format!("[{expanded}]"))
        } else {
            let pattern = clean::remove_separators(&placeholder::expand(
                &rule.pattern,
                params,
                Mode::Literal,
            )?)
            .into_owned();
            if pattern.is_empty() {
                return Err(RuleError::EmptyPattern);
            }
            let shown = pattern.clone();
            (Matcher::Prefix { pattern, value }, shown)
        };
        Ok(Self {
            index,
            priority: rule.priority,
            supplies_external_prefix: placeholder::supplies_external_prefix(&rule.value),
            expanded: (expanded_pattern, expanded_value),
            matcher,
        })
    }

    /// Whether a number starting with byte `b` may match (a plain pattern
    /// starts with it, or an expression may start with it).
    pub(crate) fn may_start_with(&self, b: u8) -> bool {
        match &self.matcher {
            Matcher::Prefix { pattern, .. } => pattern.as_bytes().first() == Some(&b),
            Matcher::Regex { start, .. } => start.as_ref().is_none_or(|s| s.contains(b)),
        }
    }

    /// Whether [`CompiledRule::apply`] reads its `present` argument.
    pub(crate) fn is_extended(&self) -> bool {
        matches!(self.matcher, Matcher::Regex { .. })
    }

    /// If the rule applies to `number`, writes the transformed number to
    /// `out` (cleared first) and returns `true`. `present` holds the bytes of
    /// `number` (see [`bytes_of`]).
    pub(crate) fn apply(
        &self,
        number: &str,
        present: &ByteSet,
        out: &mut String,
    ) -> Result<bool, RunAway> {
        match &self.matcher {
            Matcher::Prefix { pattern, value } => {
                let Some(rest) = number.strip_prefix(pattern.as_str()) else {
                    return Ok(false);
                };
                out.clear();
                out.push_str(value);
                out.push_str(rest);
                Ok(true)
            }
            Matcher::Regex {
                regex,
                start,
                required,
                value,
            } => {
                if !required.is_subset(present) {
                    return Ok(false);
                }
                if let Some(start) = start {
                    match number.as_bytes().first() {
                        Some(b) if start.contains(*b) => {}
                        _ => return Ok(false),
                    }
                }
                // A match test first: most numbers do not match, and it is
                // much cheaper than finding the capture groups.
                if !regex
                    .is_match_input(RegexInput::new(number).anchored(true))
                    .map_err(|_| RunAway)?
                {
                    return Ok(false);
                }
                let found = regex
                    .captures_input(RegexInput::new(number).anchored(true))
                    .map_err(|_| RunAway)?;
                let Some(caps) = found else {
                    return Ok(false);
                };
                let end = caps.get(0).map_or(0, |m| m.end());
                out.clear();
                for piece in value {
                    match piece {
                        Piece::Literal(text) => out.push_str(text),
                        Piece::Group(i) => {
                            if let Some(m) = caps.get(*i) {
                                out.push_str(m.as_str());
                            }
                        }
                        Piece::Before => {}
                        Piece::After => out.push_str(&number[end..]),
                        Piece::Input => out.push_str(number),
                    }
                }
                out.push_str(&number[end..]);
                Ok(true)
            }
        }
    }
}

fn compile_regex(dotnet_pattern: &str, value: &str) -> Result<Matcher, RuleError> {
    let translated = dotnet::translate(dotnet_pattern)?;
    let mut options = RegexOptionsBuilder::new();
    options
        .backtrack_limit(BACKTRACK_LIMIT)
        .delegate_size_limit(REGEX_SIZE_LIMIT)
        .delegate_dfa_size_limit(REGEX_SIZE_LIMIT);
    let invalid = |e: fancy_regex::Error| RuleError::InvalidRegex {
        message: e.to_string(),
    };
    let regex = options.build(translated.pattern.clone()).map_err(invalid)?;
    let start = options.start_bytes(&translated.pattern).ok().flatten();
    let required = options
        .required_bytes(&translated.pattern)
        .unwrap_or_default();
    let names: Vec<Option<String>> = regex
        .capture_names()
        .skip(1)
        .map(|n| n.map(str::to_owned))
        .collect();
    let value = template::parse(value, names.len(), &names)?;
    Ok(Matcher::Regex {
        regex,
        start,
        required,
        value,
    })
}

/// The set of bytes of `number`, for the regular-expression prefilter.
pub(crate) fn bytes_of(number: &str) -> ByteSet {
    let mut set = ByteSet::default();
    for b in number.bytes() {
        set.insert(b);
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(pattern: &str, value: &str) -> CompiledRule {
        CompiledRule::compile(
            0,
            &SpecificRule::new(1, pattern, value),
            &GlobalParameters::default(),
        )
        .unwrap()
    }

    fn apply(rule: &CompiledRule, number: &str) -> Option<String> {
        let mut out = String::new();
        rule.apply(number, &bytes_of(number), &mut out)
            .unwrap()
            .then_some(out)
    }

    #[test]
    fn plain_rules_match_at_the_beginning_only() {
        let r = compiled("3611", "03611");
        assert_eq!(apply(&r, "3611").as_deref(), Some("03611"));
        assert_eq!(apply(&r, "13611"), None);
        let r = compiled("+33 (0", "[-ExternalPrefix-][-NationalPrefix-]");
        assert!(r.supplies_external_prefix);
        assert_eq!(apply(&r, "+33(0)1").as_deref(), Some("00)1"));
    }

    #[test]
    fn the_guides_extended_rule() {
        let r = compiled(
            r"[(\+|[-InternationalPrefix-])?([^\(]+)\(0\)]",
            "[-ExternalPrefix-][-InternationalPrefix-]$2",
        );
        assert_eq!(
            apply(&r, "+42(0)141906666").as_deref(),
            Some("00042141906666")
        );
        assert_eq!(
            apply(&r, "0042(0)141906666").as_deref(),
            Some("00042141906666")
        );
        assert_eq!(
            apply(&r, "42(0)141906666").as_deref(),
            Some("00042141906666")
        );
        assert_eq!(apply(&r, "+42141906666"), None);
    }

    #[test]
    fn regex_rules_are_anchored() {
        let r = compiled(r"[\d\d]", "x");
        assert_eq!(apply(&r, "a12"), None);
        assert_eq!(apply(&r, "123").as_deref(), Some("x3"));
    }

    #[test]
    fn bad_rules_are_refused() {
        let p = GlobalParameters::default();
        let err = |pat: &str, val: &str| {
            CompiledRule::compile(0, &SpecificRule::new(1, pat, val), &p).unwrap_err()
        };
        assert_eq!(err("", "1"), RuleError::EmptyPattern);
        assert!(matches!(err("[(1)]", "$2"), RuleError::MissingGroup { .. }));
        assert!(matches!(err("[(]", "1"), RuleError::InvalidRegex { .. }));
        assert!(matches!(
            err("[(?<a-b>1)]", "1"),
            RuleError::UnsupportedConstruct { .. }
        ));
        assert!(matches!(
            err("[-Foo-]1", "1"),
            RuleError::UnknownPlaceholder { .. }
        ));
        assert!(matches!(
            err(&"1".repeat(MAX_PATTERN_LEN + 1), "1"),
            RuleError::PatternTooLong { .. }
        ));
    }
}
