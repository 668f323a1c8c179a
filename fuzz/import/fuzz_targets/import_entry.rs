//! An import's parsers on arbitrary input: a source entry's values mapped
//! to a user (never panics; what is accepted is a valid user), and the
//! schedule's `HH:MM`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twp_directory::{Location, SourceRecord};
use twp_domain::{ImportMapping, parse_time_of_day};
use twp_import::Mapper;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(m) = parse_time_of_day("at", text) {
        assert!(m < 24 * 60);
    }
    for mapping in [ImportMapping::ldap(false), ImportMapping::active_directory(false)] {
        let mapper = Mapper::new(&mapping).unwrap();
        let mut record = SourceRecord::new(mapper.fields().len());
        record.reset(Location::Dn(text.to_owned()));
        for (i, value) in text.split('\u{1f}').enumerate() {
            record.set(i, value);
        }
        if let Ok(user) = mapper.map(&record) {
            assert!(!user.key.is_empty() && !user.user_name.is_empty());
            let digits = user.device.number.trim_start_matches(['+', '*', '#']);
            assert!(!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
        }
    }
});
