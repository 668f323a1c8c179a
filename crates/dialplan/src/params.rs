//! Global parameters of a dialing plan (left part of the guide's screen) and
//! their validation.

use serde::{Deserialize, Serialize};

use crate::error::PlanError;

/// Longest prefix accepted for the prefix parameters.
const MAX_PREFIX_LEN: usize = 8;
/// Longest Add or Remove string.
const MAX_ADD_REMOVE_LEN: usize = 16;
/// Largest internal length or internal reverse length.
const MAX_LENGTH: usize = 32;

/// The global parameters of a domain's dialing plan.
///
/// Field names follow the guide (chapter 5); `nationalPrefix` is the one
/// addition: the trunk prefix of the local country (`0` in France), which the
/// guide's standard rules write literally (`+33(0` → `00` is external prefix
/// `0` + national prefix `0`) and which the canonical form needs to recognise
/// `0155171889` as `+33155171889`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GlobalParameters {
    /// Prefix used for international calls, e.g. `00`.
    pub international_prefix: String,
    /// International prefix (country code) of the installation country, e.g. `33` for France.
    pub local_country_prefix: String,
    /// Prefix used to reach the public network from the PBX, e.g. `0`. May be empty.
    pub external_prefix: String,
    /// Trunk prefix of national numbers in the installation country, e.g. `0`. May be empty.
    #[serde(default = "default_national_prefix")]
    pub national_prefix: String,
    /// Characters added at the beginning of incoming external numbers (after Remove).
    #[serde(default)]
    pub add: String,
    /// Characters removed from the beginning of incoming external numbers, when present.
    #[serde(default)]
    pub remove: String,
    /// Maximum length of an internal phone number (the domain's numbering plan length, guide 3.1).
    pub internal_length: usize,
    /// Number of trailing digits compared when an incoming number cannot be made canonical (0: none).
    pub internal_reverse_length: usize,
}

fn default_national_prefix() -> String {
    "0".to_owned()
}

impl Default for GlobalParameters {
    /// The guide's French example: `00`, `33`, external prefix `0`, national
    /// prefix `0`, no Add or Remove, internal length 4, internal reverse length 9.
    fn default() -> Self {
        Self {
            international_prefix: "00".to_owned(),
            local_country_prefix: "33".to_owned(),
            external_prefix: "0".to_owned(),
            national_prefix: default_national_prefix(),
            add: String::new(),
            remove: String::new(),
            internal_length: 4,
            internal_reverse_length: 9,
        }
    }
}

impl GlobalParameters {
    /// Checks every parameter; the first problem found is returned.
    pub fn validate(&self) -> Result<(), PlanError> {
        digits("internationalPrefix", &self.international_prefix, false)?;
        digits("localCountryPrefix", &self.local_country_prefix, false)?;
        digits("externalPrefix", &self.external_prefix, true)?;
        digits("nationalPrefix", &self.national_prefix, true)?;
        if self.local_country_prefix.starts_with('0') {
            return Err(param(
                "localCountryPrefix",
                "a country code never starts with 0",
            ));
        }
        dial_chars("add", &self.add)?;
        dial_chars("remove", &self.remove)?;
        if self.internal_length == 0 || self.internal_length > MAX_LENGTH {
            return Err(param(
                "internalLength",
                format!("must be between 1 and {MAX_LENGTH}"),
            ));
        }
        if self.internal_reverse_length > MAX_LENGTH {
            return Err(param(
                "internalReverseLength",
                format!("must be between 0 and {MAX_LENGTH}"),
            ));
        }
        Ok(())
    }

    /// Value of a `[-Name-]` placeholder, or `None` for an unknown name.
    ///
    /// Known names: `InternationalPrefix`, `LocalCountryPrefix`,
    /// `ExternalPrefix`, `NationalPrefix`, `Add`, `Remove`, `InternalLength`,
    /// `InternalReverseLength`.
    pub fn placeholder(&self, name: &str) -> Option<String> {
        Some(match name {
            "InternationalPrefix" => self.international_prefix.clone(),
            "LocalCountryPrefix" => self.local_country_prefix.clone(),
            "ExternalPrefix" => self.external_prefix.clone(),
            "NationalPrefix" => self.national_prefix.clone(),
            "Add" => self.add.clone(),
            "Remove" => self.remove.clone(),
            "InternalLength" => self.internal_length.to_string(),
            "InternalReverseLength" => self.internal_reverse_length.to_string(),
            _ => return None,
        })
    }
}

fn param(name: &'static str, reason: impl Into<String>) -> PlanError {
    PlanError::Parameter {
        name,
        reason: reason.into(),
    }
}

fn digits(name: &'static str, value: &str, may_be_empty: bool) -> Result<(), PlanError> {
    if value.is_empty() && !may_be_empty {
        return Err(param(name, "must not be empty"));
    }
    if value.len() > MAX_PREFIX_LEN {
        return Err(param(name, format!("at most {MAX_PREFIX_LEN} digits")));
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(param(name, "digits only"));
    }
    Ok(())
}

fn dial_chars(name: &'static str, value: &str) -> Result<(), PlanError> {
    if value.len() > MAX_ADD_REMOVE_LEN {
        return Err(param(
            name,
            format!("at most {MAX_ADD_REMOVE_LEN} characters"),
        ));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'#' | b'*'))
    {
        return Err(param(name, "digits, +, # and * only"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_french_example_and_valid() {
        let p = GlobalParameters::default();
        assert_eq!(p.international_prefix, "00");
        assert_eq!(p.local_country_prefix, "33");
        assert_eq!(p.external_prefix, "0");
        p.validate().unwrap();
    }

    #[test]
    fn bad_parameters_are_named() {
        let p = GlobalParameters {
            international_prefix: "0x".into(),
            ..GlobalParameters::default()
        };
        assert!(matches!(
            p.validate(),
            Err(PlanError::Parameter {
                name: "internationalPrefix",
                ..
            })
        ));
        let p = GlobalParameters {
            internal_length: 0,
            ..GlobalParameters::default()
        };
        assert!(matches!(
            p.validate(),
            Err(PlanError::Parameter {
                name: "internalLength",
                ..
            })
        ));
    }
}
