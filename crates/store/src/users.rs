//! Users and their devices (guide 3.3.4, 7.1). Scoped by company in every
//! statement; a device always lives in its user's domain.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use twp_domain::{
    CompanyId, Device, DeviceData, DeviceSecrets, DomainId, DtmfMethod, SecretChange, SipSettings,
    User, UserData, UserId,
};

use crate::page::like_pattern;
use crate::sqlbuild::{Value, Where};
use crate::{Page, PageRequest, StoreError, name_key, now_ms};

const USER_COLUMNS: &str = "id, company_id, domain_id, user_name, first_name, last_name, gsm, email, ip, \
     enabled, culture, external_key, created_at, updated_at, \
     password_hash IS NOT NULL AS has_password, vm_password_enc IS NOT NULL AS has_vm_password";

const DEVICE_COLUMNS: &str = "id, user_id, number, protocol, ip, video, one_number, ccos, sip_user_name, \
     sip_proxy, sip_port, stun, realm, dtmf_method, g729, tls, \
     password_enc IS NOT NULL AS has_password, sip_password_enc IS NOT NULL AS has_sip_password";

/// Filters of the user list.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub domain_id: Option<DomainId>,
    /// Fragment of the user name, first or last name, or e-mail.
    pub q: Option<String>,
    pub enabled: Option<bool>,
    /// Exact device number.
    pub number: Option<String>,
    /// Only members of this group.
    pub group_id: Option<i64>,
    /// Only users not in this group (the Groups-Users screen's left list).
    pub not_in_group_id: Option<i64>,
}

/// Stored secrets of a user, already protected by the caller.
#[derive(Debug, Clone, Default)]
pub struct UserSecrets {
    pub password_hash: SecretChange,
    pub vm_password: SecretChange,
}

fn get_bool(r: &AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    // SQLite reports computed booleans as integers.
    r.try_get::<bool, _>(col)
        .or_else(|_| r.try_get::<i64, _>(col).map(|v| v != 0))
}

