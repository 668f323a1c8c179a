//! Every example of the guide's chapter 5 (and of issue 4), with the guide's
//! French values: international prefix 00, local country prefix 33,
//! external prefix 0.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use twp_dialplan::{
    Action, CompiledPlan, DialPlan, GlobalParameters, NumberKind, PlanError, RuleError,
    TransformError,
};

fn standard() -> CompiledPlan {
    DialPlan::default().compile().unwrap()
}

/// The guide's extended rule of 5.3 (priority 30). The guide's printed
/// expression lost its backslashes in typesetting; this is the expression its
/// explanation describes: an optional `+` or international prefix (group 1),
/// the country code up to `(` (group 2), then `(0)`.
const GUIDE_REGEX: &str = r"[(\+|[-InternationalPrefix-])?([^\(]+)\(0\)]";
const GUIDE_VALUE: &str = "[-ExternalPrefix-][-InternationalPrefix-]$2";

fn with_guide_rules() -> CompiledPlan {
    DialPlan::default()
        .with_rule(30, GUIDE_REGEX, GUIDE_VALUE)
        .with_rule(50, "3611", "03611")
        .with_rule(51, "361", "361")
        .compile()
        .unwrap()
}

// ---- Chapter 5: global parameters and specific rules ----

#[test]
fn the_plus_character_is_replaced_by_00() {
    // "The '+' character will be replaced by '00'" (then 5.2 adds the
    // external prefix to a number that started with '+').
    let plan = DialPlan::new(GlobalParameters::default())
        .with_rule(1, "+", "00")
        .compile()
        .unwrap();
    assert_eq!(plan.dial("+3912334477").unwrap(), "0003912334477");
    assert_eq!(standard().dial("+3912334477").unwrap(), "0003912334477");
}

#[test]
fn the_string_361_is_replaced_by_361() {
    let plan = with_guide_rules();
    assert_eq!(plan.dial("3612").unwrap(), "3612");
    // Not longer than the internal length anyway; a longer one keeps no prefix
    // either, since a rule applied to a number not starting with '+'.
    assert_eq!(plan.dial("3619999").unwrap(), "3619999");
}

#[test]
fn the_first_rule_found_is_played_and_the_others_ignored() {
    let plan = DialPlan::default()
        .with_rule(40, "12", "A")
        .with_rule(41, "1", "B")
        .with_rule(39, "123", "9")
        .compile()
        .unwrap();
    // Priority 39 is tried first.
    assert_eq!(plan.dial("1234").unwrap(), "94");
    let explained = plan.dial_explained("1234");
    let fired: Vec<_> = explained
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::RuleApplied { rule } => Some(rule.priority),
            _ => None,
        })
        .collect();
    assert_eq!(fired, vec![39]);
}

#[test]
fn patterns_are_searched_only_at_the_beginning() {
    let plan = with_guide_rules();
    // "3611" inside the number does not match: no rule, longer than 4.
    assert_eq!(plan.dial("9993611").unwrap(), "09993611");
}

// ---- 5.1 Standard rules ----

#[test]
fn non_numerical_characters_are_deleted_except_a_leading_plus_hash_star() {
    let plan = standard();
    assert_eq!(plan.dial("01 55-17.18/89").unwrap(), "00155171889");
    assert_eq!(plan.dial("01a55b17").unwrap(), "0015517");
    assert_eq!(plan.dial("12#4").unwrap(), "124");
    assert_eq!(plan.dial("#21#").unwrap(), "#21#");
    assert_eq!(plan.dial("*21*1234#").unwrap(), "*21*1234#");
}

#[test]
fn plus_33_open_0_is_transformed_into_00() {
    assert_eq!(standard().dial("+33 (0) 123456789").unwrap(), "00123456789");
}

#[test]
fn plus_330_is_transformed_into_00() {
    assert_eq!(standard().dial("+330123456789").unwrap(), "00123456789");
}

