//! The LDAP responses the connector reads (RFC 4511), decoded in place
//! from the bytes received: a message is framed by its BER length, then
//! walked without building a tree or copying a value. Requests are few
//! (bind, StartTLS, one search per page) and are encoded with `ldap3`'s
//! ASN.1 types in the connector's client.
//!
//! Public for the fuzz target (`fuzz/connectors`), not for other crates.

use thiserror::Error;

/// OID of the paged-results control (RFC 2696).
pub const PAGED_RESULTS_OID: &[u8] = b"1.2.840.113556.1.4.319";

/// Largest message accepted: an entry with a few photos is far smaller; a
/// length beyond this is a broken or hostile server.
pub const MAX_MESSAGE: usize = 64 << 20;

/// Why bytes received are not an LDAP message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum WireError {
    /// An element's length goes past the end of what contains it.
    #[error("truncated BER element")]
    Truncated,
    /// Indefinite length (not allowed in LDAP) or over 4 length bytes.
    #[error("BER length in indefinite or over-long form")]
    BadLength,
    /// A message over [`MAX_MESSAGE`] bytes.
    #[error("LDAP message of {0} bytes, over the limit")]
    TooLarge(usize),
    /// An element of another type than the grammar allows here.
    #[error("BER tag {found:#04x} where {expected} was expected")]
    UnexpectedTag {
        /// The tag read.
        found: u8,
        /// What the grammar wanted.
        expected: &'static str,
    },
    /// An INTEGER or ENUMERATED that is empty or does not fit.
    #[error("bad BER integer")]
    BadInteger,
}

/// Tag, header length and body length of the element at the start of
/// `buf`; `None` when more bytes are needed to know.
fn header(buf: &[u8]) -> Result<Option<(u8, usize, usize)>, WireError> {
    let Some(&tag) = buf.first() else {
        return Ok(None);
    };
    if tag & 0x1f == 0x1f {
        // Multi-byte tag numbers do not occur in LDAP.
        return Err(WireError::UnexpectedTag {
            found: tag,
            expected: "a one-byte tag",
        });
    }
    let Some(&first) = buf.get(1) else {
        return Ok(None);
    };
    if first < 0x80 {
        return Ok(Some((tag, 2, usize::from(first))));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return Err(WireError::BadLength);
    }
    let Some(bytes) = buf.get(2..2 + n) else {
        return Ok(None);
    };
    let len = bytes
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    Ok(Some((tag, 2 + n, len)))
}

/// Length of the complete message at the start of `buf`, or `None` when
/// more bytes are needed.
pub fn frame(buf: &[u8]) -> Result<Option<usize>, WireError> {
    let Some((tag, head, len)) = header(buf)? else {
        return Ok(None);
    };
    if tag != 0x30 {
        return Err(WireError::UnexpectedTag {
            found: tag,
            expected: "an LDAP message (SEQUENCE)",
        });
    }
    let total = head + len;
    if total > MAX_MESSAGE {
        return Err(WireError::TooLarge(total));
    }
    Ok((buf.len() >= total).then_some(total))
}

/// A cursor over consecutive BER elements.
#[derive(Clone, Copy, Debug)]
struct Elements<'a>(&'a [u8]);

impl<'a> Elements<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn next(&mut self) -> Result<(u8, &'a [u8]), WireError> {
        let (tag, head, len) = header(self.0)?.ok_or(WireError::Truncated)?;
        let end = head.checked_add(len).ok_or(WireError::Truncated)?;
        let body = self.0.get(head..end).ok_or(WireError::Truncated)?;
        self.0 = &self.0[end..];
        Ok((tag, body))
    }

    fn expect(&mut self, tag: u8, expected: &'static str) -> Result<&'a [u8], WireError> {
        let (found, body) = self.next()?;
        if found == tag {
            Ok(body)
        } else {
            Err(WireError::UnexpectedTag { found, expected })
        }
    }
}

fn integer(body: &[u8]) -> Result<i64, WireError> {
    if body.is_empty() || body.len() > 8 {
        return Err(WireError::BadInteger);
    }
    let negative = body[0] & 0x80 != 0;
    let start: i64 = if negative { -1 } else { 0 };
    Ok(body.iter().fold(start, |acc, &b| (acc << 8) | i64::from(b)))
}

