//! The LDAP connector (guide 8.3) and its Active Directory preset.
//!
//! The search runs with the paged-results control (RFC 2696) on a reader
//! thread ([`crate::pump`]): one page is parsed while the engine maps the
//! previous one, and at most a few pages are ever in memory. Attribute
//! names are matched case-insensitively (the guide asks for lower case;
//! servers answer in the schema's case). A multi-valued attribute gives its
//! first value; the pseudo-attribute `dn` gives the entry's DN; binary
//! attributes are read as text when they are UTF-8, `objectGUID` (16
//! bytes) always in its usual `xxxxxxxx-xxxx-…` form, others as
//! hexadecimal.

mod active_directory;
mod client;
mod filter;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use twp_directory::{ConnectionTest, Connector, ConnectorError, Location, RecordStream};

use crate::Secret;
use crate::pump::{self, Page, Sink};
use client::{ClientError, Connection, Io};

pub use active_directory::{AdId, active_directory_mapping};
pub use filter::{FilterError, and_equals, escape_filter_value, validate_filter};

/// How the connection is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain LDAP (port 389).
    #[default]
    None,
    /// LDAP over TLS (`ldaps://`, port 636).
    Ldaps,
    /// Plain connection upgraded with the StartTLS operation (port 389).
    StartTls,
}

/// Settings of an LDAP directory (Connector and Advanced tabs of 8.3).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapSettings {
    /// IP address or name of the server.
    pub host: String,
    /// Port; 389 (636 with LDAPS) when absent.
    #[serde(default)]
    pub port: Option<u16>,
    /// LDAPS, StartTLS or none.
    #[serde(default)]
    pub security: Security,
    /// Accept any server certificate (test servers only).
    #[serde(default)]
    pub accept_invalid_certificates: bool,
    /// Bind DN ("Name"); anonymous when empty.
    #[serde(default)]
    pub bind_name: String,
    /// Bind password.
    #[serde(default)]
    pub password: Secret,
    /// Base DN of the search ("Connection string").
    pub base_dn: String,
    /// The administrator's filter; `(objectClass=*)` when absent.
    #[serde(default)]
    pub filter: Option<String>,
    /// Entries per page (paged results control).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Maximum entries the server returns; 0 = the server's limit.
    #[serde(default)]
    pub size_limit: u32,
    /// Seconds allowed to connect and for each operation.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_page_size() -> u32 {
    1000
}

fn default_timeout() -> u64 {
    30
}

impl LdapSettings {
    /// Plain LDAP settings with the defaults of the guide.
    pub fn new(host: &str, base_dn: &str) -> Self {
        Self {
            host: host.to_owned(),
            port: None,
            security: Security::None,
            accept_invalid_certificates: false,
            bind_name: String::new(),
            password: Secret::default(),
            base_dn: base_dn.to_owned(),
            filter: None,
            page_size: default_page_size(),
            size_limit: 0,
            timeout_secs: default_timeout(),
        }
    }

    /// The port in use.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            Security::Ldaps => 636,
            _ => 389,
        })
    }

    fn url(&self) -> String {
        let scheme = if self.security == Security::Ldaps {
            "ldaps"
        } else {
            "ldap"
        };
        let host = self.host.trim();
        if host.contains(':') && !host.starts_with('[') {
            format!("{scheme}://[{host}]:{}", self.port())
        } else {
            format!("{scheme}://{host}:{}", self.port())
        }
    }

    /// Checks the settings that can be checked without a server; returns
    /// the filter to send.
    fn checked(&self) -> Result<String, ConnectorError> {
        if self.host.trim().is_empty() {
            return Err(ConnectorError::Format("Host: the server is not set".into()));
        }
        if self.base_dn.trim().is_empty() {
            return Err(ConnectorError::Format(
                "Connection string: the base DN is not set".into(),
            ));
        }
        if self.page_size == 0 || self.page_size > i32::MAX as u32 {
            return Err(ConnectorError::Format(format!(
                "Page size: {} is not a page size",
                self.page_size
            )));
        }
        match self.filter.as_deref() {
            None => Ok("(objectClass=*)".to_owned()),
            Some(f) if f.trim().is_empty() => Ok("(objectClass=*)".to_owned()),
            Some(f) => validate_filter(f)
                .map(|f| f.into_owned())
                .map_err(|e| ConnectorError::Format(e.to_string())),
        }
    }
}

