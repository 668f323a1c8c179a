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
}

impl ListConnector {
    pub fn new(columns: Vec<String>, rows: Vec<Vec<String>>) -> Self {
        Self { columns, rows }
    }
}

impl Connector for ListConnector {
    fn test_connection(&mut self) -> Result<ConnectionTest, ConnectorError> {
        Ok(ConnectionTest {
            fields: self.columns.clone(),
            detail: format!("{} entries", self.rows.len()),
        })
    }

    fn open<'a>(
        &'a mut self,
        fields: &[String],
    ) -> Result<Box<dyn RecordStream + 'a>, ConnectorError> {
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
