//! Rule parsing and compiling: any pattern and value either compile or are
//! refused with a typed error; a compiled rule transforms any number without
//! panicking, the fast path agreeing with the explained one.
//!
//! Input: `pattern \0 value \0 number` (lossy UTF-8). When the first byte is
//! odd, the pattern is put between square brackets (an extended rule).
#![no_main]

use libfuzzer_sys::fuzz_target;
use twp_dialplan::{DialPlan, TransformError};

fuzz_target!(|data: &[u8]| {
    let extended = data.first().is_some_and(|b| b & 1 == 1);
    let text = String::from_utf8_lossy(data.get(1..).unwrap_or_default());
    let mut parts = text.splitn(3, '\0');
    let pattern = parts.next().unwrap_or_default();
    let value = parts.next().unwrap_or_default();
    let number = parts.next().unwrap_or_default();
    let pattern = if extended {
        format!("[{pattern}]")
    } else {
        pattern.to_owned()
    };
    let Ok(plan) = DialPlan::default().with_rule(25, &pattern, value).compile() else {
        return;
    };
    let fast = plan.dial(number);
    let explained = plan.dial_explained(number);
    assert_eq!(fast.as_ref().ok(), explained.number.as_ref());
    assert_eq!(fast.as_ref().err(), explained.error.as_ref());
    if let Err(TransformError::RegexLimit { priority, .. }) = fast {
        assert_eq!(priority, 25);
    }
});
