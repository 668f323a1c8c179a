//! A lean LDAP client for the connector's few operations: connect (plain,
//! LDAPS or StartTLS with native TLS), simple bind, search pages, unbind.
//! `ldap3` parses every message into a tree of allocations, clones it and
//! sends each entry through a channel; here a response is framed in one
//! read buffer and decoded in place ([`super::wire`]), one operation at a
//! time. Requests are encoded with `ldap3`'s ASN.1 types and its filter
//! parser, so what is sent is what `ldap3` sent.

use std::time::Duration;

use bytes::BytesMut;
use ldap3::asn1::{
    ASNTag, Boolean, Enumerated, Integer, Null, OctetString, Sequence, Tag, TagClass, write,
};
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::wire::{self, Message, PAGED_RESULTS_OID, Response, WireError};

const STARTTLS_OID: &str = "1.3.6.1.4.1.1466.20037";

/// Free space asked of the read buffer before each read.
const READ_SIZE: usize = 16 << 10;

/// What went wrong on the connection.
#[derive(Debug, Error)]
pub(super) enum ClientError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the server's answer is malformed: {0}")]
    Wire(#[from] WireError),
    #[error("TLS connection failed: {0}")]
    Tls(#[from] native_tls::Error),
    #[error("the server closed the connection{0}")]
    Closed(String),
    #[error("the server refused StartTLS with result code {0}{1}")]
    StartTls(u32, String),
    #[error("the server sent data after accepting StartTLS")]
    StartTlsData,
    #[error("the filter cannot be encoded")]
    Filter,
}

/// A byte stream: TCP, or TLS over TCP.
pub(super) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One connection, one operation at a time.
pub(super) struct Connection<S> {
    stream: S,
    buf: Vec<u8>,
    /// `buf[start..end]`: bytes received and not yet handed out.
    start: usize,
    end: usize,
    next_id: i32,
    timeout: Duration,
}

/// The search parameters sent with each page.
pub(super) struct Search<'a> {
    pub base: &'a str,
    /// The filter as `ldap3` parses it (checked before).
    pub filter: &'a str,
    pub attributes: &'a [String],
    pub size_limit: i32,
    pub page_size: Option<i32>,
}

/// Connects to `host:port`, with TLS from the start (`tls`) or after the
/// StartTLS operation (`starttls`). The caller bounds the whole with its
/// connection timeout.
pub(super) async fn connect(
    host: &str,
    port: u16,
    tls: bool,
    starttls: bool,
    accept_invalid_certificates: bool,
    timeout: Duration,
) -> Result<Connection<Box<dyn Io>>, ClientError> {
    let mut tcp = TcpStream::connect((host, port)).await?;
    tcp.set_nodelay(true)?;
    if !tls && !starttls {
        return Ok(Connection::new(Box::new(tcp), timeout));
    }
    if starttls {
        let mut plain = Connection::new(&mut tcp, timeout);
        let id = plain
            .send(Tag::Sequence(Sequence {
                id: 23,
                class: TagClass::Application,
                inner: vec![Tag::OctetString(OctetString {
                    id: 0,
                    class: TagClass::Context,
                    inner: STARTTLS_OID.as_bytes().to_vec(),
                })],
            }))
            .await?;
        let (code, text) = plain
            .answer(id, |r| match r {
                Response::Extended(r) => Some((r.code, r.text())),
                _ => None,
            })
            .await?;
        if code != 0 {
            return Err(ClientError::StartTls(code, detail(&text)));
        }
        if plain.start < plain.end {
            // Bytes after the answer would be plain text taken as TLS.
            return Err(ClientError::StartTlsData);
        }
    }
    let mut builder = native_tls::TlsConnector::builder();
    if accept_invalid_certificates {
        builder.danger_accept_invalid_certs(true);
    }
    let connector = tokio_native_tls::TlsConnector::from(builder.build()?);
    let stream = connector.connect(host, tcp).await?;
    Ok(Connection::new(Box::new(stream), timeout))
}

fn detail(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(" ({text})")
    }
}

