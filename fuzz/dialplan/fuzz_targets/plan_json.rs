//! Plan document import: any text is either refused with a typed error or
//! gives a plan whose export imports back to the same plan.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twp_dialplan::DialPlan;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(plan) = DialPlan::from_json(json) else {
        return;
    };
    let again = match DialPlan::from_json(&plan.plan().to_json()) {
        Ok(again) => again,
        Err(e) => panic!("an exported plan does not import: {e}"),
    };
    assert_eq!(again.plan(), plan.plan());
    let _ = plan.dial("+33 (0)1 55 17 18 89");
});