/// An LDAP directory source.
#[derive(Clone, Debug)]
pub struct LdapConnector {
    settings: Arc<LdapSettings>,
    /// A size limit reached is an error rather than the end of the source.
    complete_only: bool,
}

impl LdapConnector {
    /// A connector with `settings`.
    pub fn new(settings: LdapSettings) -> Self {
        Self {
            settings: Arc::new(settings),
            complete_only: false,
        }
    }

    /// Makes a size limit reached (result code 4, the administrator's or
    /// the server's) fail the stream: for users imports, where a cut list
    /// would delete the users not read.
    pub fn complete_only(mut self) -> Self {
        self.complete_only = true;
        self
    }

    /// The settings.
    pub fn settings(&self) -> &LdapSettings {
        &self.settings
    }
}

impl Connector for LdapConnector {
    fn test_connection(&mut self) -> Result<ConnectionTest, ConnectorError> {
        let filter = self.settings.checked()?;
        let settings = Arc::clone(&self.settings);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ConnectorError::Connection(format!("cannot start a runtime: {e}")))?;
        runtime.block_on(async move {
            let mut ldap = connect(&settings).await?;
            let attributes = ["*".to_owned()];
            let search = client::Search {
                base: &settings.base_dn,
                filter: &filter,
                attributes: &attributes,
                size_limit: 1,
                page_size: None,
            };
            let mut fields: Vec<String> = Vec::new();
            let mut first = true;
            let done = async {
                let id = ldap.search(&search, &[]).await?;
                ldap.results(id, |_, mut attributes| {
                    if !std::mem::take(&mut first) {
                        return;
                    }
                    fields.push("dn".to_owned());
                    while let Ok(Some((name, _))) = attributes.next_attribute() {
                        fields.push(String::from_utf8_lossy(name).into_owned());
                    }
                })
                .await
            }
            .await
            .map_err(search_error)?;
            // Size limit exceeded (4) is expected: one entry was asked.
            if done.0 != 0 && done.0 != 4 {
                return Err(result_error(&settings, done.0, &done.1));
            }
            if let Some(names) = fields.get_mut(1..) {
                names.sort_unstable_by_key(|f| f.to_lowercase());
            }
            ldap.unbind().await;
            Ok(ConnectionTest {
                detail: format!(
                    "{} as {}, base {}, {}",
                    settings.url(),
                    if settings.bind_name.is_empty() {
                        "anonymous"
                    } else {
                        &settings.bind_name
                    },
                    settings.base_dn,
                    if fields.is_empty() {
                        "no entry matches the filter"
                    } else {
                        "first entry read"
                    }
                ),
                fields,
            })
        })
    }

    fn open<'a>(
        &'a mut self,
        fields: &[String],
    ) -> Result<Box<dyn RecordStream + 'a>, ConnectorError> {
        let filter = self.settings.checked()?;
        let settings = Arc::clone(&self.settings);
        let fields = fields.to_vec();
        let page = settings.page_size as usize;
        let complete_only = self.complete_only;
        let stream = pump::spawn("ldap-reader", page, move |sink| {
            search(settings, filter, fields, complete_only, sink)
        })?;
        Ok(Box::new(stream))
    }
}

impl LdapSettings {
    fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }
}

/// Connects, upgrades with StartTLS if asked, and binds.
async fn connect(settings: &LdapSettings) -> Result<Connection<Box<dyn Io>>, ConnectorError> {
    let host = settings.host.trim();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let connecting = client::connect(
        host,
        settings.port(),
        settings.security == Security::Ldaps,
        settings.security == Security::StartTls,
        settings.accept_invalid_certificates,
        settings.timeout(),
    );
    let unreachable = |e: &dyn std::fmt::Display| {
        ConnectorError::Connection(format!(
            "cannot reach the LDAP server {} (settings Host, Port and security): {e}",
            settings.url()
        ))
    };
    let mut ldap = match tokio::time::timeout(settings.timeout(), connecting).await {
        Ok(Ok(ldap)) => ldap,
        Ok(Err(e)) => return Err(unreachable(&e)),
        Err(_) => return Err(unreachable(&ClientError::Timeout(settings.timeout()))),
    };
    if !settings.bind_name.is_empty() || !settings.password.is_empty() {
        let (rc, text) = ldap
            .bind(&settings.bind_name, settings.password.expose())
            .await
            .map_err(|e| {
                ConnectorError::Connection(format!("bind to {} failed: {e}", settings.url()))
            })?;
        if rc != 0 {
            return Err(result_error(settings, rc, &text));
        }
    }
    Ok(ldap)
}

