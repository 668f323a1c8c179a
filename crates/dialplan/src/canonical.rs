//! Canonical form of incoming and directory numbers, used by the reverse
//! directory: internal numbers stay internal, external numbers become E.164.

use serde::Serialize;

use crate::clean::is_separator;
use crate::explain::{Action, Form, Recorder, Silent, Step, step};
use crate::plan::{CompiledPlan, MAX_NUMBER_LEN};

/// What kind of number a canonical form is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum NumberKind {
    /// An internal number (no longer than the internal length), kept as is.
    Internal,
    /// An external number in E.164 form, e.g. `+33155171889`.
    External,
    /// A facility code (first character `#` or `*`), kept as is.
    Facility,
    /// Could not be made canonical: digits only; compare its last digits
    /// (see [`LookupKeys::suffix`]).
    Unresolved,
    /// Nothing usable (no digit, and not a facility code).
    Empty,
    /// Longer than [`crate::MAX_NUMBER_LEN`]: refused.
    TooLong,
}

/// A number in canonical form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Canonical {
    /// The canonical number (empty for [`NumberKind::Empty`] and [`NumberKind::TooLong`]).
    pub number: String,
    /// Its kind.
    pub kind: NumberKind,
}

/// Keys to look a number up in the reverse directory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LookupKeys {
    /// Exact key: the canonical number, when it could be made canonical.
    pub exact: Option<String>,
    /// The last digits (internal reverse length) of an external or
    /// unresolved number, for a suffix comparison when no exact key matches.
    pub suffix: Option<String>,
}

/// A canonicalisation with its explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CanonicalResult {
    /// The number as given.
    pub input: String,
    /// The canonical form.
    #[serde(flatten)]
    pub canonical: Canonical,
    /// Look-up keys for the reverse directory.
    pub lookup: LookupKeys,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

impl CompiledPlan {
    /// Canonical form of a number read from a directory, however it was
    /// typed (`+33 (0)1 55 17 18 89`, `01.55.17.18.89`, `0033 1 55171889`
    /// all give `+33155171889` with the French example parameters).
    ///
    /// ```
    /// let plan = twp_dialplan::DialPlan::default().compile().unwrap();
    /// assert_eq!(plan.canonical("01.55.17.18.89").number, "+33155171889");
    /// ```
    pub fn canonical(&self, number: &str) -> Canonical {
        self.canonical_with(number, false, &mut Silent)
    }

    /// [`CompiledPlan::canonical`] with its explanation and look-up keys.
    pub fn canonical_explained(&self, number: &str) -> CanonicalResult {
        self.explained(number, false)
    }

    /// Canonical form of a number presented by the PBX on an incoming call:
    /// Remove and Add are applied to external numbers first.
    pub fn incoming(&self, number: &str) -> Canonical {
        self.canonical_with(number, true, &mut Silent)
    }

    /// [`CompiledPlan::incoming`] with its explanation and look-up keys.
    pub fn incoming_explained(&self, number: &str) -> CanonicalResult {
        self.explained(number, true)
    }

    /// Look-up keys of a canonical number: the exact key, and the last
    /// digits (internal reverse length) compared when no exact key matches.
    pub fn lookup_keys(&self, canonical: &Canonical) -> LookupKeys {
        let exact = matches!(
            canonical.kind,
            NumberKind::Internal | NumberKind::External | NumberKind::Facility
        )
        .then(|| canonical.number.clone());
        let suffix = match canonical.kind {
            NumberKind::External | NumberKind::Unresolved => self.suffix(&canonical.number),
            _ => None,
        };
        LookupKeys { exact, suffix }
    }

    /// The last digits (internal reverse length) of `number`, or all its
    /// digits when it has fewer; `None` when the internal reverse length is 0
    /// or the number has no digit.
    pub fn reverse_suffix(&self, number: &str) -> Option<String> {
        self.suffix(number)
    }

    fn suffix(&self, number: &str) -> Option<String> {
        let n = self.parameters().internal_reverse_length;
        let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
        if n == 0 || digits.is_empty() {
            return None;
        }
        Some(digits[digits.len().saturating_sub(n)..].iter().collect())
    }

