//! Directory numbers before the dialing plan: the extension or annotation
//! after a number is set aside (`+44 20 7946 0958 ext. 12` → `+44 20 7946 0958`),
//! and canonical numbers are packed in a `u64` key for the reverse index.

/// The number part of a directory value: everything up to the first letter,
/// `#`, `,` or `;` that comes after a digit (an extension such as `x12`,
/// `ext. 12`, `poste 12`, `#12`). A leading `#` or `*` (facility code) is kept.
pub fn strip_extension(value: &str) -> &str {
    let mut seen_digit = false;
    for (i, c) in value.char_indices() {
        if c.is_ascii_digit() {
            seen_digit = true;
        } else if seen_digit && (c.is_alphabetic() || matches!(c, '#' | ',' | ';')) {
            return value[..i].trim_end();
        }
    }
    value
}

/// A number packed in 64 bits: bit 63 = leading `+`, bits 57..62 = digit
/// count, bits 0..56 = the digits' value. Numbers of 1 to 17 digits with an
/// optional leading `+` pack; others (facility codes, longer) do not.
pub fn pack(number: &str) -> Option<u64> {
    let (plus, digits) = match number.strip_prefix('+') {
        Some(rest) => (1u64, rest),
        None => (0u64, number),
    };
    let len = digits.len();
    if len == 0 || len > 17 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value = digits
        .bytes()
        .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
    Some(plus << 63 | (len as u64) << 57 | value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_set_aside() {
        assert_eq!(
            strip_extension("+44 20 7946 0958 ext. 12"),
            "+44 20 7946 0958"
        );
        assert_eq!(strip_extension("01 23 45 67 89 x123"), "01 23 45 67 89");
        assert_eq!(strip_extension("0123456789#12"), "0123456789");
        assert_eq!(
            strip_extension("+33 (0)1 23 45 67 89"),
            "+33 (0)1 23 45 67 89"
        );
        assert_eq!(strip_extension("*21#"), "*21");
        assert_eq!(strip_extension("Tel: 0123"), "Tel: 0123");
    }

    #[test]
    fn packing_keeps_leading_zeros_and_plus_apart() {
        let a = pack("0123").unwrap();
        let b = pack("123").unwrap();
        let c = pack("+123").unwrap();
        assert!(a != b && b != c && a != c);
        assert_eq!(pack("99999999999999999"), pack("99999999999999999"));
        assert!(pack("999999999999999999").is_none());
        assert!(pack("*21").is_none());
        assert!(pack("").is_none() && pack("+").is_none());
    }
}