/// A precise message for an LDAP result code, naming the setting.
fn result_error(settings: &LdapSettings, rc: u32, text: &str) -> ConnectorError {
    let detail = if text.is_empty() {
        String::new()
    } else {
        format!(" ({text})")
    };
    match rc {
        49 => ConnectorError::Connection(format!(
            "the server refused the bind: wrong Name or Password for {:?}{detail}",
            settings.bind_name
        )),
        32 => ConnectorError::Connection(format!(
            "Connection string: the base DN {:?} does not exist on the server{detail}",
            settings.base_dn
        )),
        87 => ConnectorError::Format(format!("Filter: the server refused the filter{detail}")),
        50 => ConnectorError::Connection(format!(
            "the account {:?} (setting Name) may not read {:?}{detail}",
            settings.bind_name, settings.base_dn
        )),
        rc => ConnectorError::Connection(format!(
            "the LDAP server answered with result code {rc}{detail}"
        )),
    }
}

fn search_error(e: ClientError) -> ConnectorError {
    match e {
        ClientError::Filter => ConnectorError::Format("Filter: not a valid LDAP filter".to_owned()),
        e => ConnectorError::Connection(format!("LDAP search failed: {e}")),
    }
}

/// The attributes asked, and the fields each one fills.
struct Columns {
    /// Distinct attribute names (lower case, as sent) and their fields.
    attributes: Vec<(String, Vec<usize>)>,
    /// Fields that take the entry's DN (pseudo-attribute `dn`).
    dn: Vec<usize>,
    width: usize,
}

impl Columns {
    fn new(fields: &[String]) -> Self {
        let mut attributes: Vec<(String, Vec<usize>)> = Vec::new();
        let mut dn = Vec::new();
        for (i, f) in fields.iter().enumerate() {
            let name = f.to_lowercase();
            if name == "dn" {
                dn.push(i);
            } else if let Some((_, at)) = attributes.iter_mut().find(|(n, _)| *n == name) {
                at.push(i);
            } else {
                attributes.push((name, vec![i]));
            }
        }
        Self {
            attributes,
            dn,
            width: fields.len(),
        }
    }

    /// The names to ask the server for.
    fn requested(&self) -> Vec<String> {
        if self.attributes.is_empty() {
            // "1.1": no attribute (RFC 4511 4.5.1.8).
            return vec!["1.1".to_owned()];
        }
        self.attributes.iter().map(|(n, _)| n.clone()).collect()
    }

    fn fields_of(&self, name: &[u8]) -> Option<&[usize]> {
        self.attributes
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|(_, at)| at.as_slice())
    }
}

/// Decodes one entry into `page`: the first value of each asked
/// attribute; an entry that cannot be read is skipped, named by its DN.
fn decode_entry(columns: &Columns, page: &mut Page, dn: &[u8], attributes: wire::Attributes<'_>) {
    let Ok(dn_text) = std::str::from_utf8(dn) else {
        page.skip(
            Location::Dn(String::from_utf8_lossy(dn).into_owned()),
            "the entry's DN is not UTF-8".to_owned(),
        );
        return;
    };
    let mark = page.begin(dn_text);
    for &i in &columns.dn {
        page.value(&mark, i, mark.start());
    }
    match decode_values(columns, page, &mark, attributes) {
        Ok(()) => page.commit(mark, dn_text.len()),
        Err(e) => {
            page.rollback(mark);
            page.skip(
                Location::Dn(dn_text.to_owned()),
                format!("the entry is malformed: {e}"),
            );
        }
    }
}

fn decode_values(
    columns: &Columns,
    page: &mut Page,
    mark: &pump::Mark,
    mut attributes: wire::Attributes<'_>,
) -> Result<(), wire::WireError> {
    while let Some((name, mut values)) = attributes.next_attribute()? {
        let Some(at) = columns.fields_of(name) else {
            continue;
        };
        let Some(first) = values.next_value()? else {
            continue;
        };
        let start = page.text().len();
        binary_text(name, first, page.text());
        for &i in at {
            page.value(mark, i, start);
        }
    }
    Ok(())
}