    fn explained(&self, number: &str, incoming: bool) -> CanonicalResult {
        let mut steps = Vec::new();
        let canonical = self.canonical_with(number, incoming, &mut steps);
        CanonicalResult {
            input: number.to_owned(),
            lookup: self.lookup_keys(&canonical),
            canonical,
            steps,
        }
    }

    fn canonical_with<R: Recorder>(&self, input: &str, incoming: bool, rec: &mut R) -> Canonical {
        if input.len() > MAX_NUMBER_LEN {
            rec.record(|| {
                step(
                    Action::TooLong {
                        max: MAX_NUMBER_LEN,
                    },
                    "",
                )
            });
            return Canonical {
                number: String::new(),
                kind: NumberKind::TooLong,
            };
        }
        let mut number = self.clean(input, rec);
        let lead = number.as_bytes().first().copied();
        if matches!(lead, Some(b'#' | b'*')) {
            rec.record(|| step(Action::Facility, &number));
            return Canonical {
                number,
                kind: NumberKind::Facility,
            };
        }
        if !number.bytes().any(|b| b.is_ascii_digit()) {
            rec.record(|| step(Action::Empty, ""));
            return Canonical {
                number: String::new(),
                kind: NumberKind::Empty,
            };
        }
        let removed = incoming && lead != Some(b'+') && self.add_remove(&mut number, rec);
        let params = self.parameters();
        if let Some(rest) = number.strip_prefix('+') {
            let e164 = self.international(rest);
            rec.record(|| {
                step(
                    Action::Recognised {
                        form: Form::International,
                    },
                    &e164,
                )
            });
            return external(e164);
        }
        if number.len() <= params.internal_length {
            rec.record(|| {
                step(
                    Action::Internal {
                        internal_length: params.internal_length,
                    },
                    &number,
                )
            });
            return Canonical {
                number,
                kind: NumberKind::Internal,
            };
        }
        match self.recognise(&number, !removed) {
            Some((form, e164)) => {
                rec.record(|| step(Action::Recognised { form }, &e164));
                external(e164)
            }
            None => {
                rec.record(|| {
                    step(
                        Action::Unresolved {
                            suffix: self.suffix(&number),
                        },
                        &number,
                    )
                });
                Canonical {
                    number,
                    kind: NumberKind::Unresolved,
                }
            }
        }
    }

    /// Keeps digits, a leading `+` (dropping a trunk prefix in parentheses,
    /// `+33 (0)1…`), and for facility codes the `#` and `*`.
    fn clean<R: Recorder>(&self, input: &str, rec: &mut R) -> String {
        let trimmed = input.trim_start_matches(is_separator);
        let lead = trimmed.chars().next();
        let plus = lead == Some('+');
        let facility = matches!(lead, Some('#' | '*'));
        let national = self.parameters().national_prefix.as_str();
        let mut out = String::with_capacity(trimmed.len() + 1);
        let mut trunk_removed = false;
        let mut rest = trimmed;
        if let Some(c @ ('+' | '#' | '*')) = lead {
            out.push(c);
            rest = &rest[1..];
        }
        while let Some(c) = rest.chars().next() {
            if plus && c == '(' {
                if let Some(after) = strip_trunk(rest, national) {
                    rest = after;
                    trunk_removed = true;
                    continue;
                }
            }
            if c.is_ascii_digit() || (facility && matches!(c, '#' | '*')) {
                out.push(c);
            }
            rest = &rest[c.len_utf8()..];
        }
        if R::ACTIVE {
            if trunk_removed {
                rec.record(|| step(Action::TrunkPrefixRemoved, &out));
            } else if out != input {
                rec.record(|| step(Action::NonNumericRemoved, &out));
            }
        }
        out
    }

