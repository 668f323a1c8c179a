//! Framing of CSTA XML messages on a TCP stream.
//!
//! The only variant confirmed by captures today is the 8-byte header used by
//! public implementations (OpenScape Voice, Aastra/Mitel "non-delimited"
//! mode): `0x00 0x00`, the total length *including the header* as a
//! big-endian `u16`, the invoke id as 4 ASCII digits (`9999` marks events),
//! then the XML body in UTF-8. Lengths count bytes, never characters.
//!
//! [`FrameDecoder`] works over a [`BytesMut`] the way mini-redis does: it
//! looks at the buffer, returns `Ok(None)` until a whole frame is there, and
//! consumes exactly one frame when it is. Several frames in one read and a
//! frame split over many reads are both handled by the caller simply
//! appending what it reads to the buffer and calling `decode` in a loop.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::fmt;

/// Size of the header of [`Framing::LengthPrefixed`].
pub const HEADER_LEN: usize = 8;
/// Largest total length a `u16` length field can carry.
pub const MAX_WIRE_LEN: usize = u16::MAX as usize;

/// How frames are delimited on a link. A per-link setting, so variants seen
/// in future captures can be added without touching the callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Framing {
    /// `00 00 | length u16 BE (header included) | invoke id "dddd" | XML`.
    #[default]
    LengthPrefixed,
}

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Framing::LengthPrefixed => f.write_str("length-prefixed (8-byte header)"),
        }
    }
}

impl std::str::FromStr for Framing {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "length-prefixed" | "header8" | "default" => Ok(Framing::LengthPrefixed),
            other => Err(format!(
                "unknown CSTA framing {other:?} (known: length-prefixed)"
            )),
        }
    }
}

/// The invoke id that correlates a request with its response.
/// `0000`..`9998` for requests and responses, `9999` for events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InvokeId(u16);

impl InvokeId {
    /// The invoke id carried by unsolicited events.
    pub const EVENT: InvokeId = InvokeId(9999);
    /// First id a client uses.
    pub const FIRST: InvokeId = InvokeId(1);
    /// Last id usable for a request (9999 is reserved for events).
    pub const LAST_REQUEST: InvokeId = InvokeId(9998);

    /// `None` when `n` does not fit in 4 decimal digits.
    pub fn new(n: u16) -> Option<InvokeId> {
        (n <= 9999).then_some(InvokeId(n))
    }

    pub fn get(self) -> u16 {
        self.0
    }

    pub fn is_event(self) -> bool {
        self == Self::EVENT
    }

    /// The next request id, cycling `0001..=9998`.
    pub fn next_request(self) -> InvokeId {
        if self.0 >= Self::LAST_REQUEST.0 {
            Self::FIRST
        } else {
            InvokeId(self.0 + 1)
        }
    }

    fn to_ascii(self) -> [u8; 4] {
        let n = self.0;
        [
            b'0' + (n / 1000) as u8,
            b'0' + (n / 100 % 10) as u8,
            b'0' + (n / 10 % 10) as u8,
            b'0' + (n % 10) as u8,
        ]
    }

    fn from_ascii(b: &[u8]) -> Option<InvokeId> {
        if b.len() != 4 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = b.iter().fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
        Some(InvokeId(n))
    }
}

impl fmt::Display for InvokeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

/// One frame: its invoke id and its (not yet parsed) XML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub invoke_id: InvokeId,
    pub body: Bytes,
}

impl Frame {
    pub fn new(invoke_id: InvokeId, body: impl Into<Bytes>) -> Frame {
        Frame {
            invoke_id,
            body: body.into(),
        }
    }

    /// Total length on the wire (header included) with the default framing.
    pub fn wire_len(&self) -> usize {
        HEADER_LEN + self.body.len()
    }
}

/// What is wrong with a frame, and where (byte offset of the frame's first
/// header byte in the stream since the decoder was created).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame at offset {offset}: header must start with 00 00, found {found:02X?}")]
    BadMarker { offset: u64, found: [u8; 2] },
    #[error(
        "frame at offset {offset}: length {len} is too small (must exceed the {HEADER_LEN}-byte header)"
    )]
    TooShort { offset: u64, len: usize },
    #[error("frame at offset {offset}: length {len} exceeds the limit of {limit} bytes")]
    TooLong {
        offset: u64,
        len: usize,
        limit: usize,
    },
    #[error("frame at offset {offset}: invoke id {found:?} is not 4 ASCII digits")]
    BadInvokeId { offset: u64, found: String },
    #[error("frame body of {len} bytes does not fit in the 16-bit length field")]
    BodyTooLong { len: usize },
}

