//! A directory's stored blobs read back from damaged bytes: contact chunks
//! (LZ4-compressed or as written before compression) and derived keys.
//! Any input gives contacts or an error, never a panic or an allocation
//! beyond what the bytes can expand to.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twp_store::directories::{
    read_stored_chunk, read_stored_derived, stored_chunk, stored_derived,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(contacts) = read_stored_chunk(data) {
        // what was read back, stored again, reads back the same
        assert_eq!(read_stored_chunk(&stored_chunk(&contacts)).ok(), Some(contacts));
    }
    let _ = read_stored_derived(data.to_vec());
    assert_eq!(read_stored_derived(stored_derived(data)).ok(), Some(data.to_vec()));
});