/// The reader thread's work: a paged search, entries to the sink in
/// pages.
async fn search(
    settings: Arc<LdapSettings>,
    filter: String,
    fields: Vec<String>,
    complete_only: bool,
    mut sink: Sink,
) -> Result<(), ConnectorError> {
    let mut ldap = connect(&settings).await?;
    let columns = Columns::new(&fields);
    let attributes = columns.requested();
    let page_size = i32::try_from(settings.page_size).unwrap_or(i32::MAX);
    let search = client::Search {
        base: &settings.base_dn,
        filter: &filter,
        attributes: &attributes,
        size_limit: i32::try_from(settings.size_limit).unwrap_or(i32::MAX),
        page_size: Some(page_size),
    };
    let batch = settings.page_size.clamp(1, 10_000) as usize;
    let mut read: u64 = 0;
    let mut cookie: Vec<u8> = Vec::new();
    let (rc, text) = loop {
        let mut page = Page::new(columns.width, batch);
        let mut gone = false;
        let id = ldap.search(&search, &cookie).await.map_err(search_error)?;
        let (rc, text, next) = ldap
            .results(id, |dn, attributes| {
                if gone {
                    return;
                }
                read += 1;
                decode_entry(&columns, &mut page, dn, attributes);
                if page.len() >= batch {
                    let full = std::mem::replace(&mut page, Page::new(columns.width, batch));
                    gone = !sink.send_page(full);
                }
            })
            .await
            .map_err(search_error)?;
        if gone || !sink.send_page(page) {
            // The sync stopped reading (cancel, error): drop the search.
            return Ok(());
        }
        if rc != 0 || next.is_empty() {
            break (rc, text);
        }
        cookie = next;
    };
    if rc == 4 && complete_only {
        return Err(ConnectorError::Connection(format!(
            "the size limit was reached after {read} entries: the source was not read to the end{}",
            if text.is_empty() {
                String::new()
            } else {
                format!(" ({text})")
            }
        )));
    }
    // 4 = size limit exceeded: the administrator's Size limit was reached.
    if rc != 0 && rc != 4 {
        return Err(result_error(&settings, rc, &text));
    }
    ldap.unbind().await;
    Ok(())
}

