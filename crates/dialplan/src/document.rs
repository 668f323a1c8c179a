//! The plan document: JSON export and import of a dialing plan.

use serde::{Deserialize, Serialize};

use crate::error::PlanError;
use crate::params::GlobalParameters;
use crate::plan::{CompiledPlan, DialPlan};
use crate::rule::SpecificRule;

/// Version of the plan document this build reads and writes.
pub const PLAN_DOCUMENT_VERSION: u32 = 1;

/// The JSON document of a dialing plan. Field names are stable and camelCase:
///
/// ```json
/// {
///   "version": 1,
///   "globalParameters": {
///     "internationalPrefix": "00",
///     "localCountryPrefix": "33",
///     "externalPrefix": "0",
///     "nationalPrefix": "0",
///     "add": "",
///     "remove": "",
///     "internalLength": 4,
///     "internalReverseLength": 9
///   },
///   "specificRules": [
///     { "priority": 10, "pattern": "+[-LocalCountryPrefix-]([-NationalPrefix-]",
///       "value": "[-ExternalPrefix-][-NationalPrefix-]" }
///   ]
/// }
/// ```
///
/// `nationalPrefix` (default `"0"`), `add` and `remove` (default `""`) may be
/// omitted; unknown fields are refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanDocument {
    /// Must be [`PLAN_DOCUMENT_VERSION`].
    pub version: u32,
    /// Global parameters.
    pub global_parameters: GlobalParameters,
    /// Specific rules, standard ones included.
    pub specific_rules: Vec<SpecificRule>,
}

impl From<DialPlan> for PlanDocument {
    fn from(plan: DialPlan) -> Self {
        Self {
            version: PLAN_DOCUMENT_VERSION,
            global_parameters: plan.global_parameters,
            specific_rules: plan.specific_rules,
        }
    }
}

impl TryFrom<PlanDocument> for DialPlan {
    type Error = PlanError;

    /// Checks the version only; [`DialPlan::compile`] validates the rest.
    fn try_from(doc: PlanDocument) -> Result<Self, PlanError> {
        if doc.version != PLAN_DOCUMENT_VERSION {
            return Err(PlanError::UnsupportedVersion {
                found: doc.version,
                supported: PLAN_DOCUMENT_VERSION,
            });
        }
        Ok(Self {
            global_parameters: doc.global_parameters,
            specific_rules: doc.specific_rules,
        })
    }
}

impl DialPlan {
    /// Exports the plan as a pretty-printed JSON plan document.
    pub fn to_json(&self) -> String {
        // Serialising plain strings and integers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Imports a JSON plan document and validates it (version, parameters,
    /// every rule). The plan is returned compiled; [`CompiledPlan::plan`]
    /// gives the document's plan back.
    pub fn from_json(json: &str) -> Result<CompiledPlan, PlanError> {
        let doc: PlanDocument =
            serde_json::from_str(json).map_err(|e| PlanError::Document(e.to_string()))?;
        DialPlan::try_from(doc)?.compile()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let plan = DialPlan::default().with_rule(30, r"[(\+|00)?(\d+)]", "$2");
        let json = plan.to_json();
        assert!(json.contains("\"version\": 1"));
        assert!(json.contains("\"internationalPrefix\": \"00\""));
        assert!(json.contains("\"internalReverseLength\": 9"));
        assert!(json.contains("\"specificRules\""));
        let back = DialPlan::from_json(&json).unwrap();
        assert_eq!(back.plan(), &plan);
    }

    #[test]
    fn import_validates() {
        let json = r#"{"version": 2, "globalParameters": {}, "specificRules": []}"#;
        assert!(matches!(
            DialPlan::from_json(json),
            Err(PlanError::Document(_))
        ));
        let mut doc = PlanDocument::from(DialPlan::default());
        doc.version = 2;
        let json = serde_json::to_string(&doc).unwrap();
        assert_eq!(
            DialPlan::from_json(&json).unwrap_err(),
            PlanError::UnsupportedVersion {
                found: 2,
                supported: 1
            }
        );
        let json = DialPlan::default().with_rule(5, "[(]", "1").to_json();
        assert!(matches!(
            DialPlan::from_json(&json),
            Err(PlanError::Rule { priority: 5, .. })
        ));
        let json = r#"{"version": 1, "globalParameters": {"internationalPrefix": "00",
            "localCountryPrefix": "33", "externalPrefix": "0", "internalLength": 4,
            "internalReverseLength": 9, "extra": 1}, "specificRules": []}"#;
        assert!(matches!(
            DialPlan::from_json(json),
            Err(PlanError::Document(_))
        ));
    }

    #[test]
    fn optional_fields_default() {
        let json = r#"{"version": 1, "globalParameters": {"internationalPrefix": "00",
            "localCountryPrefix": "33", "externalPrefix": "0", "internalLength": 4,
            "internalReverseLength": 9}, "specificRules": []}"#;
        let plan = DialPlan::from_json(json).unwrap();
        assert_eq!(plan.parameters().national_prefix, "0");
        assert_eq!(plan.parameters().add, "");
    }
}