fn octets(v: &[u8]) -> Tag {
    Tag::OctetString(OctetString {
        inner: v.to_vec(),
        ..Default::default()
    })
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    fn new(stream: S, timeout: Duration) -> Self {
        Self {
            stream,
            buf: vec![0; 4 * READ_SIZE],
            start: 0,
            end: 0,
            next_id: 1,
            timeout,
        }
    }

    /// Sends an operation with controls; returns its message id.
    async fn send_with(&mut self, op: Tag, controls: Option<Tag>) -> Result<i32, ClientError> {
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        let mut inner = vec![
            Tag::Integer(Integer {
                inner: i64::from(id),
                ..Default::default()
            }),
            op,
        ];
        inner.extend(controls);
        let mut out = BytesMut::new();
        write::encode_into(
            &mut out,
            Tag::Sequence(Sequence {
                inner,
                ..Default::default()
            })
            .into_structure(),
        )?;
        tokio::time::timeout(self.timeout, self.stream.write_all(&out))
            .await
            .map_err(|_| ClientError::Timeout(self.timeout))??;
        Ok(id)
    }

    async fn send(&mut self, op: Tag) -> Result<i32, ClientError> {
        self.send_with(op, None).await
    }

    /// The range in `buf` of the next complete message, reading more as
    /// needed (each read within the timeout).
    async fn next_message(&mut self) -> Result<(usize, usize), ClientError> {
        loop {
            if let Some(n) = wire::frame(&self.buf[self.start..self.end])? {
                let at = self.start;
                self.start += n;
                return Ok((at, at + n));
            }
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.end < READ_SIZE {
                let grown = (self.buf.len() * 2).max(self.end + READ_SIZE);
                self.buf.resize(grown, 0);
            }
            let n = tokio::time::timeout(self.timeout, self.stream.read(&mut self.buf[self.end..]))
                .await
                .map_err(|_| ClientError::Timeout(self.timeout))??;
            if n == 0 {
                return Err(ClientError::Closed(String::new()));
            }
            self.end += n;
        }
    }

    /// Reads messages until the answer to `id` that `pick` accepts;
    /// others of the same id (and stray ones) are skipped. A notice of
    /// disconnection (id 0) is an error.
    async fn answer<T>(
        &mut self,
        id: i32,
        mut pick: impl FnMut(&Response<'_>) -> Option<T>,
    ) -> Result<T, ClientError> {
        loop {
            let (a, b) = self.next_message().await?;
            let m = Message::decode(&self.buf[a..b])?;
            if m.id == 0 {
                return Err(closed(&m));
            }
            if m.id != i64::from(id) {
                continue;
            }
            if let Some(t) = pick(&m.response) {
                return Ok(t);
            }
        }
    }

    /// Simple bind; returns the result code and message.
    pub(super) async fn bind(
        &mut self,
        name: &str,
        password: &str,
    ) -> Result<(u32, String), ClientError> {
        let id = self
            .send(Tag::Sequence(Sequence {
                id: 0,
                class: TagClass::Application,
                inner: vec![
                    Tag::Integer(Integer {
                        inner: 3,
                        ..Default::default()
                    }),
                    octets(name.as_bytes()),
                    Tag::OctetString(OctetString {
                        id: 0,
                        class: TagClass::Context,
                        inner: password.as_bytes().to_vec(),
                    }),
                ],
            }))
            .await?;
        self.answer(id, |r| match r {
            Response::Bind(r) => Some((r.code, r.text())),
            _ => None,
        })
        .await
    }

    /// Sends one search request (one page when paged, with `cookie`).
    pub(super) async fn search(
        &mut self,
        search: &Search<'_>,
        cookie: &[u8],
    ) -> Result<i32, ClientError> {
        let filter = ldap3::parse_filter(search.filter).map_err(|()| ClientError::Filter)?;
        let op = Tag::Sequence(Sequence {
            id: 3,
            class: TagClass::Application,
            inner: vec![
                octets(search.base.as_bytes()),
                // Subtree, never dereference aliases: as ldap3 sent them.
                Tag::Enumerated(Enumerated {
                    inner: 2,
                    ..Default::default()
                }),
                Tag::Enumerated(Enumerated {
                    inner: 0,
                    ..Default::default()
                }),
                Tag::Integer(Integer {
                    inner: i64::from(search.size_limit),
                    ..Default::default()
                }),
                Tag::Integer(Integer {
                    inner: 0,
                    ..Default::default()
                }),
                Tag::Boolean(Boolean {
                    inner: false,
                    ..Default::default()
                }),
                filter,
                Tag::Sequence(Sequence {
                    inner: search
                        .attributes
                        .iter()
                        .map(|a| octets(a.as_bytes()))
                        .collect(),
                    ..Default::default()
                }),
            ],
        });
        let controls = match search.page_size {
            None => None,
            Some(size) => {
                let mut value = BytesMut::new();
                write::encode_into(
                    &mut value,
                    Tag::Sequence(Sequence {
                        inner: vec![
                            Tag::Integer(Integer {
                                inner: i64::from(size),
                                ..Default::default()
                            }),
                            octets(cookie),
                        ],
                        ..Default::default()
                    })
                    .into_structure(),
                )?;
                Some(Tag::Sequence(Sequence {
                    id: 0,
                    class: TagClass::Context,
                    inner: vec![Tag::Sequence(Sequence {
                        inner: vec![octets(PAGED_RESULTS_OID), octets(&value)],
                        ..Default::default()
                    })],
                }))
            }
        };
        self.send_with(op, controls).await
    }

    /// Reads the answers to search `id` up to its end: `entry` is called
    /// with each entry (DN as sent, attributes); returns the result and the
    /// paged-results cookie (empty: no more pages).
    pub(super) async fn results(
        &mut self,
        id: i32,
        mut entry: impl FnMut(&[u8], wire::Attributes<'_>),
    ) -> Result<(u32, String, Vec<u8>), ClientError> {
        loop {
            let (a, b) = self.next_message().await?;
            let m = Message::decode(&self.buf[a..b])?;
            if m.id == 0 {
                return Err(closed(&m));
            }
            if m.id != i64::from(id) {
                continue;
            }
            match m.response {
                Response::Entry { dn, attributes } => entry(dn, attributes),
                Response::Done(r) => {
                    let cookie = m.paged_cookie()?.unwrap_or_default().to_vec();
                    return Ok((r.code, r.text(), cookie));
                }
                _ => {}
            }
        }
    }

    /// Says goodbye; errors do not matter any more.
    pub(super) async fn unbind(mut self) {
        let _ = self
            .send(Tag::Null(Null {
                id: 2,
                class: TagClass::Application,
                inner: (),
            }))
            .await;
        let _ = self.stream.shutdown().await;
    }
}

fn closed(m: &Message<'_>) -> ClientError {
    match m.response {
        Response::Extended(r) | Response::Done(r) => {
            ClientError::Closed(format!(" (result code {}{})", r.code, detail(&r.text())))
        }
        _ => ClientError::Closed(String::new()),
    }
}
