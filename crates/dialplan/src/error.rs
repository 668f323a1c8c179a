//! Typed errors: plan validation ([`PlanError`], [`RuleError`]) and run-time
//! failures of a transformation ([`TransformError`]).

use thiserror::Error;

/// Why a dialing plan (or a plan document) was refused.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PlanError {
    /// The document's `version` is not one this build reads.
    #[error("unsupported plan document version {found} (this build reads version {supported})")]
    UnsupportedVersion {
        /// Version found in the document.
        found: u32,
        /// Version this build reads and writes.
        supported: u32,
    },
    /// The document is not valid JSON or does not have the documented shape.
    #[error("invalid plan document: {0}")]
    Document(String),
    /// A global parameter has a value the engine cannot use.
    #[error("global parameter {name}: {reason}")]
    Parameter {
        /// Field name of the parameter, as in the plan document.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The plan holds more specific rules than allowed.
    #[error("too many specific rules: {count} (at most {max})")]
    TooManyRules {
        /// Rules in the plan.
        count: usize,
        /// Upper bound, [`crate::MAX_RULES`].
        max: usize,
    },
    /// A specific rule cannot be honoured.
    #[error("rule at index {index} (priority {priority}): {error}")]
    Rule {
        /// Position of the rule in the plan's list of specific rules (from 0).
        index: usize,
        /// Priority of the rule.
        priority: u32,
        /// What is wrong with the rule.
        #[source]
        error: RuleError,
    },
}

/// Why one specific rule was refused when the plan was compiled.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum RuleError {
    /// The pattern is empty (a plain empty pattern would match every number).
    #[error("the pattern is empty")]
    EmptyPattern,
    /// The pattern is longer than [`crate::MAX_PATTERN_LEN`].
    #[error("the pattern is {len} bytes long (at most {max})")]
    PatternTooLong {
        /// Length of the pattern in bytes.
        len: usize,
        /// Upper bound.
        max: usize,
    },
    /// The value is longer than [`crate::MAX_VALUE_LEN`].
    #[error("the value is {len} bytes long (at most {max})")]
    ValueTooLong {
        /// Length of the value in bytes.
        len: usize,
        /// Upper bound.
        max: usize,
    },
    /// A `[-Name-]` placeholder names no global parameter (plain patterns and values).
    #[error("unknown placeholder [-{name}-]")]
    UnknownPlaceholder {
        /// The name between `[-` and `-]`.
        name: String,
    },
    /// The regular expression uses a construct that cannot be honoured with
    /// .NET semantics (see the crate documentation for the list).
    #[error(
        "the regular expression uses {construct} at position {position}, which is refused: {reason}"
    )]
    UnsupportedConstruct {
        /// The construct as written, e.g. `(?<a-b>`.
        construct: String,
        /// Byte offset in the expression (between the outer square brackets,
        /// placeholders replaced).
        position: usize,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The regular expression engine refused the expression.
    #[error("invalid regular expression: {message}")]
    InvalidRegex {
        /// Message of the regular expression engine.
        message: String,
    },
    /// The value refers to a capture group the pattern does not have.
    #[error("the value refers to {reference}, but the pattern has {groups} capture group(s)")]
    MissingGroup {
        /// The reference as written, e.g. `$3` or `${area}`.
        reference: String,
        /// Number of capture groups in the pattern.
        groups: usize,
    },
}

/// Why a number could not be transformed.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum TransformError {
    /// The number is longer than [`crate::MAX_NUMBER_LEN`] bytes.
    #[error("the number is {len} bytes long (at most {max})")]
    InputTooLong {
        /// Length of the input in bytes.
        len: usize,
        /// Upper bound.
        max: usize,
    },
    /// Nothing dialable is left (empty input, or no digit after clean-up).
    #[error("nothing to dial: the number is empty")]
    EmptyNumber,
    /// A regular-expression rule ran away and was stopped by the backtrack limit.
    #[error(
        "rule at index {index} (priority {priority}): the regular expression exceeded its backtrack limit and was stopped"
    )]
    RegexLimit {
        /// Position of the rule in the plan's list of specific rules.
        index: usize,
        /// Priority of the rule.
        priority: u32,
    },
}
