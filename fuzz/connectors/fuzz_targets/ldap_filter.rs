//! The administrator's LDAP filter check and the escaping of user values:
//! never panic; an escaped value always makes a valid one-item filter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twp_connectors::{escape_filter_value, validate_filter};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = validate_filter(text);
    let escaped = escape_filter_value(text);
    assert!(!escaped.contains(['*', '(', ')', '\0']));
    let item = format!("(cn={escaped})");
    assert!(validate_filter(&item).is_ok(), "{item}");
});