/// The LDAPResult part of a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LdapResult<'a> {
    /// resultCode (0 success, 4 size limit exceeded, 32 no such object…).
    pub code: u32,
    /// diagnosticMessage.
    pub text: &'a [u8],
}

impl LdapResult<'_> {
    /// The diagnostic message as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.text).into_owned()
    }
}

fn ldap_result<'a>(e: &mut Elements<'a>) -> Result<LdapResult<'a>, WireError> {
    let code = integer(e.expect(0x0a, "a result code")?)?;
    let code = u32::try_from(code).map_err(|_| WireError::BadInteger)?;
    let _matched = e.expect(0x04, "a matched DN")?;
    let text = e.expect(0x04, "a diagnostic message")?;
    Ok(LdapResult { code, text })
}

/// The attributes of a search result entry, read one by one.
#[derive(Clone, Copy, Debug)]
pub struct Attributes<'a>(Elements<'a>);

impl<'a> Attributes<'a> {
    /// The next attribute: its description and its values.
    pub fn next_attribute(&mut self) -> Result<Option<(&'a [u8], Values<'a>)>, WireError> {
        if self.0.is_empty() {
            return Ok(None);
        }
        let mut partial = Elements(self.0.expect(0x30, "a partial attribute")?);
        let name = partial.expect(0x04, "an attribute description")?;
        let values = partial.expect(0x31, "a set of values")?;
        Ok(Some((name, Values(Elements(values)))))
    }
}

/// The values of one attribute, read one by one.
#[derive(Clone, Copy, Debug)]
pub struct Values<'a>(Elements<'a>);

impl<'a> Values<'a> {
    /// The next value.
    pub fn next_value(&mut self) -> Result<Option<&'a [u8]>, WireError> {
        if self.0.is_empty() {
            return Ok(None);
        }
        self.0.expect(0x04, "an attribute value").map(Some)
    }
}

/// The operation a response carries.
#[derive(Clone, Copy, Debug)]
pub enum Response<'a> {
    /// BindResponse.
    Bind(LdapResult<'a>),
    /// SearchResultEntry: the DN as sent, the attributes to walk.
    Entry {
        /// objectName.
        dn: &'a [u8],
        /// The partial attribute list.
        attributes: Attributes<'a>,
    },
    /// SearchResultDone.
    Done(LdapResult<'a>),
    /// ExtendedResponse (StartTLS, or a notice of disconnection).
    Extended(LdapResult<'a>),
    /// Search result references, intermediate responses and anything else
    /// the connector does not use.
    Other(u8),
}

/// One LDAP message.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    /// messageID (0: unsolicited notification).
    pub id: i64,
    /// The response.
    pub response: Response<'a>,
    controls: &'a [u8],
}

impl<'a> Message<'a> {
    /// Decodes one framed message (see [`frame`]).
    pub fn decode(bytes: &'a [u8]) -> Result<Self, WireError> {
        let mut outer = Elements(bytes);
        let mut m = Elements(outer.expect(0x30, "an LDAP message (SEQUENCE)")?);
        let id = integer(m.expect(0x02, "a message id")?)?;
        let (tag, body) = m.next()?;
        let controls = if m.is_empty() {
            &[][..]
        } else {
            m.expect(0xa0, "controls")?
        };
        let mut b = Elements(body);
        let response = match tag {
            0x61 => Response::Bind(ldap_result(&mut b)?),
            0x64 => {
                let dn = b.expect(0x04, "an entry's DN")?;
                let attributes = Attributes(Elements(b.expect(0x30, "an entry's attributes")?));
                Response::Entry { dn, attributes }
            }
            0x65 => Response::Done(ldap_result(&mut b)?),
            0x78 => Response::Extended(ldap_result(&mut b)?),
            other => Response::Other(other),
        };
        Ok(Self {
            id,
            response,
            controls,
        })
    }

    /// The cookie of the paged-results control, if the message has one
    /// (empty: the last page).
    pub fn paged_cookie(&self) -> Result<Option<&'a [u8]>, WireError> {
        let mut controls = Elements(self.controls);
        while !controls.is_empty() {
            let mut control = Elements(controls.expect(0x30, "a control")?);
            let oid = control.expect(0x04, "a control type")?;
            if oid != PAGED_RESULTS_OID {
                continue;
            }
            let mut value = None;
            while !control.is_empty() {
                let (tag, body) = control.next()?;
                if tag == 0x04 {
                    value = Some(body);
                }
            }
            let Some(value) = value else {
                return Ok(None);
            };
            let mut v = Elements(value);
            let mut seq = Elements(v.expect(0x30, "a paged-results value")?);
            let _size = integer(seq.expect(0x02, "a result size estimate")?)?;
            return seq.expect(0x04, "a paged-results cookie").map(Some);
        }
        Ok(None)
    }
}

