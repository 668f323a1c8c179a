//! Property tests: canonical form idempotent, dialing a canonical number then
//! normalising the result gives it back, no input panics.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use proptest::prelude::*;
use twp_dialplan::{CompiledPlan, DialPlan, GlobalParameters, NumberKind, render_test_report};

/// The guide's French example plan.
fn french() -> CompiledPlan {
    DialPlan::default().compile().unwrap()
}

/// A North-American-style plan: 011, country 1, external prefix 9, national prefix 1.
fn american() -> CompiledPlan {
    DialPlan::new(GlobalParameters {
        international_prefix: "011".into(),
        local_country_prefix: "1".into(),
        external_prefix: "9".into(),
        national_prefix: "1".into(),
        internal_length: 5,
        internal_reverse_length: 10,
        ..GlobalParameters::default()
    })
    .compile()
    .unwrap()
}

/// A plan without external prefix and without national prefix.
fn bare() -> CompiledPlan {
    DialPlan::new(GlobalParameters {
        international_prefix: "00".into(),
        local_country_prefix: "39".into(),
        external_prefix: String::new(),
        national_prefix: String::new(),
        internal_length: 3,
        ..GlobalParameters::default()
    })
    .compile()
    .unwrap()
}

fn plans() -> Vec<CompiledPlan> {
    vec![french(), american()]
}

/// Canonical numbers of a plan: internal numbers, local and foreign E.164
/// numbers, facility codes.
///
/// Left out, on purpose: a local national significant number starting with
/// the local country prefix (`+3333…` dials as `0033…`, which the guide's
/// particular case reads as `+33…`; see the crate documentation) or with the
/// national prefix (not a canonical form); an internal number beginning
/// with the international prefix (`0111` in a plan whose prefix is `011`
/// reads as the international number `+1`, as a PBX's numbering plan
/// never has such extensions).
fn canonical_number(plan: &CompiledPlan) -> BoxedStrategy<String> {
    let p = plan.parameters().clone();
    let international = p.international_prefix.clone();
    let internal = proptest::collection::vec(0u8..10, 1..=p.internal_length)
        .prop_map(|d| d.iter().map(|d| char::from(b'0' + d)).collect::<String>())
        .prop_filter(
            "internal number beginning with the international prefix",
            move |n| international.is_empty() || !n.starts_with(&international),
        );
    let country = p.local_country_prefix.clone();
    let national = p.national_prefix.clone();
    let country_for_local = country.clone();
    let local = "[1-9][0-9]{5,11}"
        .prop_filter("ambiguous national significant number", move |nsn| {
            !nsn.starts_with(&country) && (national.is_empty() || !nsn.starts_with(&national))
        })
        .prop_map(move |nsn| format!("+{country_for_local}{nsn}"));
    let country = p.local_country_prefix.clone();
    let foreign = "[1-9][0-9]{5,13}"
        .prop_filter("local", move |digits| !digits.starts_with(&country))
        .prop_map(|digits| format!("+{digits}"));
    let facility = "[#*][0-9#*]{0,10}";
    prop_oneof![internal, local, foreign, facility.prop_map(|s: String| s)].boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn canonical_form_is_idempotent(input in "\\PC{0,40}") {
        for plan in plans().iter().chain([bare()].iter()) {
            let once = plan.canonical(&input);
            let twice = plan.canonical(&once.number);
            if once.kind == NumberKind::TooLong {
                continue;
            }
            prop_assert_eq!(&once, &twice, "input {:?}", input);
        }
    }

    #[test]
    fn canonical_form_is_idempotent_on_number_like_input(input in "[+(]?[0-9 ().#*-]{0,24}") {
        for plan in plans().iter().chain([bare()].iter()) {
            let once = plan.canonical(&input);
            let twice = plan.canonical(&once.number);
            prop_assert_eq!(&once, &twice, "input {:?}", input);
            let incoming = plan.incoming(&input);
            prop_assert_eq!(&plan.canonical(&incoming.number), &incoming);
        }
    }

    #[test]
    fn dialing_a_canonical_french_number_then_normalising_gives_it_back(
        number in canonical_number(&french())
    ) {
        let plan = french();
        let dialed = plan.dial(&number).unwrap();
        prop_assert_eq!(plan.incoming(&dialed).number, number.clone(), "dialed {}", dialed);
        prop_assert_eq!(plan.canonical(&dialed).number, number);
    }

    #[test]
    fn dialing_a_canonical_american_number_then_normalising_gives_it_back(
        number in canonical_number(&american())
    ) {
        let plan = american();
        let dialed = plan.dial(&number).unwrap();
        prop_assert_eq!(plan.incoming(&dialed).number, number, "dialed {}", dialed);
    }

    #[test]
    fn no_input_panics(input in "\\PC{0,200}") {
        for plan in plans() {
            let fast = plan.dial(&input);
            let explained = plan.dial_explained(&input);
            prop_assert_eq!(fast.as_ref().ok(), explained.number.as_ref());
            prop_assert_eq!(fast.err(), explained.error);
            let canonical = plan.canonical(&input);
            prop_assert_eq!(&canonical, &plan.canonical_explained(&input).canonical);
            let _ = plan.lookup_keys(&canonical);
            let _ = plan.incoming_explained(&input);
            let _ = render_test_report(&plan, &[&input], true);
        }
    }

    #[test]
    fn no_rule_panics(pattern in "\\[?[\\PC]{0,30}\\]?", value in "[\\PC]{0,20}", input in "\\PC{0,30}") {
        let plan = DialPlan::default().with_rule(1, &pattern, &value);
        if let Ok(plan) = plan.compile() {
            let fast = plan.dial(&input);
            prop_assert_eq!(fast.ok(), plan.dial_explained(&input).number);
        }
    }

    #[test]
    fn no_regex_syntax_panics(
        body in "[()\\[\\]{}?*+|\\\\^$.<>=!:'#,0-9a-zA-Z_-]{0,24}",
        value in "[$0-9{}a-z&'`+_]{0,8}",
        input in "[+0-9()a-z]{0,20}",
    ) {
        let plan = DialPlan::default().with_rule(1, &format!("[{body}]"), &value);
        if let Ok(plan) = plan.compile() {
            let _ = plan.dial_explained(&input);
        }
    }

    #[test]
    fn json_round_trip(internal_length in 1usize..=12, reverse in 0usize..=12, priority in 0u32..5000, digits in "[0-9]{1,6}") {
        let plan = DialPlan::new(GlobalParameters {
            internal_length,
            internal_reverse_length: reverse,
            ..GlobalParameters::default()
        })
        .with_rule(priority, &digits, &digits);
        let back = DialPlan::from_json(&plan.to_json()).unwrap();
        prop_assert_eq!(back.plan(), &plan);
    }
}
