//! TWP's domain vocabulary: companies, domains, users and their devices,
//! groups, administrators — the guide's words (chapters 3.1, 3.3.4–3.3.6, 7, 10.1).
//!
//! This crate holds validation rules and nothing else: no I/O, no SQL, no
//! wire formats. The store persists these types; the API maps them to JSON.

mod entities;
mod error;
mod fields;
mod imports;
mod links;
mod model;

pub use entities::{
    Administrator, AuditEntry, Company, Device, DeviceData, DeviceSecrets, Domain, Group,
    SecretChange, SipSettings, User, UserData,
};
pub use error::{FieldError, FieldErrors};
pub use fields::{
    Culture, Email, Name, PhoneNumber, validate_ip, validate_optional_text, validate_port,
};
pub use imports::{
    ImportMapping, ImportSchedule, ImportSecurity, ImportType, SyncType, UserField, UserImport,
    UserImportData, format_time_of_day, parse_time_of_day,
};
pub use links::{
    LinkProtocol, LinkRole, LinkSession, PbxLink, PbxLinkData, validate_site, validate_site_pattern,
};
pub use model::{
    AdminScope, CompanyId, DeviceProtocol, DomainId, DtmfMethod, GroupId, NUMBERING_PLAN_MAX,
    UserId,
};
