#![allow(clippy::unwrap_used)]
//! Property tests of the parsers: field options and CSV reading.

use std::sync::Arc;

use proptest::prelude::*;
use twp_directory::*;

/// A valid option, as text, and what it sets.
fn option() -> impl Strategy<Value = (String, char)> {
    prop_oneof![
        Just(("a".to_owned(), 'a')),
        Just(("h".to_owned(), 'h')),
        Just(("i".to_owned(), 'i')),
        Just(("l".to_owned(), 'l')),
        Just(("m".to_owned(), 'm')),
        Just(("u".to_owned(), 'u')),
        (
            "[a-z0-9 ]{0,4}",
            "[a-z0-9 ]{0,4}",
            proptest::option::of("\\^\\[0-9\\]\\{[1-3],[4-6]\\}\\$")
        )
            .prop_map(|(pre, post, re)| {
                let text = match re {
                    Some(re) => format!("p::{pre}{{0}}{post}::{re}"),
                    None => format!("p::{pre}{{0}}{post}"),
                };
                (text, 'p')
            }),
    ]
}

proptest! {
    #[test]
    fn option_parser_never_panics(text in "\\PC{0,40}") {
        let _ = parse_mapping(&text);
    }

    #[test]
    fn option_parser_never_panics_near_the_grammar(text in "[a-z]{1,3} ?\\| ?[ahilmupx:{}0,\\[\\]^$ ]{0,20}") {
        if let Ok(m) = parse_mapping(&text) {
            let _ = m.options.apply("Élodie 1234");
        }
    }

    #[test]
    fn valid_option_lists_parse_with_their_positions(
        source in "[A-Za-z][A-Za-z0-9_]{0,10}",
        options in proptest::collection::vec(option(), 0..5),
        spaces in proptest::collection::vec(" {0,2}", 5),
    ) {
        let flags: Vec<char> = options.iter().map(|(_, c)| *c).filter(|c| *c != 'p').collect();
        let mut seen = std::collections::HashSet::new();
        let duplicate = flags.iter().any(|c| !seen.insert(*c));
        let cases = flags.iter().filter(|c| "lmu".contains(**c)).count();
        let list: Vec<String> = options
            .iter()
            .zip(&spaces)
            .map(|((t, _), s)| format!("{s}{t}"))
            .collect();
        let text = if options.is_empty() { source.clone() } else { format!("{source} |{}", list.join(",")) };
        match parse_mapping(&text) {
            Ok(m) => {
                prop_assert!(!duplicate && cases <= 1, "{text}");
                prop_assert_eq!(&m.source, &source);
                prop_assert_eq!(m.options.address_link, flags.contains(&'a'));
                prop_assert_eq!(m.options.invisible_in_caller, flags.contains(&'i'));
                let transforms = options.iter().filter(|(_, c)| !"ai".contains(*c)).count();
                prop_assert_eq!(m.options.transforms.len(), transforms);
            }
            Err(e) => {
                prop_assert!(duplicate || cases > 1, "{text}: {e}");
                // The position points at an option of the list.
                let at: String = text.chars().skip(e.position - 1).take(1).collect();
                prop_assert!("ahilmup".contains(at.as_str()), "{text}: {e} -> {at:?}");
            }
        }
    }

    #[test]
    fn case_options_are_idempotent(value in "\\PC{0,20}") {
        for spec in ["x|l", "x|u"] {
            let m = parse_mapping(spec).unwrap();
            let once = m.options.apply(&value).into_owned();
            prop_assert_eq!(m.options.apply(&once).into_owned(), once.clone());
        }
    }

    #[test]
    fn csv_rows_round_trip(
        rows in proptest::collection::vec(proptest::collection::vec("[^\\x00\\r]{0,8}", 3), 0..20),
        delimiter in prop_oneof![Just(b';'), Just(b','), Just(b'\t'), Just(b'|')],
        latin in any::<bool>(),
    ) {
        // Written with the generator's quoting rules, read back field by field.
        let mut text = String::from("a;b;c\n").replace(';', &char::from(delimiter).to_string());
        for row in &rows {
            let fields: Vec<String> = row
                .iter()
                .map(|f| {
                    if f.bytes().any(|b| b == delimiter || b == b'"' || b == b'\n') {
                        format!("\"{}\"", f.replace('"', "\"\""))
                    } else {
                        f.clone()
                    }
                })
                .collect();
            text.push_str(&fields.join(&char::from(delimiter).to_string()));
            text.push('\n');
        }
        let (bytes, encoding) = if latin && text.chars().all(|c| (c as u32) < 0x80 || ((c as u32) >= 0xA0 && (c as u32) <= 0xFF)) {
            (text.chars().map(|c| c as u32 as u8).collect::<Vec<u8>>(), Encoding::Latin1)
        } else {
            (text.into_bytes(), Encoding::Utf8)
        };
        let mut c = CsvConnector::new(
            CsvSource::Bytes(Arc::from(bytes)),
            CsvOptions { delimiter: Some(delimiter), encoding: Some(encoding) },
        );
        let fields = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let mut stream = c.open(&fields).unwrap();
        let mut rec = SourceRecord::new(3);
        let mut read = Vec::new();
        loop {
            match stream.next_record(&mut rec).unwrap() {
                ReadOutcome::Record => read.push((0..3).map(|i| rec.get(i).unwrap_or("").to_owned()).collect::<Vec<_>>()),
                ReadOutcome::Skipped { .. } => read.push(vec!["<skipped>".into()]),
                ReadOutcome::End => break,
            }
        }
        // Values are trimmed; rows left blank are ignored on both sides (an
        // all-empty row is an empty line, which CSV skips).
        let expected: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.iter().map(|f| f.trim().to_owned()).collect::<Vec<_>>())
            .filter(|r| r.iter().any(|f| !f.is_empty()))
            .collect();
        let read: Vec<Vec<String>> = read.into_iter().filter(|r| r.iter().any(|f| !f.is_empty())).collect();
        prop_assert_eq!(read, expected);
    }

    #[test]
    fn csv_reader_never_panics_and_counts_lines(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut c = CsvConnector::new(CsvSource::Bytes(Arc::from(bytes)), CsvOptions::default());
        if let Ok(t) = c.test_connection() {
            let fields: Vec<String> = t.fields.iter().take(3).cloned().collect();
            if let Ok(mut stream) = c.open(&fields) {
                let mut rec = SourceRecord::new(fields.len());
                let mut last_line = 1;
                for _ in 0..1000 {
                    match stream.next_record(&mut rec) {
                        Ok(ReadOutcome::Record) => {
                            let Some(Location::Line(l)) = rec.location() else { panic!("no line") };
                            // Lines are counted by `\n` (a bare `\r` ends a record, not a line).
                            prop_assert!(*l >= last_line);
                            last_line = *l;
                        }
                        Ok(ReadOutcome::Skipped { location: Location::Line(l), .. }) => {
                            prop_assert!(l >= last_line);
                            last_line = l;
                        }
                        Ok(ReadOutcome::Skipped { .. }) => panic!("CSV locates by line"),
                        Ok(ReadOutcome::End) | Err(_) => break,
                    }
                }
            }
        }
    }
}
