#![allow(clippy::unwrap_used)]
//! Properties of the vCard reader: written cards read back whatever the
//! escaping and folding, and no text makes it panic.

use proptest::prelude::*;
use twp_directory::{ContactField as F, parse_vcards};

fn escape(v: &str) -> String {
    let mut o = String::new();
    for c in v.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            ',' => o.push_str("\\,"),
            ';' => o.push_str("\\;"),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o
}

/// Folds a line every `width` characters (CRLF + space), as writers do.
fn fold(line: &str, width: usize) -> String {
    let chars: Vec<char> = line.chars().collect();
    chars
        .chunks(width.max(1))
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("\r\n ")
}

fn value() -> impl Strategy<Value = String> {
    // printable text with the characters that need escaping; not blank at
    // the ends (values are trimmed)
    "[A-Za-zéü0-9,;\\\\ \n:\"]{0,20}[A-Za-zé0-9]"
}

proptest! {
    #[test]
    fn written_cards_read_back(
        cards in proptest::collection::vec((value(), value(), value(), "[0-9 +]{0,12}[0-9]"), 1..5),
        width in 1usize..80,
        v4 in any::<bool>(),
    ) {
        let mut text = String::new();
        for (last, first, org, tel) in &cards {
            text.push_str("BEGIN:VCARD\r\n");
            text.push_str(if v4 { "VERSION:4.0\r\n" } else { "VERSION:3.0\r\n" });
            for line in [
                format!("N:{};{};;;", escape(last), escape(first)),
                format!("ORG:{}", escape(org)),
                format!("TEL;TYPE=\"cell,voice\":{tel}"),
            ] {
                text.push_str(&fold(&line, width));
                text.push_str("\r\n");
            }
            text.push_str("END:VCARD\r\n");
        }
        let read = parse_vcards(&text).unwrap();
        prop_assert_eq!(read.len(), cards.len());
        for (card, (last, first, org, tel)) in read.iter().zip(&cards) {
            prop_assert_eq!(card.get(F::LastName), Some(last.trim()));
            prop_assert_eq!(card.get(F::FirstName), Some(first.trim()));
            prop_assert_eq!(card.get(F::Company), Some(org.trim()));
            prop_assert_eq!(card.get(F::Mobile), Some(tel.trim()));
        }
    }

    #[test]
    fn any_text_is_read_or_refused_with_a_line(text in "(BEGIN:VCARD\n|END:VCARD\n|VERSION:4.0\n|FN:|N:|TEL;TYPE=|\"|;|,|:|\\\\|\r\n| |[a-z0-9]){0,60}") {
        match parse_vcards(&text) {
            Ok(cards) => prop_assert!(!cards.is_empty()),
            Err(e) => prop_assert!(e.line >= 1 && e.line <= text.split('\n').count().max(1)),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_vcards(&String::from_utf8_lossy(&bytes));
    }
}
