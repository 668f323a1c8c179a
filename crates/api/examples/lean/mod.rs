//! Lean load-generating clients for the look-up benchmark: one keep-alive
//! connection each, requests written by hand and answers read by their
//! length, as `wrk` does for HTTP. The server under test and its clients
//! share the two cores: a heavyweight client (reqwest's URL handling,
//! header maps, ldap3's entry maps) takes cycles the server would use, so
//! both protocols are driven by clients of the same leanness and the ratio
//! compares the servers.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
fn encode_query(value: &str, out: &mut Vec<u8>) {
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
}

/// One HTTP/1.1 keep-alive connection sending `GET {path}{value}`.
pub struct HttpConn {
    stream: TcpStream,
    head: Vec<u8>,
    tail: Vec<u8>,
    request: Vec<u8>,
    buf: Vec<u8>,
}

impl HttpConn {
    /// Connects to `addr` (`host:port`); each request is
    /// `GET {path_and_query_prefix}{encoded value}` with `authorization`.
    pub async fn connect(addr: &str, path_and_query_prefix: &str, authorization: &str) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream,
            head: format!("GET {path_and_query_prefix}").into_bytes(),
            tail: format!(
                " HTTP/1.1\r\nhost: {addr}\r\nauthorization: {authorization}\r\naccept: application/json\r\n\r\n"
            )
            .into_bytes(),
            request: Vec::with_capacity(512),
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    /// Sends one request and returns the status and the body.
    pub async fn get(&mut self, value: &str) -> (u16, &[u8]) {
        self.request.clear();
        self.request.extend_from_slice(&self.head);
        encode_query(value, &mut self.request);
        self.request.extend_from_slice(&self.tail);
        self.stream
            .write_all(&self.request)
            .await
            .expect("write request");
        self.buf.clear();
        let (header_end, length) = loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                break (end + 4, content_length(&self.buf[..end]));
            }
            self.read_more().await;
        };
        while self.buf.len() < header_end + length {
            self.read_more().await;
        }
        let status = std::str::from_utf8(&self.buf[9..12])
            .ok()
            .and_then(|s| s.parse().ok())
            .expect("status line");
        (status, &self.buf[header_end..header_end + length])
    }

    async fn read_more(&mut self) {
        let at = self.buf.len();
        self.buf.resize(at + 8192, 0);
        let n = self.stream.read(&mut self.buf[at..]).await.expect("read");
        assert!(n > 0, "the server closed the connection");
        self.buf.truncate(at + n);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> usize {
    let head = std::str::from_utf8(head).expect("headers");
    head.split("\r\n")
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .expect("a content-length (the API does not chunk JSON answers)")
}

/// BER: a tag, its definite length, its content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn ber_integer(tag: u8, v: u32) -> Vec<u8> {
    let mut content: Vec<u8> = v
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    // a leading zero keeps the value positive (and zero is one byte)
    if content.first().is_none_or(|b| b & 0x80 != 0) {
        content.insert(0, 0);
    }
    tlv(tag, &content)
}

/// One LDAPv3 connection (RFC 4511) sending equality searches, the
/// filter an OR of one equality per attribute.
pub struct LdapConn {
    stream: TcpStream,
    next_id: u32,
    buf: Vec<u8>,
}

impl LdapConn {
    /// Connects and makes a simple bind.
    pub async fn bind(addr: &str, dn: &str, password: &str) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let mut conn = Self {
            stream,
            next_id: 1,
            buf: Vec::with_capacity(16 * 1024),
        };
        let mut bind = ber_integer(0x02, 3);
        bind.extend(tlv(0x04, dn.as_bytes()));
        bind.extend(tlv(0x80, password.as_bytes()));
        let (tag, code) = conn.exchange(0x60, &bind).await;
        assert_eq!((tag, code), (0x61, 0), "bind refused");
        conn
    }

    /// Searches `base` one level down for entries with `value` in any of
    /// `attributes`, asking for `cn`; returns the number of entries.
    pub async fn search_equal(&mut self, base: &str, attributes: &[&str], value: &str) -> usize {
        let mut any = Vec::new();
        for a in attributes {
            let mut ava = tlv(0x04, a.as_bytes());
            ava.extend(tlv(0x04, value.as_bytes()));
            any.extend(tlv(0xA3, &ava));
        }
        let mut search = tlv(0x04, base.as_bytes());
        search.extend([0x0A, 1, 1]); // scope: singleLevel
        search.extend([0x0A, 1, 0]); // derefAliases: never
        search.extend([0x02, 1, 0]); // sizeLimit
        search.extend([0x02, 1, 0]); // timeLimit
        search.extend([0x01, 1, 0]); // typesOnly: false
        search.extend(tlv(0xA1, &any));
        search.extend(tlv(0x30, &tlv(0x04, b"cn")));
        let id = self.send(0x63, &search).await;
        let mut entries = 0;
        loop {
            let (msg_id, tag, code) = self.read_message().await;
            assert_eq!(msg_id, id, "answer to another request");
            match tag {
                0x64 => entries += 1,
                0x65 => {
                    assert_eq!(code, 0, "search failed");
                    return entries;
                }
                _ => {} // references, intermediate responses
            }
        }
    }

    async fn exchange(&mut self, tag: u8, op: &[u8]) -> (u8, u8) {
        let id = self.send(tag, op).await;
        let (msg_id, tag, code) = self.read_message().await;
        assert_eq!(msg_id, id);
        (tag, code)
    }

    async fn send(&mut self, tag: u8, op: &[u8]) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = ber_integer(0x02, id);
        message.extend(tlv(tag, op));
        self.stream
            .write_all(&tlv(0x30, &message))
            .await
            .expect("write");
        id
    }

    /// Reads one LDAPMessage: its id, its protocolOp tag and, for a
    /// result, the result code (the first byte of the enumerated value).
    async fn read_message(&mut self) -> (u32, u8, u8) {
        loop {
            if let Some((header, len)) = length_at(&self.buf, 1) {
                let total = 1 + header + len;
                if self.buf.len() >= total {
                    let body = &self.buf[1 + header..total];
                    // messageID INTEGER
                    let (h, n) = length_at(body, 1).expect("message id");
                    let id = body[1 + h..1 + h + n]
                        .iter()
                        .fold(0u32, |v, b| (v << 8) | u32::from(*b));
                    let op = &body[1 + h + n..];
                    let tag = op[0];
                    let code = match length_at(op, 1) {
                        // resultCode ENUMERATED, first element of a result
                        Some((oh, _)) if op.len() > 3 + oh && op[1 + oh] == 0x0A => op[3 + oh],
                        _ => 0,
                    };
                    self.buf.drain(..total);
                    return (id, tag, code);
                }
            }
            let at = self.buf.len();
            self.buf.resize(at + 8192, 0);
            let n = self.stream.read(&mut self.buf[at..]).await.expect("read");
            assert!(n > 0, "the server closed the connection");
            self.buf.truncate(at + n);
        }
    }
}

/// The BER length at `at`: (bytes of the length itself, content length).
fn length_at(buf: &[u8], at: usize) -> Option<(usize, usize)> {
    let first = *buf.get(at)?;
    if first < 0x80 {
        return Some((1, usize::from(first)));
    }
    let n = usize::from(first & 0x7F);
    let bytes = buf.get(at + 1..at + 1 + n)?;
    Some((
        1 + n,
        bytes.iter().fold(0usize, |v, b| (v << 8) | usize::from(*b)),
    ))
}
