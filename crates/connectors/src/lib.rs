//! TWP directory connectors against real servers (guide 8.3 and 8.4), each
//! an implementation of [`twp_directory::Connector`]; the engine crate
//! stays free of network and database dependencies.
//!
//! # Design
//!
//! * [`LdapConnector`] (8.3): host, port, bind name and [`Secret`]
//!   password, base DN, the administrator's filter (checked by
//!   [`validate_filter`] before it is sent), page size (paged-results
//!   control), size limit, LDAPS or StartTLS (native TLS). A lean client
//!   of our own (`ldap::client`) runs on a reader thread with a
//!   current-thread tokio runtime (`pump` module): each
//!   response is framed in one read buffer and decoded in place
//!   ([`ldap_wire`], RFC 4511 BER), the asked attributes' first values
//!   packed into one text buffer per page, which the engine's synchronous
//!   `RecordStream` copies into its reused record — no allocation per entry
//!   or value on either thread. `ldap3` only encodes the requests and parses
//!   the filter. An entry that cannot be decoded (a DN that is not UTF-8, a
//!   malformed attribute) is skipped with a reason naming its DN. Values
//!   typed by users go into filters through [`escape_filter_value`] (RFC
//!   4515).
//!   [`LdapSettings::active_directory`] and [`active_directory_mapping`]
//!   are the Active Directory preset.
//! * [`SqlConnector`] (8.4, in place of SQL/OLE DB): PostgreSQL,
//!   MySQL/MariaDB and SQLite through `sqlx`, a table or the
//!   administrator's query run read-only; rows streamed on the same kind of
//!   reader thread, every value read as text (text protocols; SQLite's own
//!   conversion), NULL missing, columns matched by name.
//! * [`OdbcConnector`] (8.4): real ODBC through unixODBC (`odbc-api`;
//!   its unsafe code stays inside it), connection strings in the guide's
//!   style or a DSN, a table (`[Contacts$]` as written) or a query; blocks
//!   of rows fetched as text.
//! * [`XlsxConnector`] (8.4.3's Excel directory): a sheet of an `.xlsx`
//!   workbook (`[Contacts$]`), first row = field names, cells streamed with
//!   calamine's cell reader.
//! * Every settings struct is `serde::Deserialize`; passwords are
//!   [`Secret`]s, whose `Debug` and `Display` print `***`.
//! * Connection problems name the setting to fix (Host/Port, Name/Password,
//!   Connection string, Filter…).
//!
//! # Tests
//!
//! Against real servers, never skipped: slapd from Debian started by the
//! test harness (`tests/common/slapd.rs`: generated `slapd.conf`, back-mdb,
//! `slapadd` of the generator's LDIF, free loopback port, LDAPS and
//! StartTLS with a self-signed certificate), the machine's PostgreSQL and
//! MariaDB (throw-away tables), SQLite files, unixODBC with Debian's
//! SQLite3 and PostgreSQL drivers, and workbooks written by the tests.
//! `examples/bench_ldap.rs` compares a full sync with an `ldapsearch` dump.
//!
//! # Not done here
//!
//! * Entries without the mapped id attribute are skipped by the engine's
//!   mapping (reason "no id"), located by their DN: the connector itself
//!   does not know which attribute is the id.
//! * LDAP referrals are not followed; multi-valued attributes give their
//!   first value; SASL binds (Kerberos, NTLM) are not offered; a CA file
//!   for LDAPS cannot be set yet (the system's trust store is used, or
//!   every certificate is accepted with `accept_invalid_certificates`).
//! * The Active Directory preset is tested on slapd only (no AD here); it
//!   does not try AD's global catalog (port 3268).
//! * SQL: a query given by the administrator runs in a read-only
//!   transaction, but a statement list that ends that transaction itself
//!   (`COMMIT; …`) is not prevented; TLS to the database and SQL Server
//!   are not offered (ODBC covers other databases).
//! * Excel: `.xlsx` only (no `.xls`/`.xlsb`/`.ods`); dates come as
//!   calamine shows them, not in a chosen format.
//! * ODBC: values longer than 4 KiB are cut by the driver.
//! * Speed: a full LDAP sync of 100,000 generated entries from a local
//!   slapd takes about 0.7 × an `ldapsearch -E pr=1000` dump of the same
//!   entries (target ≤ 1.5 ×; it was 2.2–2.5 × with `ldap3`'s per-entry
//!   decoding), see `examples/bench_ldap.rs`.
//! * Scheduling, storing the settings and the HTTP API are elsewhere.

mod ldap;
mod odbc;
mod pump;
mod secret;
mod sql;
mod xlsx;

pub use ldap::wire as ldap_wire;
pub use ldap::{
    AdId, FilterError, LdapConnector, LdapSettings, Security, active_directory_mapping, and_equals,
    escape_filter_value, validate_filter,
};
pub use odbc::{OdbcConnector, OdbcSettings, redact};
pub use secret::Secret;
pub use sql::{SqlConnector, SqlEngine, SqlSettings, SqlSource, quote_table};
pub use xlsx::{XlsxConnector, XlsxSettings, sheet_name};