#[test]
fn hash_and_star_are_kept_for_facilities() {
    let plan = standard();
    assert_eq!(plan.dial("#31#0155171889").unwrap(), "#31#0155171889");
    assert_eq!(plan.dial("*8").unwrap(), "*8");
    let explained = plan.dial_explained("*12345678");
    assert!(explained.steps.iter().any(|s| matches!(
        &s.action,
        Action::RuleApplied { rule } if rule.pattern == "*"
    )));
    // No external prefix: a rule applied to a number not starting with '+'.
    assert_eq!(explained.number.as_deref(), Some("*12345678"));
}

#[test]
fn particular_case_own_country_in_international_form() {
    let plan = standard();
    assert_eq!(plan.dial("+33155171889").unwrap(), "00155171889");
    assert_eq!(plan.dial("0033155171889").unwrap(), "00155171889");
    assert_eq!(plan.dial("0033 (0)1 55 17 18 89").unwrap(), "00155171889");
}

// ---- 5.2 Dialing transformation ----

#[test]
fn no_rule_longer_than_the_internal_length_gets_the_external_prefix() {
    let plan = standard();
    assert_eq!(plan.dial("0155171889").unwrap(), "00155171889");
    assert_eq!(plan.dial("12345").unwrap(), "012345");
}

#[test]
fn no_rule_not_longer_than_the_internal_length_is_returned_as_is() {
    let plan = standard();
    assert_eq!(plan.dial("1234").unwrap(), "1234");
    assert_eq!(plan.dial("12").unwrap(), "12");
}

#[test]
fn rule_on_a_plus_number_then_the_network_prefix() {
    // +3912334477 -> 0 00 3912334477
    let explained = standard().dial_explained("+3912334477");
    assert_eq!(explained.number.as_deref(), Some("0003912334477"));
    assert!(
        explained
            .steps
            .iter()
            .any(|s| matches!(s.action, Action::ExternalPrefixAdded { .. }))
    );
}

#[test]
fn rule_on_another_number_only_the_transformation() {
    // pattern = 3611 value = 03611: 3611 becomes 03611, no external prefix.
    let plan = with_guide_rules();
    let explained = plan.dial_explained("3611");
    assert_eq!(explained.number.as_deref(), Some("03611"));
    assert!(
        explained
            .steps
            .iter()
            .any(|s| matches!(s.action, Action::ExternalPrefixNotAdded { .. }))
    );
}

// ---- 5.3 Extended rules ----

