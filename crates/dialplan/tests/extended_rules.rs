//! Extended rules (guide 5.3): .NET regular expressions, honoured or refused
//! by name.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use twp_dialplan::{DialPlan, PlanError, RuleError};

/// Dials `number` with the standard plan plus one extended rule at priority 5.
fn dial(pattern: &str, value: &str, number: &str) -> String {
    DialPlan::default()
        .with_rule(5, pattern, value)
        .compile()
        .unwrap()
        .dial(number)
        .unwrap()
}

fn refusal(pattern: &str, value: &str) -> RuleError {
    match DialPlan::default().with_rule(5, pattern, value).compile() {
        Err(PlanError::Rule {
            priority: 5, error, ..
        }) => error,
        other => panic!("{pattern}: expected a refusal, got {other:?}"),
    }
}

#[test]
fn named_groups_and_substitutions() {
    assert_eq!(
        dial(r"[(?<cc>\d{2})\((?<nat>0)\)]", "${cc}$$", "42(0)1419"),
        "421419"
    );
    assert_eq!(dial(r"[(?'site'4\d)]", "0145${site}", "4012"), "01454012");
    assert_eq!(dial(r"[(\d)\1]", "$&$&", "1122"), "111122");
    assert_eq!(dial(r"[(?<a>\d)\k'a']", "9", "1122"), "922");
    // $' is the text after the match, which is also kept after the value.
    assert_eq!(dial(r"[12]", "$'", "1234"), "3434");
    // $_ is the whole number.
    assert_eq!(dial(r"[9]", "$_", "912"), "91212");
}

#[test]
fn look_around_conditionals_and_options() {
    assert_eq!(dial(r"[4(?=\d{3}$)]", "01454", "4123"), "01454123");
    assert_eq!(dial(r"[4(?=\d{3}$)]", "01454", "41234"), "041234");
    assert_eq!(
        dial(r"[(?<p>\+)?(?(p)39|0039)]", "0039", "+391234"),
        "000391234"
    );
    assert_eq!(dial(r"[(?i)EXT(\d+)]", "$1", "ext1234"), "1234");
    assert_eq!(dial(r"[(?x) 12 # a comment]", "9", "1234"), "934");
    assert_eq!(dial(r"[1(?#a comment)2]", "9", "1234"), "934");
    assert_eq!(dial(r"[\u0031\x32]", "9", "1234"), "934");
    assert_eq!(dial(r"[(?<=^)1]", "9", "1234"), "9234");
}

#[test]
fn placeholders_in_expressions_are_escaped_values() {
    assert_eq!(
        dial(
            r"[[-InternationalPrefix-][-LocalCountryPrefix-](\d+)]",
            "[-ExternalPrefix-][-NationalPrefix-]$1",
            "0033155171889"
        ),
        "00155171889"
    );
}

#[test]
fn dotnet_only_constructs_are_refused_by_name() {
    for (pattern, construct) in [
        (r"[(?<open>\()?\d+(?<close-open>\))]", "(?<close-open>"),
        (r"[(?<-open>x)]", "(?<-open>"),
        (r"[[0-9-[5]]]", "-["),
        (r"[(?n)(1)]", "(?n"),
        (r"[(?r)1]", "(?r"),
        (r"[1++]", "+"),
        (r"[\K1]", "\\K"),
        (r"[(?<1>1)]", "(?<1>"),
        (
            r"[(?<a>1)(2)]",
            "named and numbered capture groups together",
        ),
    ] {
        match refusal(pattern, "0") {
            RuleError::UnsupportedConstruct {
                construct: found, ..
            } => assert_eq!(found, construct, "{pattern}"),
            other => panic!("{pattern}: {other:?}"),
        }
    }
}

#[test]
fn messages_name_the_rule_and_the_construct() {
    let err = DialPlan::default()
        .with_rule(30, r"[(?<a-b>1)]", "0")
        .compile()
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("rule at index 9 (priority 30)"),
        "{message}"
    );
    assert!(message.contains("(?<a-b>"), "{message}");
    assert!(message.contains("balancing groups"), "{message}");
}

#[test]
fn values_referring_to_missing_groups_are_refused() {
    assert_eq!(
        refusal(r"[(1)(2)]", "$3"),
        RuleError::MissingGroup {
            reference: "$3".into(),
            groups: 2
        }
    );
    assert!(matches!(
        refusal(r"[(?<a>1)]", "${b}"),
        RuleError::MissingGroup { .. }
    ));
}

#[test]
fn invalid_expressions_are_refused() {
    assert!(matches!(
        refusal(r"[(1]", "0"),
        RuleError::InvalidRegex { .. }
    ));
    assert!(matches!(
        refusal(r"[1\]", "0"),
        RuleError::InvalidRegex { .. }
    ));
    assert!(matches!(
        refusal(&format!("[{}]", "1".repeat(600)), "0"),
        RuleError::PatternTooLong { .. }
    ));
}
