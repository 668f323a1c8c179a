//! Where a run reads its entries: the LDAP / Active Directory connector of
//! `twp-connectors` (paged, LDAPS/StartTLS, a size limit reached is an
//! error), or a list already fetched (the PBX's subscriber list).

use twp_connectors::{LdapConnector, LdapSettings, Secret, Security};
use twp_directory::{
    ConnectionTest, Connector, ConnectorError, Location, ReadOutcome, RecordStream, SourceRecord,
};
use twp_domain::{ImportSecurity, ImportType, UserImportData};

/// The LDAP connector for an LDAP or Active Directory import link.
pub fn ldap_connector(d: &UserImportData, password: Option<String>) -> LdapConnector {
    let filter = d.filter.trim();
    let settings = LdapSettings {
        port: Some(d.port),
        security: match d.security {
            ImportSecurity::None => Security::None,
            ImportSecurity::Ldaps => Security::Ldaps,
            ImportSecurity::StartTls => Security::StartTls,
        },
        bind_name: d.bind_name.clone(),
        password: Secret::new(password.unwrap_or_default()),
        filter: match (filter.is_empty(), d.import_type) {
            (false, _) => Some(filter.to_owned()),
            (true, ImportType::ActiveDirectory) => {
                Some("(&(objectCategory=person)(objectClass=user))".to_owned())
            }
            (true, _) => Some("(objectClass=inetOrgPerson)".to_owned()),
        },
        page_size: d.page_size,
        ..LdapSettings::new(&d.host, &d.base_dn)
    };
    LdapConnector::new(settings).complete_only()
}

/// A source already in memory: named columns and rows of text.
#[derive(Debug, Clone, Default)]
pub struct ListConnector {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Why the list could not be fetched: reading it fails with this.
    failure: Option<String>,
}

/// The columns of the PBX's subscriber list ([`ListConnector::pbx`]), as
/// the `pbx` mapping preset names them.
pub const PBX_COLUMNS: [&str; 4] = ["number", "name", "category", "model"];

/// One subscriber of the PBX's own list: its device number and what the
/// switch says of the device. The CSTA device list has no name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxSubscriber {
    pub number: String,
    pub category: Option<String>,
    pub model: Option<String>,
}

impl ListConnector {
    pub fn new(columns: Vec<String>, rows: Vec<Vec<String>>) -> Self {
        Self {
            columns,
            rows,
            failure: None,
        }
    }

    /// The PBX's subscriber list as columns [`PBX_COLUMNS`]; `name` is
    /// empty (the switch gives none), so the `pbx` preset's user name is
    /// the number.
    pub fn pbx(subscribers: Vec<PbxSubscriber>) -> Self {
        let rows = subscribers
            .into_iter()
            .map(|s| {
                vec![
                    s.number,
                    String::new(),
                    s.category.unwrap_or_default(),
                    s.model.unwrap_or_default(),
                ]
            })
            .collect();
        Self::new(PBX_COLUMNS.map(str::to_owned).to_vec(), rows)
    }

    /// A source that could not be fetched: a run reading it fails with
    /// `message` (recorded with the run) and changes nothing.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self {
            failure: Some(message.into()),
            ..Self::default()
        }
    }

    fn check(&self) -> Result<(), ConnectorError> {
        match &self.failure {
            Some(m) => Err(ConnectorError::Connection(m.clone())),
            None => Ok(()),
        }
    }
}

impl Connector for ListConnector {
    fn test_connection(&mut self) -> Result<ConnectionTest, ConnectorError> {
        self.check()?;
        Ok(ConnectionTest {
            fields: self.columns.clone(),
            detail: format!("{} entries", self.rows.len()),
        })
    }

    fn open<'a>(
        &'a mut self,
        fields: &[String],
    ) -> Result<Box<dyn RecordStream + 'a>, ConnectorError> {
        self.check()?;
        let mut at = Vec::with_capacity(fields.len());
        for f in fields {
            let i = self
                .columns
                .iter()
                .position(|c| c.eq_ignore_ascii_case(f))
                .ok_or_else(|| ConnectorError::MissingField {
                    field: f.clone(),
                    available: self.columns.join(", "),
                })?;
            at.push(i);
        }
        Ok(Box::new(ListStream {
            rows: &self.rows,
            at,
            next: 0,
        }))
    }
}

struct ListStream<'a> {
    rows: &'a [Vec<String>],
    at: Vec<usize>,
    next: usize,
}

impl RecordStream for ListStream<'_> {
    fn next_record(&mut self, out: &mut SourceRecord) -> Result<ReadOutcome, ConnectorError> {
        let Some(row) = self.rows.get(self.next) else {
            return Ok(ReadOutcome::End);
        };
        self.next += 1;
        out.reset(Location::Row(self.next as u64));
        for (i, &c) in self.at.iter().enumerate() {
            out.set(i, row.get(c).map_or("", String::as_str));
        }
        Ok(ReadOutcome::Record)
    }

    fn progress(&self) -> Option<(u64, u64)> {
        Some((self.next as u64, self.rows.len() as u64))
    }
}