impl FrameError {
    /// Stream offset of the faulty frame, when known.
    pub fn offset(&self) -> Option<u64> {
        match self {
            FrameError::BadMarker { offset, .. }
            | FrameError::TooShort { offset, .. }
            | FrameError::TooLong { offset, .. }
            | FrameError::BadInvokeId { offset, .. } => Some(*offset),
            FrameError::BodyTooLong { .. } => None,
        }
    }
}

/// Incremental frame decoder and encoder for one link.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    framing: Framing,
    max_len: usize,
    consumed: u64,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new(Framing::default(), MAX_WIRE_LEN)
    }
}

impl FrameDecoder {
    /// `max_len` is the largest accepted total frame length (header
    /// included); it is capped to what the length field can express.
    pub fn new(framing: Framing, max_len: usize) -> FrameDecoder {
        FrameDecoder {
            framing,
            max_len: max_len.min(MAX_WIRE_LEN),
            consumed: 0,
        }
    }

    pub fn framing(&self) -> Framing {
        self.framing
    }

    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Bytes consumed so far: the offset of the next frame in the stream.
    pub fn offset(&self) -> u64 {
        self.consumed
    }

    /// Checks the header at the start of `buf` without consuming anything.
    /// `Ok(None)`: not enough bytes yet; `Ok(Some((id, len)))`: a valid
    /// header announcing a frame of `len` bytes in total.
    pub fn check_header(&self, buf: &[u8]) -> Result<Option<(InvokeId, usize)>, FrameError> {
        let offset = self.consumed;
        match self.framing {
            Framing::LengthPrefixed => {
                if buf.len() >= 2 && (buf[0] != 0 || buf[1] != 0) {
                    return Err(FrameError::BadMarker {
                        offset,
                        found: [buf[0], buf[1]],
                    });
                }
                if buf.len() < 4 {
                    return Ok(None);
                }
                let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
                if len <= HEADER_LEN {
                    return Err(FrameError::TooShort { offset, len });
                }
                if len > self.max_len {
                    return Err(FrameError::TooLong {
                        offset,
                        len,
                        limit: self.max_len,
                    });
                }
                if buf.len() < HEADER_LEN {
                    return Ok(None);
                }
                let id =
                    InvokeId::from_ascii(&buf[4..8]).ok_or_else(|| FrameError::BadInvokeId {
                        offset,
                        found: String::from_utf8_lossy(&buf[4..8]).into_owned(),
                    })?;
                Ok(Some((id, len)))
            }
        }
    }

    /// Takes one whole frame off the front of `buf`, if there is one.
    /// On error nothing is consumed; the stream cannot be trusted any more
    /// and the link should be closed.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        let Some((invoke_id, len)) = self.check_header(buf)? else {
            return Ok(None);
        };
        if buf.len() < len {
            buf.reserve(len - buf.len());
            return Ok(None);
        }
        let mut whole = buf.split_to(len);
        whole.advance(HEADER_LEN);
        self.consumed += len as u64;
        Ok(Some(Frame {
            invoke_id,
            body: whole.freeze(),
        }))
    }

    /// Appends the frame, header first, to `dst`.
    pub fn encode(&self, frame: &Frame, dst: &mut BytesMut) -> Result<(), FrameError> {
        encode_frame(self.framing, frame, self.max_len, dst)
    }
}

/// Appends `frame` to `dst` using `framing`; refuses frames over `max_len`.
pub fn encode_frame(
    framing: Framing,
    frame: &Frame,
    max_len: usize,
    dst: &mut BytesMut,
) -> Result<(), FrameError> {
    match framing {
        Framing::LengthPrefixed => {
            let len = frame.wire_len();
            if len > max_len.min(MAX_WIRE_LEN) {
                return Err(FrameError::BodyTooLong {
                    len: frame.body.len(),
                });
            }
            dst.reserve(len);
            dst.put_u16(0);
            dst.put_u16(len as u16);
            dst.put_slice(&frame.invoke_id.to_ascii());
            dst.put_slice(&frame.body);
            Ok(())
        }
    }
}

