//! # twp-csta — the CSTA wire layer of TWP
//!
//! The only crate of TWP that knows XML and the wire. It speaks CSTA phase
//! III services (ECMA-269) encoded in XML (ECMA-323) over TCP, as A5000 /
//! NeXspan and OpenScape Voice switches do.
//!
//! Layers, each in its own module:
//! - [`frame`]: the 8-byte-header framing ([`Framing`], [`FrameDecoder`]),
//!   a per-link setting.
//! - [`device`]: device identifiers and their reduction to a number
//!   (`N<302118840100>;noa=nk` → `302118840100`).
//! - [`model`]: the typed requests, responses, events and errors.
//! - [`codec`]: XML body ⇄ [`Message`] ([`decode`], [`encode`]).
//! - [`pretty`]: the human report behind `twp csta decode FILE`.
//! - [`link`]: an async client link (invoke ids, response matching, events,
//!   heartbeat).
//! - [`trace`]: the PDU tap of the links and the record lines of PDU trace
//!   files (guide 10.6).
//!
//! Decoding is tolerant where real switches differ (namespaces of editions
//! 2 to 6, prefixes, `privateData`, decorated device identifiers, unknown
//! events) and strict where a value would be misread (typed errors naming
//! the message, the element and the bad value).

pub mod codec;
pub mod device;
pub mod frame;
pub mod link;
pub mod model;
pub mod pretty;
pub mod trace;
mod xml;

pub use codec::{Edition, decode, encode, encode_with};
pub use device::{DeviceId, extract_number};
pub use frame::{Frame, FrameDecoder, FrameError, Framing, InvokeId};
pub use link::{Link, LinkConfig, LinkError, LinkEvent};

pub use model::*;
pub use pretty::{Report, decode_report};
pub use trace::{Direction, Pdu, PduSink, Tap, TraceLine};

pub use xml::error::{FieldError, XmlError};

/// Encodes a message into a frame with the given invoke id.
pub fn to_frame(invoke_id: InvokeId, msg: &Message) -> Frame {
    Frame::new(invoke_id, encode(msg).into_bytes())
}

/// Decodes the body of a frame.
pub fn from_frame(frame: &Frame) -> Result<Message, XmlError> {
    decode(&frame.body)
}
