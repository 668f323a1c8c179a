//! Arbitrary text through the vCard reader: never panics; every card read
//! has a name, a company or a number, and an error names a line of the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twp_directory::{ContactField, parse_vcards};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_vcards(text) {
        Ok(cards) => {
            assert!(!cards.is_empty());
            for c in cards {
                assert!(!c.fields.is_empty());
                assert!(c.fields.iter().all(|(f, v)| !v.is_empty() && ContactField::ALL.contains(f)));
            }
        }
        Err(e) => assert!(e.line >= 1 && e.line <= text.split('\n').count().max(1)),
    }
});
