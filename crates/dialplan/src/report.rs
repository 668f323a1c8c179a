//! The tester: both directions for a number, as data (admin API) or as the
//! text printed by `twp dialplan test`.

use std::fmt::{Display, Write as _};

use serde::{Serialize, Serializer};

use crate::canonical::{CanonicalResult, NumberKind};
use crate::dial::DialResult;
use crate::explain::Step;
use crate::plan::CompiledPlan;

/// A number tested in both directions, with explanations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberTest {
    /// The number as given.
    pub input: String,
    /// Dialing transformation (the number sent to the PBX).
    pub dial: DialResult,
    /// Canonical form as a directory number.
    pub canonical: CanonicalResult,
    /// Canonical form as an incoming number (Remove and Add applied).
    pub incoming: CanonicalResult,
}

impl CompiledPlan {
    /// Tests a number in both directions (the admin console's tester).
    pub fn test_number(&self, number: &str) -> NumberTest {
        NumberTest {
            input: number.to_owned(),
            dial: self.dial_explained(number),
            canonical: self.canonical_explained(number),
            incoming: self.incoming_explained(number),
        }
    }
}

/// The text output of `twp dialplan test --plan plan.json NUMBER… [--explain]`:
/// for each number, its dialable and canonical forms (and the incoming form
/// when Add or Remove changes it); with `explain`, the steps under each.
///
/// ```
/// let plan = twp_dialplan::DialPlan::default().compile().unwrap();
/// let text = twp_dialplan::render_test_report(&plan, &["0155171889"], false);
/// assert_eq!(
///     text,
///     "0155171889\n  dial       00155171889\n  canonical  +33155171889 (external)\n"
/// );
/// ```
pub fn render_test_report<S: AsRef<str>>(
    plan: &CompiledPlan,
    numbers: &[S],
    explain: bool,
) -> String {
    let mut text = String::new();
    for (i, number) in numbers.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        let test = plan.test_number(number.as_ref());
        let _ = writeln!(text, "{}", test.input);
        match (&test.dial.number, &test.dial.error) {
            (Some(n), _) => line(&mut text, "dial", n),
            (None, Some(e)) => line(&mut text, "dial", &format!("error: {e}")),
            (None, None) => line(&mut text, "dial", "error"),
        }
        if explain {
            steps(&mut text, &test.dial.steps);
        }
        canonical(&mut text, "canonical", &test.canonical, explain);
        if test.incoming.canonical != test.canonical.canonical || explain_differs(&test, explain) {
            canonical(&mut text, "incoming", &test.incoming, explain);
        }
    }
    text
}

/// With `--explain`, the incoming form is shown when Add or Remove did something.
fn explain_differs(test: &NumberTest, explain: bool) -> bool {
    explain && test.incoming.steps != test.canonical.steps
}

fn line(text: &mut String, label: &str, value: &str) {
    let _ = writeln!(text, "  {label:<10} {value}");
}

fn canonical(text: &mut String, label: &str, result: &CanonicalResult, explain: bool) {
    let c = &result.canonical;
    let shown = match c.kind {
        NumberKind::Internal => format!("{} (internal)", c.number),
        NumberKind::External => format!("{} (external)", c.number),
        NumberKind::Facility => format!("{} (facility)", c.number),
        NumberKind::Unresolved => match &result.lookup.suffix {
            Some(s) => format!("{} (unresolved; look-up by last digits {s})", c.number),
            None => format!("{} (unresolved)", c.number),
        },
        NumberKind::Empty => "(empty)".to_owned(),
        NumberKind::TooLong => "(too long)".to_owned(),
    };
    line(text, label, &shown);
    if explain {
        steps(text, &result.steps);
    }
}

fn steps(text: &mut String, steps: &[Step]) {
    for (i, s) in steps.iter().enumerate() {
        let _ = writeln!(text, "    {}. {s}", i + 1);
    }
}

/// Serialises an optional error as its message.
pub(crate) fn display_opt<T: Display, S: Serializer>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serializer.collect_str(v),
        None => serializer.serialize_none(),
    }
}
