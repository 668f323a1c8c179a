//! Text encodings of directory files: UTF-8 (with or without BOM) and
//! Windows-1252 / Latin-1, detected from a sample or set by the
//! administrator. Windows-1252 is decoded with its own table (no extra
//! dependency): bytes 0x80–0x9F are its typographic characters; Latin-1
//! maps every byte to the same code point.

/// A file encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (a BOM, if any, is skipped).
    Utf8,
    /// Windows-1252 (Western European, the usual "ANSI" of Excel exports).
    Windows1252,
    /// ISO-8859-1.
    Latin1,
}

/// The UTF-8 byte order mark.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Detects the encoding of a file from its first bytes: a BOM or valid
/// UTF-8 (a character cut at the end of the sample is allowed) means UTF-8,
/// anything else Windows-1252.
pub fn detect(sample: &[u8]) -> Encoding {
    if sample.starts_with(UTF8_BOM) {
        return Encoding::Utf8;
    }
    match std::str::from_utf8(sample) {
        Ok(_) => Encoding::Utf8,
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::Windows1252,
    }
}

/// Windows-1252 code points of bytes 0x80–0x9F (undefined bytes keep their
/// C1 control code point, as browsers do).
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{2C6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}', '\u{8F}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}', '\u{17E}', '\u{178}',
];

/// Decodes `bytes` into `out` (appending). Fails only for invalid UTF-8.
pub fn decode_into(
    encoding: Encoding,
    bytes: &[u8],
    out: &mut String,
) -> Result<(), std::str::Utf8Error> {
    match encoding {
        Encoding::Utf8 => out.push_str(std::str::from_utf8(bytes)?),
        Encoding::Windows1252 | Encoding::Latin1 => {
            if let Ok(ascii) = std::str::from_utf8(bytes) {
                if ascii.is_ascii() {
                    out.push_str(ascii);
                    return Ok(());
                }
            }
            for &b in bytes {
                let c = match b {
                    0x80..=0x9F if encoding == Encoding::Windows1252 => {
                        CP1252_HIGH[usize::from(b - 0x80)]
                    }
                    _ => char::from(b),
                };
                out.push(c);
            }
        }
    }
    Ok(())
}

/// Encodes `text` in Windows-1252, appending to `out`; characters it cannot
/// represent become `?` (used by the data generator).
pub fn encode_windows_1252(text: &str, out: &mut Vec<u8>) {
    for c in text.chars() {
        let code = u32::from(c);
        let byte = match code {
            0..=0x7F | 0xA0..=0xFF => u8::try_from(code).ok(),
            _ => CP1252_HIGH
                .iter()
                .position(|h| *h == c && u32::from(*h) > 0xFF)
                .and_then(|i| u8::try_from(0x80 + i).ok()),
        };
        out.push(byte.unwrap_or(b'?'));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_and_decodes() {
        assert_eq!(detect(b"\xEF\xBB\xBFid;nom"), Encoding::Utf8);
        assert_eq!(detect("Éloïse".as_bytes()), Encoding::Utf8);
        // A multi-byte character cut by the end of the sample.
        assert_eq!(detect(&"é".as_bytes()[..1]), Encoding::Utf8);
        assert_eq!(detect(b"\xC9lo\xEFse"), Encoding::Windows1252);
        let mut s = String::new();
        decode_into(Encoding::Windows1252, b"\xC9lo\xEFse \x80 \x9C", &mut s).unwrap();
        assert_eq!(s, "Éloïse € œ");
        s.clear();
        decode_into(Encoding::Latin1, b"\xC9 \x80", &mut s).unwrap();
        assert_eq!(s, "É \u{80}");
        assert!(decode_into(Encoding::Utf8, b"\xC9", &mut s).is_err());
        let mut bytes = Vec::new();
        encode_windows_1252("Éloïse € œ Ω", &mut bytes);
        assert_eq!(bytes, b"\xC9lo\xEFse \x80 \x9C ?");
    }
}
