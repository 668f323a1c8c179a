//! Contacts packed for storage: a chunk is a version byte, a count, then
//! per contact its red-list mask, its number of fields and each field as
//! (index, length, UTF-8 bytes), lengths little-endian. Decoding checks
//! everything, so damaged bytes are an error, never a panic.

use twp_directory::{Contact, ContactField};

const VERSION: u8 = 1;

/// Stored contacts that cannot be read back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("stored contacts are damaged at byte {at}: {what}")]
pub struct CodecError {
    pub at: usize,
    pub what: &'static str,
}

/// Packs contacts.
pub fn encode_chunk(contacts: &[Contact]) -> Vec<u8> {
    let mut out = Vec::with_capacity(contacts.len() * 96 + 5);
    out.push(VERSION);
    out.extend_from_slice(
        &u32::try_from(contacts.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    for c in contacts {
        out.push(c.red_list());
        let fields: Vec<(ContactField, &str)> = c.fields().collect();
        out.push(u8::try_from(fields.len()).unwrap_or(u8::MAX));
        for (f, v) in fields {
            out.push(f as u8);
            out.extend_from_slice(&u32::try_from(v.len()).unwrap_or(u32::MAX).to_le_bytes());
            out.extend_from_slice(v.as_bytes());
        }
    }
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len());
        let Some(end) = end else {
            return Err(self.err("truncated"));
        };
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, CodecError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn err(&self, what: &'static str) -> CodecError {
        CodecError { at: self.at, what }
    }
}

/// Unpacks contacts packed by [`encode_chunk`].
pub fn decode_chunk(bytes: &[u8]) -> Result<Vec<Contact>, CodecError> {
    let mut r = Reader { bytes, at: 0 };
    if r.u8()? != VERSION {
        return Err(r.err("unknown version"));
    }
    let count = r.u32()? as usize;
    // each contact takes two bytes at least: never trust the count for memory
    let mut out = Vec::with_capacity(count.min(bytes.len() / 2));
    let mut fields: Vec<(ContactField, &str)> = Vec::with_capacity(ContactField::ALL.len());
    for _ in 0..count {
        let red_list = r.u8()?;
        let n = r.u8()?;
        fields.clear();
        for _ in 0..n {
            let f = r.u8()?;
            let field = *ContactField::ALL
                .get(usize::from(f))
                .ok_or_else(|| r.err("unknown field"))?;
            let len = r.u32()? as usize;
            let v = std::str::from_utf8(r.take(len)?).map_err(|_| r.err("not UTF-8"))?;
            fields.push((field, v));
        }
        out.push(Contact::new(fields.iter().copied(), red_list));
    }
    if r.at != bytes.len() {
        return Err(r.err("trailing bytes"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn contact() -> impl Strategy<Value = Contact> {
        (
            proptest::collection::vec((0..ContactField::ALL.len(), "\\PC{0,12}"), 0..8),
            any::<u8>(),
        )
            .prop_map(|(fields, red)| {
                Contact::new(
                    fields
                        .iter()
                        .map(|(i, v)| (ContactField::ALL[*i], v.as_str())),
                    red,
                )
            })
    }

    proptest! {
        #[test]
        fn round_trip(contacts in proptest::collection::vec(contact(), 0..40)) {
            let bytes = encode_chunk(&contacts);
            prop_assert_eq!(decode_chunk(&bytes).unwrap(), contacts);
        }

        #[test]
        fn damaged_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_chunk(&bytes);
        }

        #[test]
        fn truncation_is_an_error(contacts in proptest::collection::vec(contact(), 1..10), cut in 1usize..50) {
            let bytes = encode_chunk(&contacts);
            let keep = bytes.len().saturating_sub(cut);
            prop_assert!(decode_chunk(&bytes[..keep]).is_err());
        }
    }
}
