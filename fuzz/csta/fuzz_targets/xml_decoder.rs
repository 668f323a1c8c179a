//! Arbitrary bodies through the XML decoder: never panics, and whatever
//! decodes re-encodes to something that decodes to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = twp_csta::decode(data) {
        let again = twp_csta::encode(&msg);
        let back = twp_csta::decode(again.as_bytes());
        assert!(back.is_ok(), "re-encoded message does not decode: {again}");
    }
});
