//! DN and filter escaping of any text round-trips; unescaping any text
//! never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twp_access::auth::{
    escape_dn_value, escape_filter_value, unescape_dn_value, unescape_filter_value,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert_eq!(unescape_dn_value(&escape_dn_value(text)).ok().as_deref(), Some(text));
    assert_eq!(unescape_filter_value(&escape_filter_value(text)).ok().as_deref(), Some(text));
    let _ = unescape_dn_value(text);
});
