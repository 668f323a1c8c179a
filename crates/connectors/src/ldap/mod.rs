//! The LDAP connector (guide 8.3) and its Active Directory preset.
//!
//! The search runs with the paged-results control (RFC 2696) on a reader
//! thread ([`crate::pump`]): one page is parsed while the engine maps the
//! previous one, and at most a few pages are ever in memory. Attribute
//! names are matched case-insensitively (the guide asks for lower case;
//! servers answer in the schema's case). A multi-valued attribute gives its
//! first value; the pseudo-attribute `dn` gives the entry's DN; binary
//! attributes are read as text when they are UTF-8, `objectGUID` in its
//! usual `xxxxxxxx-xxxx-…` form, others as hexadecimal.

mod active_directory;
mod filter;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ldap3::adapters::{EntriesOnly, PagedResults};
use ldap3::{LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry, SearchOptions};
use serde::Deserialize;
use twp_directory::{ConnectionTest, Connector, ConnectorError, Location, RecordStream};

use crate::Secret;
use crate::pump::{self, Item, Sink};

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
            ldap.with_timeout(settings.timeout())
                .with_search_options(SearchOptions::new().sizelimit(1));
            let found = ldap
                .search(&settings.base_dn, Scope::Subtree, &filter, vec!["*"])
                .await
                .map_err(|e| search_error(&settings, e))?;
            // Size limit exceeded (4) is expected: one entry was asked.
            if found.1.rc != 0 && found.1.rc != 4 {
                return Err(result_error(&settings, found.1.rc, &found.1.text));
            }
            let mut fields: Vec<String> = Vec::new();
            if let Some(entry) = found.0.into_iter().next() {
                let entry = SearchEntry::construct(entry);
                fields.extend(entry.attrs.keys().cloned());
                fields.extend(entry.bin_attrs.keys().cloned());
                fields.sort_unstable_by_key(|f| f.to_lowercase());
                fields.insert(0, "dn".to_owned());
            }
            let _ = ldap.unbind().await;
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
async fn connect(settings: &LdapSettings) -> Result<ldap3::Ldap, ConnectorError> {
    let conn_settings = LdapConnSettings::new()
        .set_conn_timeout(settings.timeout())
        .set_starttls(settings.security == Security::StartTls)
        .set_no_tls_verify(settings.accept_invalid_certificates);
    let (conn, mut ldap) = LdapConnAsync::with_settings(conn_settings, &settings.url())
        .await
        .map_err(|e| {
            ConnectorError::Connection(format!(
                "cannot reach the LDAP server {} (settings Host, Port and security): {e}",
                settings.url()
            ))
        })?;
    ldap3::drive!(conn);
    if !settings.bind_name.is_empty() || !settings.password.is_empty() {
        let result = ldap
            .with_timeout(settings.timeout())
            .simple_bind(&settings.bind_name, settings.password.expose())
            .await
            .map_err(|e| {
                ConnectorError::Connection(format!("bind to {} failed: {e}", settings.url()))
            })?;
        if result.rc != 0 {
            return Err(result_error(settings, result.rc, &result.text));
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

fn search_error(settings: &LdapSettings, e: LdapError) -> ConnectorError {
    match e {
        LdapError::LdapResult { result } => result_error(settings, result.rc, &result.text),
        LdapError::FilterParsing => {
            ConnectorError::Format("Filter: not a valid LDAP filter".to_owned())
        }
        e => ConnectorError::Connection(format!("LDAP search failed: {e}")),
    }
}

/// The reader thread's work: a paged search, entries to the sink.
async fn search(
    settings: Arc<LdapSettings>,
    filter: String,
    fields: Vec<String>,
    complete_only: bool,
    mut sink: Sink,
) -> Result<(), ConnectorError> {
    let mut ldap = connect(&settings).await?;
    let mut slots: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, f) in fields.iter().enumerate() {
        slots.entry(f.to_lowercase()).or_default().push(i);
    }
    let dn_slots = slots.remove("dn").unwrap_or_default();
    let mut attrs: Vec<String> = slots.keys().cloned().collect();
    if attrs.is_empty() {
        // "1.1": no attribute (RFC 4511 4.5.1.8).
        attrs.push("1.1".to_owned());
    }
    let mut options = SearchOptions::new();
    if settings.size_limit > 0 {
        options = options.sizelimit(i32::try_from(settings.size_limit).unwrap_or(i32::MAX));
    }
    ldap.with_search_options(options)
        .with_timeout(settings.timeout());
    let adapters: Vec<Box<dyn ldap3::adapters::Adapter<_, _>>> = vec![
        Box::new(EntriesOnly::new()),
        Box::new(PagedResults::new(settings.page_size as i32)),
    ];
    let mut stream = ldap
        .streaming_search_with(adapters, &settings.base_dn, Scope::Subtree, &filter, attrs)
        .await
        .map_err(|e| search_error(&settings, e))?;
    let mut read: u64 = 0;
    loop {
        let entry = match stream.next().await {
            Ok(Some(entry)) => entry,
            Ok(None) => break,
            Err(e) => return Err(search_error(&settings, e)),
        };
        read += 1;
        let entry = SearchEntry::construct(entry);
        let mut values: Vec<Option<String>> = vec![None; fields.len()];
        for &i in &dn_slots {
            values[i] = Some(entry.dn.clone());
        }
        for (name, vals) in entry.attrs {
            if let (Some(at), Some(first)) =
                (slots.get(&name.to_lowercase()), vals.into_iter().next())
            {
                for &i in at {
                    values[i] = Some(first.clone());
                }
            }
        }
        for (name, vals) in entry.bin_attrs {
            if let (Some(at), Some(first)) = (slots.get(&name.to_lowercase()), vals.first()) {
                let text = binary_text(&name, first);
                for &i in at {
                    values[i] = Some(text.clone());
                }
            }
        }
        let item = Item::Record {
            location: Location::Dn(entry.dn),
            values,
        };
        if !sink.push(item) {
            // The sync stopped reading (cancel, error): drop the search.
            let _ = stream.finish().await;
            return Ok(());
        }
    }
    let done = stream.finish().await;
    if done.rc == 4 && complete_only {
        return Err(ConnectorError::Connection(format!(
            "the size limit was reached after {read} entries: the source was not read to the end{}",
            if done.text.is_empty() {
                String::new()
            } else {
                format!(" ({})", done.text)
            }
        )));
    }
    // 4 = size limit exceeded: the administrator's Size limit was reached.
    if done.rc != 0 && done.rc != 4 {
        return Err(result_error(&settings, done.rc, &done.text));
    }
    sink.flush();
    let _ = ldap.unbind().await;
    Ok(())
}

/// Text of a binary attribute value.
fn binary_text(name: &str, value: &[u8]) -> String {
    if name.eq_ignore_ascii_case("objectGUID") {
        if let Ok(bytes) = <[u8; 16]>::try_from(value) {
            return active_directory::format_guid(&bytes);
        }
    }
    match std::str::from_utf8(value) {
        Ok(s) => s.to_owned(),
        Err(_) => value.iter().map(|b| format!("{b:02x}")).collect(),
    }
}
