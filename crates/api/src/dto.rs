//! JSON shapes of the API (camelCase) and their conversion from domain
//! types. Secrets never appear in a response: only `has…` flags.

use serde::{Deserialize, Deserializer, Serialize};
use twp_domain::{
    AdminScope, Administrator, AuditEntry, Company, Device, Domain, Group, SipSettings, User,
};
use utoipa::{IntoParams, ToSchema};

/// RFC 3339 UTC text of epoch milliseconds.
pub fn time_text(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Distinguishes an absent field (`None`) from an explicit `null`
/// (`Some(None)`) in PATCH bodies.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Paging parameters shared by list endpoints.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// Cursor: the `next` value of the previous page.
    pub after: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageOf<T> {
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

impl<T> PageOf<T> {
    pub fn from<U>(p: twp_store::Page<U>, f: impl FnMut(U) -> T) -> Self {
        let p = p.map(f);
        Self {
            items: p.items,
            next: p.next_after,
        }
    }
}

// ---- companies and domains ----

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyDto {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Company> for CompanyDto {
    fn from(c: Company) -> Self {
        Self {
            id: c.id.0,
            name: c.name,
            created_at: time_text(c.created_at),
            updated_at: time_text(c.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompanyInput {
    /// Shown in the applications' contact cards (guide 3.2).
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainDto {
    pub id: i64,
    pub company_id: i64,
    pub name: String,
    /// Length of the longest internal number (guide 3.1).
    pub numbering_plan_length: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Domain> for DomainDto {
    fn from(d: Domain) -> Self {
        Self {
            id: d.id.0,
            company_id: d.company_id.0,
            name: d.name,
            numbering_plan_length: d.numbering_plan_length,
            created_at: time_text(d.created_at),
            updated_at: time_text(d.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DomainInput {
    pub name: String,
    /// Length of the longest internal number, 1 to 15.
    pub numbering_plan_length: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DomainPatch {
    pub name: Option<String>,
    pub numbering_plan_length: Option<i64>,
}

// ---- users and devices ----

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SipDto {
    pub one_number: bool,
    pub ccos: Option<i64>,
    pub user_name: Option<String>,
    pub has_password: bool,
    pub proxy: Option<String>,
    pub port: Option<u16>,
    pub stun: Option<String>,
    pub realm: Option<String>,
    /// `RFC2833` or `SIPINFO`.
    pub dtmf_method: Option<String>,
    pub g729: bool,
    pub tls: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeviceDto {
    pub id: i64,
    pub number: String,
    /// `CSTA`, `VTIXML` or `SIP`.
    pub protocol: String,
    pub has_password: bool,
    pub ip: Option<String>,
    pub video: bool,
    /// Site.Cluster where the device is logged on the PBX (`1.1`); it
    /// chooses the supervision link (guide 4.2).
    pub site: Option<String>,
    pub sip: SipDto,
}

impl From<Device> for DeviceDto {
    fn from(d: Device) -> Self {
        let SipSettings {
            one_number,
            ccos,
            user_name,
            proxy,
            port,
            stun,
            realm,
            dtmf_method,
            g729,
            tls,
        } = d.data.sip;
        Self {
            id: d.id,
            number: d.data.number,
            protocol: d.data.protocol.as_str().to_owned(),
            has_password: d.has_password,
            ip: d.data.ip,
            video: d.data.video,
            site: d.data.site,
            sip: SipDto {
                one_number,
                ccos,
                user_name,
                has_password: d.has_sip_password,
                proxy,
                port,
                stun,
                realm,
                dtmf_method: dtmf_method.map(|m| m.as_str().to_owned()),
                g729,
                tls,
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserDto {
    pub id: i64,
    pub company_id: i64,
    pub domain_id: i64,
    pub user_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub gsm: Option<String>,
    pub email: Option<String>,
    pub ip: Option<String>,
    pub enabled: bool,
    pub culture: Option<String>,
    pub external_key: Option<String>,
    /// A TWP password is set (the password itself is never returned).
    pub has_password: bool,
    /// A voicemail password is set (never returned).
    pub has_vm_password: bool,
    pub devices: Vec<DeviceDto>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        Self {
            id: u.id.0,
            company_id: u.company_id.0,
            domain_id: u.data.domain_id.0,
            user_name: u.data.user_name,
            first_name: u.data.first_name,
            last_name: u.data.last_name,
            gsm: u.data.gsm,
            email: u.data.email,
            ip: u.data.ip,
            enabled: u.data.enabled,
            culture: u.data.culture,
            external_key: u.data.external_key,
            has_password: u.has_password,
            has_vm_password: u.has_vm_password,
            devices: u.devices.into_iter().map(DeviceDto::from).collect(),
            created_at: time_text(u.created_at),
            updated_at: time_text(u.updated_at),
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SipInput {
    #[serde(default)]
    pub one_number: bool,
    pub ccos: Option<i64>,
    pub user_name: Option<String>,
    /// Write-only; absent keeps the stored one, `""` clears it.
    pub password: Option<String>,
    pub proxy: Option<String>,
    pub port: Option<i64>,
    pub stun: Option<String>,
    pub realm: Option<String>,
    /// `RFC2833` or `SIPINFO`.
    pub dtmf_method: Option<String>,
    #[serde(default)]
    pub g729: bool,
    #[serde(default)]
    pub tls: bool,
}

/// A device as sent on create and replace (PUT): every field is written;
/// the write-only passwords are kept when absent and cleared by `""`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceInput {
    pub number: String,
    /// `CSTA` (default), `VTIXML` or `SIP`.
    pub protocol: Option<String>,
    /// Write-only (used by VTI-XML).
    pub password: Option<String>,
    pub ip: Option<String>,
    #[serde(default)]
    pub video: bool,
    /// Site.Cluster where the device is logged on the PBX, e.g. `1.1`;
    /// absent: the device is served by any link (implicit allocation).
    pub site: Option<String>,
    #[serde(default)]
    pub sip: Option<SipInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserInput {
    pub domain_id: i64,
    /// Login (or Windows login with Windows authentication), unique in its domain.
    pub user_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub gsm: Option<String>,
    pub email: Option<String>,
    pub ip: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
    /// Write-only TWP password (argon2id-hashed), at least 6 characters.
    pub password: Option<String>,
    /// Language of the applications, e.g. `fr-FR`.
    pub culture: Option<String>,
    /// Write-only PBX voicemail password: digits, 4 to 16.
    pub vm_password: Option<String>,
    /// Key of the user in an external source (users import).
    pub external_key: Option<String>,
    #[serde(default)]
    pub devices: Vec<DeviceInput>,
}

/// Fields to change; absent fields are kept, `null` clears optional ones.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserPatch {
    pub domain_id: Option<i64>,
    pub user_name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub gsm: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub ip: Option<Option<String>>,
    pub enabled: Option<bool>,
    /// `null` removes the TWP password.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub password: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub culture: Option<Option<String>>,
    /// `null` removes the voicemail password.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub vm_password: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub external_key: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    pub limit: Option<u32>,
    pub after: Option<i64>,
    pub domain_id: Option<i64>,
    /// Fragment of user name, first or last name, or e-mail (case-insensitive).
    pub q: Option<String>,
    pub enabled: Option<bool>,
    /// Exact device number.
    pub number: Option<String>,
    /// Only members of this group.
    pub group_id: Option<i64>,
    /// Only users outside this group.
    pub not_in_group_id: Option<i64>,
}

// ---- groups ----

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupDto {
    pub id: i64,
    pub company_id: i64,
    pub domain_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub member_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Group> for GroupDto {
    fn from(g: Group) -> Self {
        Self {
            id: g.id.0,
            company_id: g.company_id.0,
            domain_id: g.domain_id.0,
            name: g.name,
            description: g.description,
            member_count: g.member_count,
            created_at: time_text(g.created_at),
            updated_at: time_text(g.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupInput {
    pub domain_id: i64,
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct GroupQuery {
    pub limit: Option<u32>,
    pub after: Option<i64>,
    pub domain_id: Option<i64>,
    /// Fragment of the group name.
    pub q: Option<String>,
    /// Only groups this user is a member of.
    pub member_id: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MembersInput {
    /// Users of the group's domain to add.
    pub user_ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembersAdded {
    /// How many were added (users already members are not counted).
    pub added: u64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct NameQuery {
    pub limit: Option<u32>,
    pub after: Option<i64>,
    /// Fragment of the name (case-insensitive).
    pub q: Option<String>,
}

// ---- administrators and sessions ----

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdministratorDto {
    pub id: i64,
    pub name: String,
    /// May manage every company (guide 10.1).
    pub super_user: bool,
    /// Companies this administrator manages (empty for a super user).
    pub company_ids: Vec<i64>,
    /// Must change the password before doing anything else.
    pub must_change_password: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Administrator> for AdministratorDto {
    fn from(a: Administrator) -> Self {
        let (super_user, company_ids) = match a.scope {
            AdminScope::SuperUser => (true, Vec::new()),
            AdminScope::Companies(c) => (false, c.into_iter().map(|c| c.0).collect()),
        };
        Self {
            id: a.id,
            name: a.name,
            super_user,
            company_ids,
            must_change_password: a.must_change_password,
            created_at: time_text(a.created_at),
            updated_at: time_text(a.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdministratorInput {
    pub name: String,
    /// At least 8 characters.
    pub password: String,
    #[serde(default)]
    pub super_user: bool,
    #[serde(default)]
    pub company_ids: Vec<i64>,
    /// Ask for a new password at first login (default true).
    pub must_change_password: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdministratorPatch {
    pub name: Option<String>,
    /// Sets a new password (the administrator must change it at next login).
    pub password: Option<String>,
    pub super_user: Option<bool>,
    pub company_ids: Option<Vec<i64>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginInput {
    pub name: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResult {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: String,
    pub administrator: AdministratorDto,
    /// Boot mode: the password must be changed (POST /api/v1/auth/password)
    /// before any other call is accepted.
    pub must_change_password: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 8 characters, different from the name and from `tws`.
    pub new_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    pub administrator: AdministratorDto,
    pub expires_at: String,
}

// ---- audit ----

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryDto {
    pub id: i64,
    pub at: String,
    pub admin_id: Option<i64>,
    pub admin_name: String,
    pub company_id: Option<i64>,
    /// `create`, `update`, `delete`, `login`, `login_failed`, `lockout`, `password_change`…
    pub action: String,
    /// `company`, `domain`, `user`, `device`, `group`, `group_member`, `administrator`.
    pub object_type: String,
    pub object_id: Option<String>,
    pub object_name: Option<String>,
    /// The object before the change (secrets are never included).
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The object after the change (secrets are never included).
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}

impl From<AuditEntry> for AuditEntryDto {
    fn from(e: AuditEntry) -> Self {
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        Self {
            id: e.id,
            at: time_text(e.at),
            admin_id: e.admin_id,
            admin_name: e.admin_name,
            company_id: e.company_id.map(|c| c.0),
            action: e.action,
            object_type: e.object_type,
            object_id: e.object_id,
            object_name: e.object_name,
            before: parse(e.before),
            after: parse(e.after),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub limit: Option<u32>,
    /// Cursor: entries older than this id (the `next` of the previous page).
    pub after: Option<i64>,
    pub company_id: Option<i64>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub admin_name: Option<String>,
    pub action: Option<String>,
    /// RFC 3339 time: entries at or after.
    pub since: Option<String>,
    /// RFC 3339 time: entries before.
    pub until: Option<String>,
}
