//! Arbitrary bytes through the frame decoder, in arbitrary read sizes:
//! never panics, never loops, and every frame it yields re-encodes to the
//! bytes it came from.
#![no_main]

use bytes::{BufMut, BytesMut};
use libfuzzer_sys::fuzz_target;
use twp_csta::{FrameDecoder, Framing};

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut dec = FrameDecoder::new(Framing::LengthPrefixed, 4096);
    let mut buf = BytesMut::new();
    let mut offset = 0usize;
    for piece in rest.chunks(chunk) {
        buf.put_slice(piece);
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    let mut again = BytesMut::new();
                    if dec.encode(&frame, &mut again).is_ok() {
                        assert_eq!(&again[..], &rest[offset..offset + again.len()]);
                        offset += again.len();
                    }
                    let _ = twp_csta::from_frame(&frame);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
