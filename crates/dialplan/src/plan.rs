//! A dialing plan: global parameters and specific rules, and its compiled form.

use crate::error::PlanError;
use crate::params::GlobalParameters;
use crate::rule::{CompiledRule, SpecificRule};
use crate::standard::standard_rules;

/// Most specific rules a plan may hold.
pub const MAX_RULES: usize = 1000;
/// Longest number accepted for a transformation, in bytes.
pub const MAX_NUMBER_LEN: usize = 128;

/// A domain's dialing plan as stored and edited: global parameters and
/// specific rules (standard rules included, since they are ordinary rules
/// the administrator may change).
///
/// It serialises as the plan document (see [`crate::PlanDocument`]); call
/// [`DialPlan::compile`] to validate it and get a plan that transforms numbers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "crate::PlanDocument", try_from = "crate::PlanDocument")]
pub struct DialPlan {
    /// Global parameters (left part of the guide's screen).
    pub global_parameters: GlobalParameters,
    /// Specific rules (right part), in the order the administrator sees them.
    pub specific_rules: Vec<SpecificRule>,
}

impl Default for DialPlan {
    /// The guide's French example parameters with the standard rules.
    fn default() -> Self {
        Self::new(GlobalParameters::default())
    }
}

impl DialPlan {
    /// A new plan with these parameters and the standard rules (guide 5.1).
    pub fn new(global_parameters: GlobalParameters) -> Self {
        Self {
            global_parameters,
            specific_rules: standard_rules(),
        }
    }

    /// Adds a specific rule (builder style).
    #[must_use]
    pub fn with_rule(mut self, priority: u32, pattern: &str, value: &str) -> Self {
        self.specific_rules
            .push(SpecificRule::new(priority, pattern, value));
        self
    }

    /// Validates the plan and compiles its rules. Errors name the parameter,
    /// or the rule (index and priority) and the construct that cannot be honoured.
    pub fn compile(&self) -> Result<CompiledPlan, PlanError> {
        self.global_parameters.validate()?;
        if self.specific_rules.len() > MAX_RULES {
            return Err(PlanError::TooManyRules {
                count: self.specific_rules.len(),
                max: MAX_RULES,
            });
        }
        let mut rules = self
            .specific_rules
            .iter()
            .enumerate()
            .map(|(index, rule)| {
                CompiledRule::compile(index, rule, &self.global_parameters).map_err(|error| {
                    PlanError::Rule {
                        index,
                        priority: rule.priority,
                        error,
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Stable: rules of equal priority keep the administrator's order.
        rules.sort_by_key(|r| r.priority);
        let by_first_byte = (0..=u8::MAX)
            .map(|b| {
                rules
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.may_start_with(b))
                    .map(|(i, _)| i)
                    .collect::<Vec<_>>()
                    .into_boxed_slice()
            })
            .collect();
        Ok(CompiledPlan {
            source: self.clone(),
            rules,
            by_first_byte,
        })
    }
}

/// A validated plan, ready to transform numbers. Cheap to share between
/// threads (`Send + Sync`); compile once per plan change.
#[derive(Clone, Debug)]
pub struct CompiledPlan {
    pub(crate) source: DialPlan,
    /// Sorted by priority.
    pub(crate) rules: Vec<CompiledRule>,
    /// For each first byte of a number, the positions in `rules` of the
    /// rules that may apply, in priority order (256 entries).
    by_first_byte: Vec<Box<[usize]>>,
}

impl CompiledPlan {
    /// The plan this was compiled from.
    pub fn plan(&self) -> &DialPlan {
        &self.source
    }

    /// The global parameters.
    pub fn parameters(&self) -> &GlobalParameters {
        &self.source.global_parameters
    }

    /// The rules that may apply to a number starting with `first`, in order.
    pub(crate) fn candidates(&self, first: u8) -> impl Iterator<Item = &CompiledRule> {
        self.by_first_byte
            .get(usize::from(first))
            .into_iter()
            .flat_map(|ids| ids.iter().filter_map(|&i| self.rules.get(i)))
    }

    /// The rule as shown in explanations.
    pub(crate) fn rule_ref(&self, rule: &CompiledRule) -> crate::RuleRef {
        let source = self.source.specific_rules.get(rule.index);
        crate::RuleRef {
            index: rule.index,
            priority: rule.priority,
            pattern: source.map(|r| r.pattern.clone()).unwrap_or_default(),
            value: source.map(|r| r.value.clone()).unwrap_or_default(),
            expanded_pattern: rule.expanded.0.clone(),
            expanded_value: rule.expanded.1.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RuleError;

    #[test]
    fn compiled_plans_are_shared_between_threads() {
        fn shareable<T: Send + Sync + Clone>() {}
        shareable::<CompiledPlan>();
    }

    #[test]
    fn the_default_plan_compiles() {
        let plan = DialPlan::default().compile().unwrap();
        assert_eq!(plan.rules.len(), standard_rules().len());
        assert!(
            plan.rules
                .windows(2)
                .all(|w| w[0].priority <= w[1].priority)
        );
    }

    #[test]
    fn errors_name_the_rule() {
        let plan = DialPlan::default().with_rule(30, "[(?<open-close>1)]", "2");
        let index = plan.specific_rules.len() - 1;
        match plan.compile() {
            Err(PlanError::Rule {
                index: i,
                priority: 30,
                error: RuleError::UnsupportedConstruct { construct, .. },
            }) => {
                assert_eq!(i, index);
                assert_eq!(construct, "(?<open-close>");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn too_many_rules() {
        let plan = DialPlan {
            specific_rules: vec![SpecificRule::new(1, "1", "1"); MAX_RULES + 1],
            ..DialPlan::default()
        };
        assert!(matches!(
            plan.compile(),
            Err(PlanError::TooManyRules { .. })
        ));
    }
}
