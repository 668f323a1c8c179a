//! Transformations on any input with the guide's plan and an extended rule:
//! no panic, fast and explained paths agree, the canonical form is idempotent.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use twp_dialplan::{CompiledPlan, DialPlan, NumberKind, render_test_report};

fn plan() -> &'static CompiledPlan {
    static PLAN: OnceLock<CompiledPlan> = OnceLock::new();
    PLAN.get_or_init(|| {
        match DialPlan::default()
            .with_rule(
                30,
                r"[(\+|[-InternationalPrefix-])?([^\(]+)\(0\)]",
                "[-ExternalPrefix-][-InternationalPrefix-]$2",
            )
            .with_rule(50, "3611", "03611")
            .compile()
        {
            Ok(plan) => plan,
            Err(e) => panic!("fuzz plan does not compile: {e}"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(number) = std::str::from_utf8(data) else {
        return;
    };
    let plan = plan();
    let fast = plan.dial(number);
    let explained = plan.dial_explained(number);
    assert_eq!(fast.as_ref().ok(), explained.number.as_ref());

    for canonical in [plan.canonical(number), plan.incoming(number)] {
        if canonical.kind != NumberKind::TooLong {
            assert_eq!(plan.canonical(&canonical.number), canonical);
        }
        let _ = plan.lookup_keys(&canonical);
    }
    assert_eq!(
        plan.canonical(number),
        plan.canonical_explained(number).canonical
    );
    let _ = render_test_report(plan, &[number], true);
});