#[test]
fn the_guides_regular_expression() {
    // "This rule turns +42(0)141906666 into 00042141906666."
    let plan = with_guide_rules();
    let explained = plan.dial_explained("+42(0)141906666");
    assert_eq!(explained.number.as_deref(), Some("00042141906666"));
    let rule = explained
        .steps
        .iter()
        .find_map(|s| match &s.action {
            Action::RuleApplied { rule } => Some(rule.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(rule.priority, 30);
    // "our rule replaces +42(0) by 00042", the rest is kept.
    assert!(matches!(
        explained.steps[0].action,
        Action::RuleApplied { .. }
    ));
    assert_eq!(explained.steps[0].number, "00042141906666");
    // "The rule thus treats numbers such as +42(0) and 42(0)"
    assert_eq!(plan.dial("42(0)141906666").unwrap(), "00042141906666");
    assert_eq!(plan.dial("0042 (0) 141906666").unwrap(), "00042141906666");
}

#[test]
fn the_guides_expression_as_printed_is_refused_with_a_message() {
    // As printed, the '+' is not escaped: a quantifier after nothing.
    let printed = r"[(+|[-InternationalPrefix-])?([^\)]+)([^\]]+\)]";
    let err = DialPlan::default()
        .with_rule(30, printed, GUIDE_VALUE)
        .compile()
        .unwrap_err();
    match err {
        PlanError::Rule {
            priority: 30,
            error,
            ..
        } => assert!(matches!(error, RuleError::InvalidRegex { .. }), "{error:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn placeholders_are_replaced_in_patterns_and_values() {
    let params = GlobalParameters {
        international_prefix: "011".into(),
        external_prefix: "9".into(),
        ..GlobalParameters::default()
    };
    let plan = DialPlan::new(params)
        .with_rule(30, GUIDE_REGEX, GUIDE_VALUE)
        .compile()
        .unwrap();
    assert_eq!(plan.dial("+42(0)141906666").unwrap(), "901142141906666");
    assert_eq!(plan.dial("01142(0)141906666").unwrap(), "901142141906666");
}

#[test]
fn dial_plan_test_box() {
    // "Enter a number ... the converted number is displayed": the tester.
    let text = twp_dialplan::render_test_report(&with_guide_rules(), &["+42(0)141906666"], false);
    assert!(text.contains("dial       00042141906666"), "{text}");
}

// ---- Issue 4: canonical forms for the reverse directory ----

#[test]
fn incoming_external_numbers_become_e164() {
    let plan = standard();
    for presented in ["0155171889", "00155171889", "0033155171889", "+33155171889"] {
        let c = plan.incoming(presented);
        assert_eq!(c.number, "+33155171889", "{presented}");
        assert_eq!(c.kind, NumberKind::External);
    }
    assert_eq!(plan.incoming("0003912334477").number, "+3912334477");
}

#[test]
fn incoming_internal_numbers_stay_internal() {
    let c = standard().incoming("1234");
    assert_eq!(c.number, "1234");
    assert_eq!(c.kind, NumberKind::Internal);
}

#[test]
fn directory_numbers_however_typed() {
    let plan = standard();
    for typed in [
        "+33 (0)1 55 17 18 89",
        "01.55.17.18.89",
        "0033 1 55171889",
        "+33155171889",
        "+33 1 55 17 18 89",
        "(01) 55 17 18 89",
    ] {
        assert_eq!(plan.canonical(typed).number, "+33155171889", "{typed}");
    }
}

#[test]
fn add_and_remove_on_incoming_numbers() {
    // The PBX presents external callers with its external prefix: remove it.
    let params = GlobalParameters {
        remove: "0".into(),
        ..GlobalParameters::default()
    };
    let plan = DialPlan::new(params).compile().unwrap();
    assert_eq!(plan.incoming("00155171889").number, "+33155171889");
    assert_eq!(plan.incoming("00039123456").number, "+39123456");
    // Internal numbers are not touched.
    assert_eq!(plan.incoming("0123").number, "0123");
    // The PBX presents national numbers without their national prefix: add it.
    let params = GlobalParameters {
        add: "0".into(),
        ..GlobalParameters::default()
    };
    let plan = DialPlan::new(params).compile().unwrap();
    let explained = plan.incoming_explained("155171889");
    assert_eq!(explained.canonical.number, "+33155171889");
    assert!(
        explained
            .steps
            .iter()
            .any(|s| matches!(s.action, Action::AddApplied { .. }))
    );
    // Directory numbers do not get Add.
    assert_eq!(plan.canonical("155171889").kind, NumberKind::Unresolved);
}

#[test]
fn internal_reverse_length_gives_the_suffix_key() {
    let plan = standard();
    let c = plan.incoming("41 22 555 12 34 5");
    assert_eq!(c.kind, NumberKind::Unresolved);
    let keys = plan.lookup_keys(&c);
    assert_eq!(keys.exact, None);
    assert_eq!(keys.suffix.as_deref(), Some("255512345"));
    let e = plan.incoming("0155171889");
    let keys = plan.lookup_keys(&e);
    assert_eq!(keys.exact.as_deref(), Some("+33155171889"));
    assert_eq!(keys.suffix.as_deref(), Some("155171889"));
    assert_eq!(
        plan.reverse_suffix("+33 1 55 17 18 89").as_deref(),
        Some("155171889")
    );
}

#[test]
fn errors_are_explained() {
    let plan = standard();
    assert_eq!(plan.dial(""), Err(TransformError::EmptyNumber));
    assert_eq!(plan.dial("abc"), Err(TransformError::EmptyNumber));
    let long = "1".repeat(twp_dialplan::MAX_NUMBER_LEN + 1);
    assert!(matches!(
        plan.dial(&long),
        Err(TransformError::InputTooLong { .. })
    ));
    assert_eq!(plan.canonical(&long).kind, NumberKind::TooLong);
    assert_eq!(plan.canonical("abc").kind, NumberKind::Empty);
}
