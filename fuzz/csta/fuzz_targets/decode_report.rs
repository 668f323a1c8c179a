//! Arbitrary input through the `twp csta decode` report: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let report = twp_csta::decode_report(data);
    let _ = report.to_string();
});