fn user_from_row(r: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: UserId(r.try_get("id")?),
        company_id: CompanyId(r.try_get("company_id")?),
        data: UserData {
            domain_id: DomainId(r.try_get("domain_id")?),
            user_name: r.try_get("user_name")?,
            first_name: r.try_get("first_name")?,
            last_name: r.try_get("last_name")?,
            gsm: r.try_get("gsm")?,
            email: r.try_get("email")?,
            ip: r.try_get("ip")?,
            enabled: get_bool(r, "enabled")?,
            culture: r.try_get("culture")?,
            external_key: r.try_get("external_key")?,
        },
        has_password: get_bool(r, "has_password")?,
        has_vm_password: get_bool(r, "has_vm_password")?,
        devices: Vec::new(),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn device_from_row(r: &AnyRow) -> Result<Device, sqlx::Error> {
    let protocol: String = r.try_get("protocol")?;
    let dtmf: Option<String> = r.try_get("dtmf_method")?;
    let bad =
        |what: &str, v: &str| sqlx::Error::Decode(format!("stored {what} '{v}' is invalid").into());
    let port: Option<i64> = r.try_get("sip_port")?;
    Ok(Device {
        id: r.try_get("id")?,
        user_id: UserId(r.try_get("user_id")?),
        data: DeviceData {
            number: r.try_get("number")?,
            protocol: protocol.parse().map_err(|_| bad("protocol", &protocol))?,
            ip: r.try_get("ip")?,
            video: get_bool(r, "video")?,
            sip: SipSettings {
                one_number: get_bool(r, "one_number")?,
                ccos: r.try_get("ccos")?,
                user_name: r.try_get("sip_user_name")?,
                proxy: r.try_get("sip_proxy")?,
                port: port.and_then(|p| u16::try_from(p).ok()),
                stun: r.try_get("stun")?,
                realm: r.try_get("realm")?,
                dtmf_method: match dtmf {
                    Some(d) => Some(
                        d.parse::<DtmfMethod>()
                            .map_err(|_| bad("DTMF method", &d))?,
                    ),
                    None => None,
                },
                g729: get_bool(r, "g729")?,
                tls: get_bool(r, "tls")?,
            },
        },
        has_password: get_bool(r, "has_password")?,
        has_sip_password: get_bool(r, "has_sip_password")?,
    })
}

/// Checks that `domain` is a domain of `company` (so that a domain id of
/// another company is refused as not found).
async fn check_domain(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
) -> Result<(), StoreError> {
    sqlx::query("SELECT id FROM domains WHERE id = $1 AND company_id = $2")
        .bind(domain.0)
        .bind(company.0)
        .fetch_optional(c)
        .await?
        .map(|_| ())
        .ok_or(StoreError::InvalidReference {
            field: "domainId",
            message: "no such domain in this company".into(),
        })
}

pub async fn create(
    c: &mut AnyConnection,
    company: CompanyId,
    data: &UserData,
    secrets: UserSecrets,
    devices: &[(DeviceData, DeviceSecrets)],
) -> Result<User, StoreError> {
    let now = now_ms();
    let has_password = matches!(secrets.password_hash, SecretChange::Set(_));
    let has_vm_password = matches!(secrets.vm_password, SecretChange::Set(_));
    let id: i64 = sqlx::query(
        "INSERT INTO users (company_id, domain_id, user_name, user_name_key, first_name, last_name, gsm,
             email, ip, enabled, password_hash, culture, vm_password_enc, external_key, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING id",
    )
    .bind(company.0)
    .bind(data.domain_id.0)
    .bind(&data.user_name)
    .bind(name_key(&data.user_name))
    .bind(&data.first_name)
    .bind(&data.last_name)
    .bind(&data.gsm)
    .bind(&data.email)
    .bind(&data.ip)
    .bind(data.enabled)
    .bind(secrets.password_hash.apply(None))
    .bind(&data.culture)
    .bind(secrets.vm_password.apply(None))
    .bind(&data.external_key)
    .bind(now)
    .fetch_one(&mut *c)
    .await
    .map_err(|e| match StoreError::classify(e) {
        // the composite key (domain, company) names a domain of another company
        StoreError::InvalidReference { .. } => StoreError::InvalidReference {
            field: "domainId",
            message: "no such domain in this company".into(),
        },
        other => other,
    })?
    .try_get(0)?;
    let mut created = Vec::with_capacity(devices.len());
    for (i, (d, s)) in devices.iter().enumerate() {
        let device = Device {
            id: 0,
            user_id: UserId(id),
            data: d.clone(),
            has_password: matches!(s.password, SecretChange::Set(_)),
            has_sip_password: matches!(s.sip_password, SecretChange::Set(_)),
        };
        let device_id = insert_device(&mut *c, company, data.domain_id, UserId(id), d, s.clone())
            .await
            .map_err(|e| at_device(e, i))?;
        created.push(Device {
            id: device_id,
            ..device
        });
    }
    // Built from what was written rather than read back: creation is the
    // hot path of imports and of the API benchmark.
    Ok(User {
        id: UserId(id),
        company_id: company,
        data: data.clone(),
        has_password,
        has_vm_password,
        devices: created,
        created_at: now,
        updated_at: now,
    })
}

/// Names the device of a multi-device request in a conflict.
fn at_device(e: StoreError, i: usize) -> StoreError {
    match e {
        StoreError::Conflict {
            field: "number",
            message,
        } => StoreError::Conflict {
            field: DEVICE_NUMBER_FIELDS.get(i).copied().unwrap_or("devices"),
            message,
        },
        other => other,
    }
}

/// Static field names for the first devices of a request (errors carry
/// `&'static str` fields); beyond them the error names `devices`.
const DEVICE_NUMBER_FIELDS: &[&str] = &[
    "devices[0].number",
    "devices[1].number",
    "devices[2].number",
    "devices[3].number",
    "devices[4].number",
    "devices[5].number",
    "devices[6].number",
    "devices[7].number",
];

pub async fn get(
    c: &mut AnyConnection,
    company: CompanyId,
    id: UserId,
) -> Result<User, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND company_id = $2"
    ))
    .bind(id.0)
    .bind(company.0)
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound("user"))?;
    let mut user = user_from_row(&row)?;
    let rows = sqlx::query(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE user_id = $1 ORDER BY id"
    ))
    .bind(id.0)
    .fetch_all(c)
    .await?;
    user.devices = rows.iter().map(device_from_row).collect::<Result<_, _>>()?;
    Ok(user)
}

