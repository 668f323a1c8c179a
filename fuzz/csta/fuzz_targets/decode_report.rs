//! Arbitrary input through the `twp csta decode` report: never panics.
//! The input is also read as the bodies of PDU trace record lines, and
//! each of its lines as a record line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let report = twp_csta::decode_report(data);
    let _ = report.to_string();

    let mut trace = Vec::with_capacity(data.len() + 64);
    for line in data.split(|&b| b == b'\n') {
        trace.extend_from_slice(b"2026-11-30T23:40:00.123Z link=0 192.0.2.10:3211 << 0042 ");
        trace.extend_from_slice(line);
        trace.push(b'\n');
    }
    let report = twp_csta::decode_report(&trace);
    let _ = report.to_string();

    if let Ok(text) = std::str::from_utf8(data) {
        for line in text.lines() {
            if let Ok(record) = twp_csta::TraceLine::parse(line) {
                // What parses prints back to a line that parses the same.
                let again = twp_csta::TraceLine::parse(&record.to_string());
                assert_eq!(again.as_ref(), Ok(&record));
            }
        }
    }
});