/// Convenience: one frame as bytes, default framing.
pub fn frame_to_bytes(frame: &Frame) -> Result<Bytes, FrameError> {
    let mut out = BytesMut::new();
    encode_frame(Framing::LengthPrefixed, frame, MAX_WIRE_LEN, &mut out)?;
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(id: u16, body: &str) -> Frame {
        Frame::new(InvokeId::new(id).unwrap(), body.as_bytes().to_vec())
    }

    #[test]
    fn header_layout() {
        let bytes = frame_to_bytes(&frame(1, "<a/>")).unwrap();
        assert_eq!(&bytes[..], b"\x00\x00\x00\x0c0001<a/>");
    }

    #[test]
    fn length_counts_bytes_not_chars() {
        let bytes = frame_to_bytes(&frame(9999, "<a>é</a>")).unwrap();
        assert_eq!(bytes[3] as usize, 8 + "<a>é</a>".len());
        assert_eq!(bytes.len(), 17);
    }

    #[test]
    fn split_and_batched_reads() {
        let mut wire = BytesMut::new();
        let dec = FrameDecoder::default();
        dec.encode(&frame(1, "<a/>"), &mut wire).unwrap();
        dec.encode(&frame(9999, "<bb/>"), &mut wire).unwrap();
        let wire = wire.freeze();
        // One byte at a time.
        let mut dec = FrameDecoder::default();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for b in wire.iter() {
            buf.put_u8(*b);
            while let Some(f) = dec.decode(&mut buf).unwrap() {
                got.push(f);
            }
        }
        assert_eq!(got, vec![frame(1, "<a/>"), frame(9999, "<bb/>")]);
        assert_eq!(dec.offset(), wire.len() as u64);
        // All at once.
        let mut dec = FrameDecoder::default();
        let mut buf = BytesMut::from(&wire[..]);
        assert_eq!(dec.decode(&mut buf).unwrap(), Some(frame(1, "<a/>")));
        assert_eq!(dec.decode(&mut buf).unwrap(), Some(frame(9999, "<bb/>")));
        assert_eq!(dec.decode(&mut buf).unwrap(), None);
    }

    #[test]
    fn refuses_bad_headers() {
        let mut dec = FrameDecoder::new(Framing::LengthPrefixed, 100);
        type Check = fn(&FrameError) -> bool;
        let cases: [(&[u8], Check); 5] = [
            (b"\x01\x00\x00\x0c0001", |e| {
                matches!(e, FrameError::BadMarker { .. })
            }),
            (b"\x00\x00\x00\x080001", |e| {
                matches!(e, FrameError::TooShort { len: 8, .. })
            }),
            (b"\x00\x00\x00\x000001", |e| {
                matches!(e, FrameError::TooShort { len: 0, .. })
            }),
            (b"\x00\x00\x00\x650001", |e| {
                matches!(e, FrameError::TooLong { len: 101, .. })
            }),
            (b"\x00\x00\x00\x0c00a1", |e| {
                matches!(e, FrameError::BadInvokeId { .. })
            }),
        ];
        for (bytes, check) in cases {
            let mut buf = BytesMut::from(bytes);
            let err = dec.decode(&mut buf).unwrap_err();
            assert!(check(&err), "{err}");
            assert_eq!(buf.len(), bytes.len(), "nothing consumed on error");
        }
    }

    #[test]
    fn invoke_ids_cycle() {
        assert_eq!(InvokeId::LAST_REQUEST.next_request(), InvokeId::FIRST);
        assert_eq!(InvokeId::FIRST.next_request().get(), 2);
        assert_eq!(InvokeId::new(10000), None);
        assert_eq!(InvokeId::new(42).unwrap().to_string(), "0042");
    }

    #[test]
    fn encode_refuses_oversized_body() {
        let big = frame(1, &"x".repeat(MAX_WIRE_LEN));
        assert!(matches!(
            frame_to_bytes(&big),
            Err(FrameError::BodyTooLong { .. })
        ));
    }
}
