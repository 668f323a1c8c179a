//! Dialing transformation (guide 5.2): the number sent to the PBX.

use fancy_regex::ByteSet;
use serde::Serialize;

use crate::clean::{keep_dialable, remove_separators};
use crate::error::TransformError;
use crate::explain::{Action, Recorder, Silent, Step, step};
use crate::plan::{CompiledPlan, MAX_NUMBER_LEN};
use crate::rule::{RunAway, bytes_of};

/// A dialing transformation with its explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DialResult {
    /// The number as given.
    pub input: String,
    /// The number to send to the PBX, when the transformation succeeded.
    pub number: Option<String>,
    /// Why there is no number.
    #[serde(serialize_with = "crate::report::display_opt")]
    pub error: Option<TransformError>,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

impl CompiledPlan {
    /// Transforms a number to dial (fast path, no explanation).
    ///
    /// ```
    /// let plan = twp_dialplan::DialPlan::default().compile().unwrap();
    /// assert_eq!(plan.dial("+33 1 55 17 18 89").unwrap(), "00155171889");
    /// assert_eq!(plan.dial("+3912334477").unwrap(), "0003912334477");
    /// ```
    pub fn dial(&self, number: &str) -> Result<String, TransformError> {
        let mut out = String::new();
        self.dial_into(number, &mut out)?;
        Ok(out)
    }

    /// Like [`CompiledPlan::dial`], writing into `out` (cleared first) so a
    /// caller dialing many numbers can reuse one buffer.
    pub fn dial_into(&self, number: &str, out: &mut String) -> Result<(), TransformError> {
        self.dial_with(number, out, &mut Silent)
    }

    /// Transforms a number to dial and explains each step.
    pub fn dial_explained(&self, number: &str) -> DialResult {
        let mut steps = Vec::new();
        let mut out = String::new();
        let result = self.dial_with(number, &mut out, &mut steps);
        DialResult {
            input: number.to_owned(),
            number: result.is_ok().then_some(out),
            error: result.err(),
            steps,
        }
    }

    fn dial_with<R: Recorder>(
        &self,
        input: &str,
        out: &mut String,
        rec: &mut R,
    ) -> Result<(), TransformError> {
        out.clear();
        if input.len() > MAX_NUMBER_LEN {
            rec.record(|| {
                step(
                    Action::TooLong {
                        max: MAX_NUMBER_LEN,
                    },
                    "",
                )
            });
            return Err(TransformError::InputTooLong {
                len: input.len(),
                max: MAX_NUMBER_LEN,
            });
        }
        let number = remove_separators(input);
        if number.len() != input.len() {
            rec.record(|| step(Action::SeparatorsRemoved, &number));
        }
        if number.is_empty() {
            rec.record(|| step(Action::Empty, ""));
            return Err(TransformError::EmptyNumber);
        }
        let starts_with_plus = number.starts_with('+');

        // First rule that applies, from the lowest priority number.
        let mut transformed = String::new();
        let mut applied = None;
        let mut present = None;
        let first = number.as_bytes().first().copied().unwrap_or_default();
        for rule in self.candidates(first) {
            let present = match rule.is_extended() {
                true => *present.get_or_insert_with(|| bytes_of(&number)),
                false => ByteSet::default(),
            };
            match rule.apply(&number, &present, &mut transformed) {
                Ok(true) => {
                    applied = Some(rule);
                    break;
                }
                Ok(false) => {}
                Err(RunAway) => {
                    rec.record(|| {
                        step(
                            Action::RuleStopped {
                                rule: self.rule_ref(rule),
                            },
                            &number,
                        )
                    });
                    return Err(TransformError::RegexLimit {
                        index: rule.index,
                        priority: rule.priority,
                    });
                }
            }
        }
        let before_cleanup: &str = match applied {
            Some(rule) => {
                rec.record(|| {
                    step(
                        Action::RuleApplied {
                            rule: self.rule_ref(rule),
                        },
                        &transformed,
                    )
                });
                &transformed
            }
            None => {
                rec.record(|| step(Action::NoRuleApplied, &number));
                &number
            }
        };

        keep_dialable(before_cleanup, out);
        if out.len() != before_cleanup.len() {
            rec.record(|| step(Action::NonNumericRemoved, out));
        }
        if out.is_empty() {
            return Err(TransformError::EmptyNumber);
        }
        self.external_prefix(
            out,
            starts_with_plus,
            applied.map(|r| r.supplies_external_prefix),
            rec,
        );
        Ok(())
    }

    /// Adds the external prefix where guide 5.2 says so. `applied` is `None`
    /// when no rule applied, else whether the rule's value supplies the prefix.
    fn external_prefix<R: Recorder>(
        &self,
        out: &mut String,
        starts_with_plus: bool,
        applied: Option<bool>,
        rec: &mut R,
    ) {
        let params = self.parameters();
        let prefix = params.external_prefix.as_str();
        let needed: Result<&str, &str> = match applied {
            Some(_) if !starts_with_plus => {
                Err("a rule applied to a number not starting with +: only the transformation")
            }
            Some(true) => Err("the rule's value starts with [-ExternalPrefix-]"),
            Some(false) => Ok("the number started with + and a rule applied"),
            // `out` holds ASCII only (digits, `+`, `#`, `*`): bytes are characters.
            None if out.len() > params.internal_length => {
                Ok("no rule applies and the number is longer than the internal length")
            }
            None => Err("no rule applies and the number is not longer than the internal length"),
        };
        match needed {
            Ok(reason) if !prefix.is_empty() => {
                out.insert_str(0, prefix);
                rec.record(|| {
                    step(
                        Action::ExternalPrefixAdded {
                            reason: reason.to_owned(),
                        },
                        out,
                    )
                });
            }
            Ok(_) => rec.record(|| {
                step(
                    Action::ExternalPrefixNotAdded {
                        reason: "the external prefix is empty".to_owned(),
                    },
                    out,
                )
            }),
            Err(reason) => rec.record(|| {
                step(
                    Action::ExternalPrefixNotAdded {
                        reason: reason.to_owned(),
                    },
                    out,
                )
            }),
        }
    }
}
