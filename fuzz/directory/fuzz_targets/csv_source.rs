//! Arbitrary bytes through the CSV connector, with detected or forced
//! settings: never panics, never loops, every record is located by a line
//! that never goes backwards, and a whole synchronisation of the bytes
//! into an engine completes or fails with a typed error.
//!
//! Input: first byte chooses the settings, the rest is the file.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use twp_directory::{
    Connector, CsvConnector, CsvOptions, CsvSource, Encoding, Location, ReadOutcome, SourceRecord,
};

fuzz_target!(|data: &[u8]| {
    let Some((&settings, file)) = data.split_first() else {
        return;
    };
    let options = CsvOptions {
        delimiter: (settings & 1 == 1).then_some([b';', b',', b'\t', b'|'][usize::from(settings >> 1 & 3)]),
        encoding: match settings >> 3 & 3 {
            0 => None,
            1 => Some(Encoding::Utf8),
            2 => Some(Encoding::Windows1252),
            _ => Some(Encoding::Latin1),
        },
    };
    let mut c = CsvConnector::new(CsvSource::Bytes(Arc::from(file)), options);
    let Ok(test) = c.test_connection() else {
        return;
    };
    let fields: Vec<String> = test.fields.iter().take(4).cloned().collect();
    let Ok(mut stream) = c.open(&fields) else {
        return;
    };
    let mut rec = SourceRecord::new(fields.len());
    let mut last = 0u64;
    // A record needs at least one byte: more iterations than bytes is a loop.
    for _ in 0..=file.len() + 1 {
        let line = match stream.next_record(&mut rec) {
            Ok(ReadOutcome::Record) => match rec.location() {
                Some(Location::Line(l)) => *l,
                other => panic!("record without a line: {other:?}"),
            },
            Ok(ReadOutcome::Skipped { location: Location::Line(l), .. }) => l,
            Ok(ReadOutcome::Skipped { location, .. }) => panic!("not a line: {location:?}"),
            Ok(ReadOutcome::End) | Err(_) => return,
        };
        assert!(line >= last);
        last = line;
    }
    panic!("the stream did not end");
});
