//! The LDAP connector's response decoder on arbitrary bytes (what a
//! broken or hostile server could send): messages are framed or refused,
//! decoded or refused, entries walked to their last value, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twp_connectors::ldap_wire::walk;

fuzz_target!(|data: &[u8]| {
    walk(data);
});
