//! Any text as a value of every catalogue parameter: no panic, and an
//! accepted value prints to a form that parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twp_access::params::{CATALOGUE, parse_value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for def in CATALOGUE {
        if let Ok(v) = parse_value(def.key, def.ty, text) {
            match parse_value(def.key, def.ty, &v.to_string()) {
                Ok(again) => assert_eq!(again, v, "{}", def.key),
                Err(e) => panic!("{}: printed value does not parse: {e}", def.key),
            }
        }
    }
});