/// Frames and decodes every message in `bytes`, walking entries to the
/// last value; for the property tests and the fuzz target.
pub fn walk(mut bytes: &[u8]) {
    while let Ok(Some(n)) = frame(bytes) {
        if let Ok(m) = Message::decode(&bytes[..n]) {
            let _ = m.paged_cookie();
            if let Response::Entry { mut attributes, .. } = m.response {
                while let Ok(Some((_, mut values))) = attributes.next_attribute() {
                    while let Ok(Some(_)) = values.next_value() {}
                }
            }
        }
        bytes = &bytes[n..];
    }
}

#[cfg(test)]
pub(crate) mod encode {
    //! Messages as a server sends them, encoded with lber, for tests.
    use super::*;
    use ldap3::asn1::{
        ASNTag, Enumerated, Integer, OctetString, Sequence, Set, Tag, TagClass, write,
    };

    pub(crate) fn encode(tag: Tag) -> Vec<u8> {
        let mut buf = bytes::BytesMut::new();
        write::encode_into(&mut buf, tag.into_structure()).unwrap();
        buf.to_vec()
    }

    pub(crate) fn octets(v: &[u8]) -> Tag {
        Tag::OctetString(OctetString {
            inner: v.to_vec(),
            ..Default::default()
        })
    }

    pub(crate) fn message(id: i64, op: Tag, controls: Option<Tag>) -> Vec<u8> {
        let mut inner = vec![
            Tag::Integer(Integer {
                inner: id,
                ..Default::default()
            }),
            op,
        ];
        inner.extend(controls);
        encode(Tag::Sequence(Sequence {
            inner,
            ..Default::default()
        }))
    }

    pub(crate) fn entry(dn: &[u8], attrs: &[(Vec<u8>, Vec<Vec<u8>>)]) -> Tag {
        Tag::Sequence(Sequence {
            id: 4,
            class: TagClass::Application,
            inner: vec![
                octets(dn),
                Tag::Sequence(Sequence {
                    inner: attrs
                        .iter()
                        .map(|(name, values)| {
                            Tag::Sequence(Sequence {
                                inner: vec![
                                    octets(name),
                                    Tag::Set(Set {
                                        inner: values.iter().map(|v| octets(v)).collect(),
                                        ..Default::default()
                                    }),
                                ],
                                ..Default::default()
                            })
                        })
                        .collect(),
                    ..Default::default()
                }),
            ],
        })
    }

