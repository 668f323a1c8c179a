//! Field mappings with options (guide 8.1): any text either parses or is
//! refused with an error whose position lies inside the text; a parsed
//! mapping transforms any value without panicking, and the case options are
//! idempotent.
//!
//! Input: `mapping \0 value` (lossy UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;
use twp_directory::{Transform, parse_mapping};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(2, '\0');
    let mapping = parts.next().unwrap_or_default();
    let value = parts.next().unwrap_or_default();
    match parse_mapping(mapping) {
        Ok(m) => {
            assert!(!m.source.is_empty());
            let once = m.options.apply(value).into_owned();
            let only_case = m
                .options
                .transforms
                .iter()
                .all(|t| matches!(t, Transform::Lower | Transform::Upper));
            if only_case {
                assert_eq!(m.options.apply(&once), once);
            }
        }
        Err(e) => {
            assert!(e.position >= 1 && e.position <= mapping.chars().count() + 1);
            let _ = e.to_string();
        }
    }
});
