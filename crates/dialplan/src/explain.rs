//! Explanations: the ordered steps of a transformation and which rule fired.

use std::fmt;

use serde::Serialize;

/// A rule as shown in an explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleRef {
    /// Position of the rule in the plan's list of specific rules (from 0).
    pub index: usize,
    /// Priority of the rule.
    pub priority: u32,
    /// Pattern as written in the plan.
    pub pattern: String,
    /// Value as written in the plan.
    pub value: String,
    /// Pattern with its placeholders replaced by the global parameters.
    pub expanded_pattern: String,
    /// Value with its placeholders replaced by the global parameters.
    pub expanded_value: String,
}

/// How a number was read when it was made canonical.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Form {
    /// Already international: `+` then the country code.
    International,
    /// International prefix then local country prefix (`0033…`).
    InternationalPrefixLocalCountry,
    /// External prefix then international prefix (`000…`).
    ExternalInternational,
    /// External prefix then national prefix (`00…` in France).
    ExternalNational,
    /// International prefix (`00…`).
    InternationalPrefix,
    /// National prefix (`0…` in France).
    National,
}

impl Form {
    fn describe(self) -> &'static str {
        match self {
            Form::International => "international form",
            Form::InternationalPrefixLocalCountry => {
                "international prefix + local country prefix: own country"
            }
            Form::ExternalInternational => "external prefix + international prefix",
            Form::ExternalNational => "external prefix + national prefix: own country",
            Form::InternationalPrefix => "international prefix",
            Form::National => "national prefix: own country",
        }
    }
}

/// What a step did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Action {
    /// White space and `.`, `-`, `/` removed.
    SeparatorsRemoved,
    /// A specific rule applied; the following rules were ignored.
    RuleApplied {
        /// The rule.
        rule: RuleRef,
    },
    /// No specific rule applies.
    NoRuleApplied,
    /// A regular-expression rule ran away and was stopped; nothing is dialed.
    RuleStopped {
        /// The rule.
        rule: RuleRef,
    },
    /// Standard rule: non-numerical characters deleted (leading `+`, `#`, `*` kept).
    NonNumericRemoved,
    /// The external prefix was added in front.
    ExternalPrefixAdded {
        /// Why.
        reason: String,
    },
    /// The number was left without external prefix.
    ExternalPrefixNotAdded {
        /// Why.
        reason: String,
    },
    /// Incoming number: the Remove characters were removed from its beginning.
    RemoveApplied {
        /// The Remove parameter.
        remove: String,
    },
    /// Incoming number: the Add characters were added at its beginning.
    AddApplied {
        /// The Add parameter.
        add: String,
    },
    /// Incoming number: Add and Remove not applied.
    AddRemoveSkipped {
        /// Why.
        reason: String,
    },
    /// `(0)` after the country code removed (trunk prefix written in
    /// parentheses), with the other non-numerical characters.
    TrunkPrefixRemoved,
    /// The number is internal (no longer than the internal length) and stays as is.
    Internal {
        /// The plan's internal length.
        internal_length: usize,
    },
    /// A facility code (`#` or `*` first) stays as is.
    Facility,
    /// The number was recognised in this form and written in E.164.
    Recognised {
        /// The form.
        form: Form,
    },
    /// The number cannot be made canonical; the look-up compares its last digits.
    Unresolved {
        /// Digits compared at look-up (internal reverse length).
        suffix: Option<String>,
    },
    /// Nothing usable in the input.
    Empty,
    /// Input longer than allowed.
    TooLong {
        /// Upper bound in bytes.
        max: usize,
    },
}

/// One step of an explanation: what was done, and the number after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// What was done.
    pub action: Action,
    /// The number after this step.
    pub number: String,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rule {} (priority {}) \"{}\" -> \"{}\"",
            self.index, self.priority, self.expanded_pattern, self.expanded_value
        )?;
        if self.pattern != self.expanded_pattern || self.value != self.expanded_value {
            write!(f, " (written \"{}\" -> \"{}\")", self.pattern, self.value)?;
        }
        Ok(())
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.action {
            Action::SeparatorsRemoved => write!(f, "separators removed"),
            Action::RuleApplied { rule } => write!(f, "{rule} applied"),
            Action::NoRuleApplied => write!(f, "no rule applies"),
            Action::RuleStopped { rule } => {
                write!(f, "{rule} stopped: backtrack limit exceeded")
            }
            Action::NonNumericRemoved => write!(f, "non-numerical characters deleted"),
            Action::ExternalPrefixAdded { reason } => {
                write!(f, "external prefix added ({reason})")
            }
            Action::ExternalPrefixNotAdded { reason } => {
                write!(f, "no external prefix ({reason})")
            }
            Action::RemoveApplied { remove } => write!(f, "Remove {remove:?} removed"),
            Action::AddApplied { add } => write!(f, "Add {add:?} added"),
            Action::AddRemoveSkipped { reason } => write!(f, "Add/Remove not applied ({reason})"),
            Action::TrunkPrefixRemoved => {
                write!(
                    f,
                    "trunk prefix in parentheses and non-numerical characters removed"
                )
            }
            Action::Internal { internal_length } => {
                write!(
                    f,
                    "internal number (at most {internal_length} digits), kept"
                )
            }
            Action::Facility => write!(f, "facility code, kept"),
            Action::Recognised { form } => write!(f, "{}, written in E.164", form.describe()),
            Action::Unresolved { suffix: Some(s) } => {
                write!(
                    f,
                    "cannot be made canonical; look-up compares the last digits {s}"
                )
            }
            Action::Unresolved { suffix: None } => write!(f, "cannot be made canonical"),
            Action::Empty => write!(f, "nothing usable in the number"),
            Action::TooLong { max } => write!(f, "longer than {max} bytes, refused"),
        }?;
        write!(f, ": {}", self.number)
    }
}

/// Receives steps; the fast path uses [`Silent`], which builds nothing.
pub(crate) trait Recorder {
    /// Whether steps are kept (lets callers skip work needed only for steps).
    const ACTIVE: bool;
    /// Records the step built by `step` (not called when inactive).
    fn record(&mut self, step: impl FnOnce() -> Step);
}

/// Keeps no step.
pub(crate) struct Silent;

impl Recorder for Silent {
    const ACTIVE: bool = false;
    #[inline(always)]
    fn record(&mut self, _step: impl FnOnce() -> Step) {}
}

impl Recorder for Vec<Step> {
    const ACTIVE: bool = true;
    fn record(&mut self, step: impl FnOnce() -> Step) {
        self.push(step());
    }
}

/// Shorthand to build a [`Step`].
pub(crate) fn step(action: Action, number: &str) -> Step {
    Step {
        action,
        number: number.to_owned(),
    }
}