    pub(crate) fn done(code: i64, text: &[u8], cookie: Option<&[u8]>) -> Vec<u8> {
        let op = Tag::Sequence(Sequence {
            id: 5,
            class: TagClass::Application,
            inner: vec![
                Tag::Enumerated(Enumerated {
                    inner: code,
                    ..Default::default()
                }),
                octets(b""),
                octets(text),
            ],
        });
        let controls = cookie.map(|c| {
            let value = encode(Tag::Sequence(Sequence {
                inner: vec![
                    Tag::Integer(Integer {
                        inner: 0,
                        ..Default::default()
                    }),
                    octets(c),
                ],
                ..Default::default()
            }));
            Tag::Sequence(Sequence {
                id: 0,
                class: TagClass::Context,
                inner: vec![
                    Tag::Sequence(Sequence {
                        inner: vec![octets(b"2.16.840.1.113730.3.4.2")],
                        ..Default::default()
                    }),
                    Tag::Sequence(Sequence {
                        inner: vec![octets(PAGED_RESULTS_OID), octets(&value)],
                        ..Default::default()
                    }),
                ],
            })
        });
        message(9, op, controls)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::encode::*;
    use super::*;

    #[test]
    fn done_with_a_paged_cookie() {
        let bytes = done(4, b"limit", Some(b"\x01\x02"));
        assert_eq!(frame(&bytes).unwrap(), Some(bytes.len()));
        assert_eq!(frame(&bytes[..bytes.len() - 1]).unwrap(), None);
        let m = Message::decode(&bytes).unwrap();
        assert_eq!(m.id, 9);
        match m.response {
            Response::Done(r) => assert_eq!((r.code, r.text()), (4, "limit".to_owned())),
            other => panic!("{other:?}"),
        }
        assert_eq!(m.paged_cookie().unwrap(), Some(&b"\x01\x02"[..]));
        let last = done(0, b"", None);
        assert_eq!(
            Message::decode(&last).unwrap().paged_cookie().unwrap(),
            None
        );
    }

    #[test]
    fn long_lengths_and_refusals() {
        let big = vec![b'x'; 70_000];
        let bytes = message(
            1,
            entry(b"uid=a", &[(b"photo".to_vec(), vec![big.clone()])]),
            None,
        );
        assert_eq!(frame(&bytes).unwrap(), Some(bytes.len()));
        let Response::Entry { mut attributes, .. } = Message::decode(&bytes).unwrap().response
        else {
            panic!()
        };
        let (_, mut values) = attributes.next_attribute().unwrap().unwrap();
        assert_eq!(values.next_value().unwrap(), Some(&big[..]));
        // Indefinite length, a tag that is not a message, a huge length.
        assert_eq!(frame(&[0x30, 0x80]), Err(WireError::BadLength));
        assert!(frame(&[0x04, 0x00]).is_err());
        assert_eq!(
            frame(&[0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]),
            Err(WireError::TooLarge(0x7fff_ffff + 6))
        );
        assert!(Message::decode(&[0x30, 0x03, 0x02, 0x05, 0x01]).is_err());
    }

    proptest! {
        /// What lber encodes, the decoder reads back, value for value.
        #[test]
        fn entries_round_trip(
            id in 0i64..i64::from(i32::MAX),
            dn in proptest::collection::vec(any::<u8>(), 0..40),
            attrs in proptest::collection::vec(
                (
                    proptest::collection::vec(any::<u8>(), 0..20),
                    proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..4),
                ),
                0..12,
            ),
        ) {
            let bytes = message(id, entry(&dn, &attrs), None);
            prop_assert_eq!(frame(&bytes).unwrap(), Some(bytes.len()));
            let m = Message::decode(&bytes).unwrap();
            prop_assert_eq!(m.id, id);
            let Response::Entry { dn: got_dn, mut attributes } = m.response else {
                return Err(TestCaseError::fail("not an entry"));
            };
            prop_assert_eq!(got_dn, &dn[..]);
            let mut got = Vec::new();
            while let Some((name, mut values)) = attributes.next_attribute().unwrap() {
                let mut vs = Vec::new();
                while let Some(v) = values.next_value().unwrap() {
                    vs.push(v.to_vec());
                }
                got.push((name.to_vec(), vs));
            }
            prop_assert_eq!(got, attrs);
        }

        /// Any bytes: framed or refused, decoded or refused, never a panic.
        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            walk(&bytes);
        }

        /// A valid message cut or altered anywhere: never a panic.
        #[test]
        fn damaged_messages_never_panic(at in 0usize..400, byte in any::<u8>(), cut in any::<bool>()) {
            let mut bytes = message(3, entry(b"uid=x", &[(b"cn".to_vec(), vec![b"X".to_vec(), b"Y".to_vec()])]), None);
            bytes.extend(done(0, b"", Some(b"abc")));
            let at = at % bytes.len();
            if cut { bytes.truncate(at) } else { bytes[at] = byte }
            walk(&bytes);
        }
    }
}