/// Appends the text of a value: UTF-8 as is; `objectGUID` in its usual
/// form; other binary values in hexadecimal.
fn binary_text(name: &[u8], value: &[u8], out: &mut String) {
    if name.eq_ignore_ascii_case(b"objectGUID") {
        if let Ok(bytes) = <[u8; 16]>::try_from(value) {
            out.push_str(&active_directory::format_guid(&bytes));
            return;
        }
    }
    match std::str::from_utf8(value) {
        Ok(s) => out.push_str(s),
        Err(_) => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.reserve(value.len() * 2);
            for b in value {
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use twp_directory::{ReadOutcome, SourceRecord};

    use super::wire::encode::{entry, message};
    use super::wire::{Message, Response};
    use super::*;

    /// An attribute as the server sends it: name and values.
    type Attr = (Vec<u8>, Vec<Vec<u8>>);
    /// A record read back, or where and why it was skipped.
    type Read = Result<(Location, Vec<Option<String>>), (Location, String)>;

    /// Decodes `entries` (DN, attributes) as the reader thread does and
    /// reads them back as the engine does.
    fn read_back(fields: &[&str], entries: Vec<(Vec<u8>, Vec<Attr>)>) -> Vec<Read> {
        let fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        let columns = Columns::new(&fields);
        let mut stream = pump::spawn("test-ldap", 10, move |mut sink| async move {
            let mut page = Page::new(columns.width, 10);
            for (dn, attrs) in entries {
                let bytes = message(2, entry(&dn, &attrs), None);
                let m = Message::decode(&bytes).unwrap();
                let Response::Entry { dn, attributes } = m.response else {
                    panic!("not an entry")
                };
                decode_entry(&columns, &mut page, dn, attributes);
            }
            sink.send_page(page);
            Ok(())
        })
        .unwrap();
        let mut record = SourceRecord::new(fields.len());
        let mut out = Vec::new();
        loop {
            match stream.next_record(&mut record).unwrap() {
                ReadOutcome::End => return out,
                ReadOutcome::Record => out.push(Ok((
                    record.location().unwrap().clone(),
                    (0..fields.len())
                        .map(|i| record.get(i).map(str::to_owned))
                        .collect(),
                ))),
                ReadOutcome::Skipped { location, reason } => out.push(Err((location, reason))),
            }
        }
    }

    fn attr(name: &str, values: &[&[u8]]) -> Attr {
        (
            name.as_bytes().to_vec(),
            values.iter().map(|v| v.to_vec()).collect(),
        )
    }

    #[test]
    fn entries_decoded_into_the_asked_fields() {
        let guid: &[u8] = &[
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ];
        let got = read_back(
            &[
                "uid",
                "DN",
                "telephoneNumber",
                "objectguid",
                "photo",
                "uid",
                "mail",
            ],
            vec![
                (
                    b"uid=a,ou=people".to_vec(),
                    vec![
                        attr("UID", &[b"a"]),
                        attr("telephonenumber", &[b" +33 1 ", b"+33 2"]),
                        attr("objectGUID", &[guid]),
                        attr("photo", &[b"\xff\x00\x10"]),
                        attr("cn", &[b"ignored"]),
                        attr("mail", &[]),
                    ],
                ),
                (b"uid=\xff".to_vec(), vec![attr("uid", &[b"x"])]),
                (b"uid=b".to_vec(), vec![attr("uid", &[b"   "])]),
            ],
        );
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(
            got[0],
            Ok((
                Location::Dn("uid=a,ou=people".to_owned()),
                vec![
                    s("a"),
                    s("uid=a,ou=people"),
                    // the first value, trimmed
                    s("+33 1"),
                    s("00112233-4455-6677-8899-aabbccddeeff"),
                    s("ff0010"),
                    s("a"),
                    None,
                ]
            ))
        );
        // A DN that is not UTF-8: skipped and named, not a panic.
        assert_eq!(
            got[1],
            Err((
                Location::Dn("uid=\u{fffd}".to_owned()),
                "the entry's DN is not UTF-8".to_owned()
            ))
        );
        // A blank value is absent, as for every connector.
        assert_eq!(
            got[2],
            Ok((
                Location::Dn("uid=b".to_owned()),
                vec![None, s("uid=b"), None, None, None, None, None]
            ))
        );
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn a_malformed_entry_is_skipped_by_its_dn() {
        let columns = Columns::new(&["uid".to_owned()]);
        let mut page = Page::new(1, 4);
        let bytes = message(2, entry(b"uid=a", &[attr("uid", &[b"a"])]), None);
        let m = Message::decode(&bytes).unwrap();
        let Response::Entry { dn, attributes } = m.response else {
            panic!()
        };
        decode_entry(&columns, &mut page, dn, attributes);
        // The same entry with its first value's length damaged.
        let mut broken = bytes.clone();
        let at = broken.len() - 2;
        broken[at] = 0x7f;
        let m = Message::decode(&broken).unwrap();
        let Response::Entry { dn, attributes } = m.response else {
            panic!()
        };
        decode_entry(&columns, &mut page, dn, attributes);
        assert_eq!(page.len(), 2);
        let mut stream = pump::spawn("test-ldap", 4, move |mut sink| async move {
            sink.send_page(page);
            Ok(())
        })
        .unwrap();
        let mut record = SourceRecord::new(1);
        assert_eq!(
            stream.next_record(&mut record).unwrap(),
            ReadOutcome::Record
        );
        assert_eq!(record.get(0), Some("a"));
        match stream.next_record(&mut record).unwrap() {
            ReadOutcome::Skipped { location, reason } => {
                assert_eq!(location, Location::Dn("uid=a".into()));
                assert!(reason.starts_with("the entry is malformed"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(stream.next_record(&mut record).unwrap(), ReadOutcome::End);
    }

    #[test]
    fn columns_ask_each_attribute_once() {
        let c = Columns::new(&["uid".into(), "UID".into(), "dn".into(), "Mail".into()]);
        assert_eq!(c.requested(), ["uid", "mail"]);
        assert_eq!(c.fields_of(b"Uid"), Some(&[0, 1][..]));
        assert_eq!(c.dn, [2]);
        assert_eq!(Columns::new(&["dn".into()]).requested(), ["1.1"]);
    }
}