pub async fn list(
    c: &mut AnyConnection,
    company: CompanyId,
    filter: &UserFilter,
    page: &PageRequest,
) -> Result<Page<User>, StoreError> {
    let mut w = Where::default();
    w.and("u.company_id = ?", [Value::I64(company.0)]);
    w.and("u.id > ?", [Value::I64(page.after_or_zero())]);
    if let Some(d) = filter.domain_id {
        w.and("u.domain_id = ?", [Value::I64(d.0)]);
    }
    if let Some(e) = filter.enabled {
        w.and("u.enabled = ?", [Value::Bool(e)]);
    }
    if let Some(q) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let p = like_pattern(q.trim());
        w.and(
            "(u.user_name_key LIKE ? ESCAPE '\\' OR LOWER(COALESCE(u.first_name, '')) LIKE ? ESCAPE '\\' \
             OR LOWER(COALESCE(u.last_name, '')) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(u.email, '')) LIKE ? ESCAPE '\\')",
            [Value::Text(p.clone()), Value::Text(p.clone()), Value::Text(p.clone()), Value::Text(p)],
        );
    }
    if let Some(n) = &filter.number {
        w.and(
            "EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.number = ?)",
            [Value::Text(n.clone())],
        );
    }
    if let Some(g) = filter.group_id {
        w.and(
            "EXISTS (SELECT 1 FROM group_members m WHERE m.user_id = u.id AND m.group_id = ?)",
            [Value::I64(g)],
        );
    }
    if let Some(g) = filter.not_in_group_id {
        w.and(
            "NOT EXISTS (SELECT 1 FROM group_members m WHERE m.user_id = u.id AND m.group_id = ?)",
            [Value::I64(g)],
        );
    }
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE {} ORDER BY u.id LIMIT ${}",
        w.sql(),
        w.next_param()
    );
    let rows = w
        .bind(sqlx::query(&sql))
        .bind(page.fetch_limit())
        .fetch_all(&mut *c)
        .await?;
    let users = rows
        .iter()
        .map(user_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let mut page = Page::from_rows(users, page, |u| u.id.0);
    attach_devices(c, &mut page.items).await?;
    Ok(page)
}

/// Loads the devices of a page of users in one query.
async fn attach_devices(c: &mut AnyConnection, users: &mut [User]) -> Result<(), StoreError> {
    if users.is_empty() {
        return Ok(());
    }
    // ids come from the database, not from request text
    let ids: Vec<String> = users.iter().map(|u| u.id.0.to_string()).collect();
    let rows = sqlx::query(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE user_id IN ({}) ORDER BY id",
        ids.join(",")
    ))
    .persistent(false) // a new text per page: keep it out of the statement cache
    .fetch_all(c)
    .await?;
    let mut by_user: HashMap<i64, Vec<Device>> = HashMap::new();
    for r in &rows {
        let d = device_from_row(r)?;
        by_user.entry(d.user_id.0).or_default().push(d);
    }
    for u in users {
        u.devices = by_user.remove(&u.id.0).unwrap_or_default();
    }
    Ok(())
}

/// Replaces the editable fields and applies secret changes. Moving a user to
/// another domain of the company moves its devices and removes it from the
/// groups of the old domain (groups belong to one domain).
pub async fn update(
    c: &mut AnyConnection,
    company: CompanyId,
    id: UserId,
    data: &UserData,
    secrets: UserSecrets,
) -> Result<User, StoreError> {
    let before = get(&mut *c, company, id).await?;
    if before.data.domain_id != data.domain_id {
        check_domain(&mut *c, company, data.domain_id).await?;
        sqlx::query("DELETE FROM group_members WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    let current: (Option<String>, Option<String>) = {
        let r = sqlx::query("SELECT password_hash, vm_password_enc FROM users WHERE id = $1")
            .bind(id.0)
            .fetch_one(&mut *c)
            .await?;
        (r.try_get(0)?, r.try_get(1)?)
    };
    sqlx::query(
        "UPDATE users SET domain_id = $1, user_name = $2, user_name_key = $3, first_name = $4, last_name = $5,
             gsm = $6, email = $7, ip = $8, enabled = $9, password_hash = $10, culture = $11,
             vm_password_enc = $12, external_key = $13, updated_at = $14
         WHERE id = $15 AND company_id = $16",
    )
    .bind(data.domain_id.0)
    .bind(&data.user_name)
    .bind(name_key(&data.user_name))
    .bind(&data.first_name)
    .bind(&data.last_name)
    .bind(&data.gsm)
    .bind(&data.email)
    .bind(&data.ip)
    .bind(data.enabled)
    .bind(secrets.password_hash.apply(current.0))
    .bind(&data.culture)
    .bind(secrets.vm_password.apply(current.1))
    .bind(&data.external_key)
    .bind(now_ms())
    .bind(id.0)
    .bind(company.0)
    .execute(&mut *c)
    .await
    .map_err(StoreError::classify)?;
    get(c, company, id).await
}

pub async fn delete(
    c: &mut AnyConnection,
    company: CompanyId,
    id: UserId,
) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM users WHERE id = $1 AND company_id = $2")
        .bind(id.0)
        .bind(company.0)
        .execute(c)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("user"));
    }
    Ok(())
}

/// The argon2id hash of a user's TWP password, for authentication.
pub async fn password_hash(
    c: &mut AnyConnection,
    company: CompanyId,
    id: UserId,
) -> Result<Option<String>, StoreError> {
    let r = sqlx::query("SELECT password_hash FROM users WHERE id = $1 AND company_id = $2")
        .bind(id.0)
        .bind(company.0)
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    Ok(r.try_get(0)?)
}

