//! The objects TWP manages, as the store returns them. Secrets never appear
//! here: only whether one is set.

use crate::{AdminScope, CompanyId, DeviceProtocol, DomainId, DtmfMethod, GroupId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub id: CompanyId,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub id: DomainId,
    pub company_id: CompanyId,
    pub name: String,
    /// Length of the longest internal number (guide 3.1).
    pub numbering_plan_length: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The editable, non-secret fields of a user (guide 3.3.4), validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserData {
    pub domain_id: DomainId,
    pub user_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub gsm: Option<String>,
    pub email: Option<String>,
    pub ip: Option<String>,
    pub enabled: bool,
    pub culture: Option<String>,
    pub external_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub company_id: CompanyId,
    pub data: UserData,
    pub has_password: bool,
    pub has_vm_password: bool,
    pub devices: Vec<Device>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// SIP soft-phone settings of a device (guide 9.3), stored now, used by the
/// soft-phone wave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SipSettings {
    pub one_number: bool,
    pub ccos: Option<i64>,
    pub user_name: Option<String>,
    pub proxy: Option<String>,
    pub port: Option<u16>,
    pub stun: Option<String>,
    pub realm: Option<String>,
    pub dtmf_method: Option<DtmfMethod>,
    pub g729: bool,
    pub tls: bool,
}

/// The editable, non-secret fields of a device, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceData {
    pub number: String,
    pub protocol: DeviceProtocol,
    pub ip: Option<String>,
    pub video: bool,
    /// Site.Cluster where the device is logged on the PBX (`1.1`), which
    /// chooses its supervision link (guide 4.2); `None`: served implicitly.
    pub site: Option<String>,
    pub sip: SipSettings,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: i64,
    pub user_id: UserId,
    pub data: DeviceData,
    pub has_password: bool,
    pub has_sip_password: bool,
}

/// What to do with a stored secret on update. Values are already hashed or
/// encrypted by the caller: the store never sees a clear secret.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SecretChange {
    #[default]
    Keep,
    Clear,
    Set(String),
}

impl SecretChange {
    /// The value to store, given the current one.
    pub fn apply(self, current: Option<String>) -> Option<String> {
        match self {
            Self::Keep => current,
            Self::Clear => None,
            Self::Set(v) => Some(v),
        }
    }
}

/// Secrets of a new or updated device, protected by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceSecrets {
    pub password: SecretChange,
    pub sip_password: SecretChange,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: GroupId,
    pub company_id: CompanyId,
    pub domain_id: DomainId,
    pub name: String,
    pub description: Option<String>,
    pub member_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Administrator {
    pub id: i64,
    pub name: String,
    pub scope: AdminScope,
    pub must_change_password: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One administrative change (or login event) as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub admin_id: Option<i64>,
    pub admin_name: String,
    pub company_id: Option<CompanyId>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub object_name: Option<String>,
    /// JSON of the object before the change, secrets masked.
    pub before: Option<String>,
    /// JSON of the object after the change, secrets masked.
    pub after: Option<String>,
}