    /// Remove, then Add, for external numbers (longer than the internal
    /// length). Returns whether Remove removed something.
    fn add_remove<R: Recorder>(&self, number: &mut String, rec: &mut R) -> bool {
        let params = self.parameters();
        let mut removed = false;
        if params.add.is_empty() && params.remove.is_empty() {
            return removed;
        }
        if number.len() <= params.internal_length {
            rec.record(|| {
                step(
                    Action::AddRemoveSkipped {
                        reason: "internal number".to_owned(),
                    },
                    number,
                )
            });
            return removed;
        }
        if !params.remove.is_empty() && number.starts_with(&params.remove) {
            number.drain(..params.remove.len());
            removed = true;
            rec.record(|| {
                step(
                    Action::RemoveApplied {
                        remove: params.remove.clone(),
                    },
                    number,
                )
            });
        }
        if !params.add.is_empty() {
            number.insert_str(0, &params.add);
            rec.record(|| {
                step(
                    Action::AddApplied {
                        add: params.add.clone(),
                    },
                    number,
                )
            });
        }
        removed
    }

    /// Reads an external number written without `+`, trying the forms in a
    /// fixed order (see the crate documentation on ambiguities). The forms
    /// with the external prefix are tried only when `with_external` (not
    /// after Remove, which is there to strip the PBX's external prefix).
    fn recognise(&self, digits: &str, with_external: bool) -> Option<(Form, String)> {
        let p = self.parameters();
        let (intl, country, ext, nat) = (
            p.international_prefix.as_str(),
            p.local_country_prefix.as_str(),
            p.external_prefix.as_str(),
            p.national_prefix.as_str(),
        );
        let after = |a: &str, b: &str| -> Option<&str> {
            digits
                .strip_prefix(a)
                .and_then(|r| r.strip_prefix(b))
                .filter(|r| !r.is_empty())
        };
        let local = |nsn: &str| -> Option<String> {
            let nsn = strip_national(nsn, nat);
            (!nsn.is_empty()).then(|| e164(country, nsn))
        };
        let not_national = |r: &&str| nat.is_empty() || !r.starts_with(nat);
        let no_zero = |r: &&str| !r.starts_with('0');

        if let Some(e) = after(intl, country).and_then(local) {
            return Some((Form::InternationalPrefixLocalCountry, e));
        }
        if with_external && !ext.is_empty() {
            if let Some(r) = after(ext, intl).filter(no_zero) {
                return Some((Form::ExternalInternational, self.international(r)));
            }
            if !nat.is_empty() {
                if let Some(e) = after(ext, nat).filter(not_national).and_then(local) {
                    return Some((Form::ExternalNational, e));
                }
            }
        }
        if let Some(r) = after(intl, "").filter(no_zero) {
            return Some((Form::InternationalPrefix, self.international(r)));
        }
        if !nat.is_empty() {
            if let Some(e) = after(nat, "").filter(not_national).and_then(local) {
                return Some((Form::National, e));
            }
        }
        None
    }

    /// `+` and the digits after the international prefix, without the
    /// national prefix after the local country prefix (`+330…` → `+33…`).
    fn international(&self, digits: &str) -> String {
        let p = self.parameters();
        match digits.strip_prefix(p.local_country_prefix.as_str()) {
            Some(nsn) => e164(
                &p.local_country_prefix,
                strip_national(nsn, &p.national_prefix),
            ),
            None => e164("", digits),
        }
    }
}

/// `+`, country code, rest.
fn e164(country: &str, rest: &str) -> String {
    let mut out = String::with_capacity(1 + country.len() + rest.len());
    out.push('+');
    out.push_str(country);
    out.push_str(rest);
    out
}

fn external(number: String) -> Canonical {
    Canonical {
        number,
        kind: NumberKind::External,
    }
}

/// Removes every leading national prefix.
fn strip_national<'a>(mut nsn: &'a str, nat: &str) -> &'a str {
    if nat.is_empty() {
        return nsn;
    }
    while let Some(r) = nsn.strip_prefix(nat) {
        nsn = r;
    }
    nsn
}

/// At `(`: if a trunk prefix in parentheses follows (`(0)` or the national
/// prefix, separators allowed inside), the text after `)`.
fn strip_trunk<'a>(s: &'a str, national: &str) -> Option<&'a str> {
    let close = s.find(')')?;
    let inner: String = s[1..close].chars().filter(|c| !is_separator(*c)).collect();
    (inner == "0" || (!national.is_empty() && inner == national)).then(|| &s[close + 1..])
}
