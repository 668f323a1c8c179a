//! Regular expressions that would run away are stopped by the backtrack
//! limit and reported, never allowed to hang a call.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::time::{Duration, Instant};

use twp_dialplan::{Action, DialPlan, TransformError};

/// A long input the catastrophic expressions fail on after trying every way
/// of splitting the `a`s.
fn long_input() -> String {
    format!("{}!", "a".repeat(100))
}

#[test]
fn catastrophic_backtracking_is_stopped_and_reported() {
    for pattern in [r"[(a|aa)+(?!a)$]", r"[(a+)+(?<!b)$]", r"[(?:(a+)+)\1?$]"] {
        let plan = DialPlan::default()
            .with_rule(7, pattern, "1")
            .compile()
            .unwrap();
        let started = Instant::now();
        let result = plan.dial(&long_input());
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_secs(2), "{pattern}: {elapsed:?}");
        if !matches!(result, Err(TransformError::RegexLimit { .. })) {
            // Some shapes are solved without backtracking; they must be fast.
            assert!(
                elapsed < Duration::from_millis(200),
                "{pattern}: {elapsed:?}"
            );
            continue;
        }
        let index = plan.plan().specific_rules.len() - 1;
        assert_eq!(
            result,
            Err(TransformError::RegexLimit { index, priority: 7 }),
            "{pattern}"
        );
        let explained = plan.dial_explained(&long_input());
        assert_eq!(explained.number, None);
        assert!(explained.error.is_some());
        let last = explained.steps.last().unwrap();
        assert!(
            matches!(&last.action, Action::RuleStopped { rule } if rule.priority == 7),
            "{last:?}"
        );
        assert!(last.to_string().contains("backtrack limit"));
        let text = twp_dialplan::render_test_report(&plan, &[long_input()], true);
        assert!(text.contains("error: rule at index"), "{text}");
    }
}

#[test]
fn at_least_one_expression_really_hits_the_limit() {
    let plan = DialPlan::default()
        .with_rule(7, r"[(a|aa)+(?!a)$]", "1")
        .compile()
        .unwrap();
    assert!(matches!(
        plan.dial(&long_input()),
        Err(TransformError::RegexLimit { priority: 7, .. })
    ));
}

#[test]
fn nested_quantifier_of_the_textbook_runs_in_linear_time() {
    // `(a+)+$` has no back-reference or look-around: it runs on automata and
    // cannot backtrack at all, so it simply fails to match, fast.
    let plan = DialPlan::default()
        .with_rule(7, r"[(a+)+$]", "1")
        .compile()
        .unwrap();
    let started = Instant::now();
    for _ in 0..100 {
        // No rule applies: the number is cleaned of its letters, nothing is left.
        assert_eq!(plan.dial(&long_input()), Err(TransformError::EmptyNumber));
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(plan.dial("aaaa").unwrap(), "1");
}

#[test]
fn longest_input_with_several_runaway_rules_stays_bounded() {
    // The first runaway rule stops the transformation: later ones never run.
    let mut plan = DialPlan::default();
    for priority in 1..=5 {
        plan = plan.with_rule(priority, r"[(a|aa)+(?!a)$]", "1");
    }
    let plan = plan.compile().unwrap();
    let input = format!("{}!", "a".repeat(twp_dialplan::MAX_NUMBER_LEN - 1));
    let started = Instant::now();
    assert!(matches!(
        plan.dial(&input),
        Err(TransformError::RegexLimit { priority: 1, .. })
    ));
    assert!(started.elapsed() < Duration::from_secs(2));
}