async fn insert_device(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    user: UserId,
    d: &DeviceData,
    s: DeviceSecrets,
) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query(
        "INSERT INTO devices (user_id, domain_id, company_id, number, protocol, password_enc, ip, video,
             one_number, ccos, sip_user_name, sip_password_enc, sip_proxy, sip_port, stun, realm,
             dtmf_method, g729, tls, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20)
         RETURNING id",
    )
    .bind(user.0)
    .bind(domain.0)
    .bind(company.0)
    .bind(&d.number)
    .bind(d.protocol.as_str())
    .bind(s.password.apply(None))
    .bind(&d.ip)
    .bind(d.video)
    .bind(d.sip.one_number)
    .bind(d.sip.ccos)
    .bind(&d.sip.user_name)
    .bind(s.sip_password.apply(None))
    .bind(&d.sip.proxy)
    .bind(d.sip.port.map(i64::from))
    .bind(&d.sip.stun)
    .bind(&d.sip.realm)
    .bind(d.sip.dtmf_method.map(DtmfMethod::as_str))
    .bind(d.sip.g729)
    .bind(d.sip.tls)
    .bind(now_ms())
    .fetch_one(c)
    .await
    .map_err(StoreError::classify)?
    .try_get(0)?;
    Ok(id)
}

async fn user_domain(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
) -> Result<DomainId, StoreError> {
    let r = sqlx::query("SELECT domain_id FROM users WHERE id = $1 AND company_id = $2")
        .bind(user.0)
        .bind(company.0)
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    Ok(DomainId(r.try_get(0)?))
}

pub async fn add_device(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
    d: &DeviceData,
    s: DeviceSecrets,
) -> Result<Device, StoreError> {
    let domain = user_domain(&mut *c, company, user).await?;
    let id = insert_device(&mut *c, company, domain, user, d, s).await?;
    get_device(c, company, user, id).await
}

pub async fn get_device(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
    id: i64,
) -> Result<Device, StoreError> {
    let r = sqlx::query(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE id = $1 AND user_id = $2 AND company_id = $3"
    ))
    .bind(id)
    .bind(user.0)
    .bind(company.0)
    .fetch_optional(c)
    .await?
    .ok_or(StoreError::NotFound("device"))?;
    Ok(device_from_row(&r)?)
}

pub async fn update_device(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
    id: i64,
    d: &DeviceData,
    s: DeviceSecrets,
) -> Result<Device, StoreError> {
    let r = sqlx::query(
        "SELECT password_enc, sip_password_enc FROM devices WHERE id = $1 AND user_id = $2 AND company_id = $3",
    )
    .bind(id)
    .bind(user.0)
    .bind(company.0)
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound("device"))?;
    let (pw, sip_pw): (Option<String>, Option<String>) = (r.try_get(0)?, r.try_get(1)?);
    sqlx::query(
        "UPDATE devices SET number = $1, protocol = $2, password_enc = $3, ip = $4, video = $5,
             one_number = $6, ccos = $7, sip_user_name = $8, sip_password_enc = $9, sip_proxy = $10,
             sip_port = $11, stun = $12, realm = $13, dtmf_method = $14, g729 = $15, tls = $16,
             updated_at = $17
         WHERE id = $18",
    )
    .bind(&d.number)
    .bind(d.protocol.as_str())
    .bind(s.password.apply(pw))
    .bind(&d.ip)
    .bind(d.video)
    .bind(d.sip.one_number)
    .bind(d.sip.ccos)
    .bind(&d.sip.user_name)
    .bind(s.sip_password.apply(sip_pw))
    .bind(&d.sip.proxy)
    .bind(d.sip.port.map(i64::from))
    .bind(&d.sip.stun)
    .bind(&d.sip.realm)
    .bind(d.sip.dtmf_method.map(DtmfMethod::as_str))
    .bind(d.sip.g729)
    .bind(d.sip.tls)
    .bind(now_ms())
    .bind(id)
    .execute(&mut *c)
    .await
    .map_err(StoreError::classify)?;
    get_device(c, company, user, id).await
}

pub async fn delete_device(
    c: &mut AnyConnection,
    company: CompanyId,
    user: UserId,
    id: i64,
) -> Result<(), StoreError> {
    let done =
        sqlx::query("DELETE FROM devices WHERE id = $1 AND user_id = $2 AND company_id = $3")
            .bind(id)
            .bind(user.0)
            .bind(company.0)
            .execute(c)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("device"));
    }
    Ok(())
}
