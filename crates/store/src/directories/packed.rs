//! A directory's stored blobs (contact chunks, derived keys) compressed
//! with LZ4: a synchronisation writes about half the bytes (contacts and
//! folded text compress well) and SQLite copies them twice (WAL, then the
//! checkpoint), which was most of a 500,000-contact sync's saving time.
//!
//! Layout: `Z1`, the expanded length as `u32` little-endian, the LZ4 block.
//! A blob without the tag is read as is: chunks begin with their codec
//! version (1) and derived keys with `TWPDK`, so blobs written before
//! compression still load.

use std::borrow::Cow;

use super::codec::CodecError;

const TAG: &[u8; 2] = b"Z1";
const HEADER: usize = TAG.len() + 4;

/// LZ4 expands a block at most 255 times; never trust the stored length
/// beyond that (damaged bytes must not allocate gigabytes).
const MAX_RATIO: usize = 255;

/// Compresses a blob for storage.
pub fn pack(bytes: &[u8]) -> Vec<u8> {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    let mut out = vec![0; HEADER + lz4_flex::block::get_maximum_output_size(bytes.len())];
    out[..2].copy_from_slice(TAG);
    out[2..HEADER].copy_from_slice(&len.to_le_bytes());
    // the buffer is sized for the worst case, so compression cannot fail;
    // if it ever did, the blob is kept uncompressed (read back as is)
    match lz4_flex::block::compress_into(bytes, &mut out[HEADER..]) {
        Ok(n) if len as usize == bytes.len() => {
            out.truncate(HEADER + n);
            out
        }
        _ => bytes.to_vec(),
    }
}

/// The blob as it was before [`pack`]; an untagged blob is returned as is.
pub fn unpack(stored: &[u8]) -> Result<Cow<'_, [u8]>, CodecError> {
    let Some(rest) = stored.strip_prefix(TAG) else {
        return Ok(Cow::Borrowed(stored));
    };
    let Some((len, block)) = rest.split_first_chunk::<4>() else {
        return Err(CodecError {
            at: stored.len(),
            what: "truncated compression header",
        });
    };
    let len = u32::from_le_bytes(*len) as usize;
    if len > block.len().saturating_mul(MAX_RATIO).saturating_add(16) {
        return Err(CodecError {
            at: 2,
            what: "expanded length out of range",
        });
    }
    let mut out = vec![0; len];
    match lz4_flex::block::decompress_into(block, &mut out) {
        Ok(n) if n == len => Ok(Cow::Owned(out)),
        Ok(_) => Err(CodecError {
            at: HEADER,
            what: "compressed block shorter than its length",
        }),
        Err(_) => Err(CodecError {
            at: HEADER,
            what: "damaged compressed block",
        }),
    }
}

/// [`unpack`] of an owned blob, without copying an untagged one.
pub fn unpack_owned(stored: Vec<u8>) -> Result<Vec<u8>, CodecError> {
    match unpack(&stored)? {
        Cow::Owned(v) => Ok(v),
        Cow::Borrowed(_) => Ok(stored),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..4000), repeat in 1usize..20) {
            let bytes = bytes.repeat(repeat);
            let packed = pack(&bytes);
            prop_assert!(packed.starts_with(TAG));
            let unpacked = unpack(&packed).unwrap();
            prop_assert_eq!(unpacked.as_ref(), bytes.as_slice());
            prop_assert_eq!(unpack_owned(packed).unwrap(), bytes);
        }

        #[test]
        fn damaged_blobs_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut tagged = TAG.to_vec();
            tagged.extend(&bytes);
            let _ = unpack(&tagged);
            let _ = unpack(&bytes);
        }

        #[test]
        fn truncation_is_an_error(bytes in proptest::collection::vec(any::<u8>(), 1..2000), cut in 1usize..40) {
            let packed = pack(&bytes);
            let keep = packed.len().saturating_sub(cut).max(TAG.len());
            prop_assert!(unpack(&packed[..keep]).is_err());
        }
    }

    #[test]
    fn untagged_blobs_are_read_as_they_are() {
        let legacy = b"TWPDK1\0\0rest".to_vec();
        assert!(matches!(unpack(&legacy).unwrap(), Cow::Borrowed(b) if b == legacy.as_slice()));
        assert_eq!(
            unpack_owned(vec![1, 0, 0, 0, 0]).unwrap(),
            vec![1, 0, 0, 0, 0]
        );
    }

    #[test]
    fn a_huge_claimed_length_is_refused_before_allocating() {
        let mut blob = TAG.to_vec();
        blob.extend(u32::MAX.to_le_bytes());
        blob.extend([0x10, b'a']);
        assert_eq!(
            unpack(&blob).unwrap_err().what,
            "expanded length out of range"
        );
    }
}
