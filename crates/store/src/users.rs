//! Users and their devices (guide 3.3.4, 7.1). Scoped by company in every
//! statement; a device always lives in its user's domain.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use twp_domain::{
    AuditEntry, CompanyId, Device, DeviceData, DeviceSecrets, DomainId, DtmfMethod, SecretChange,
    SipSettings, User, UserData, UserId,
};

use crate::page::like_pattern;
use crate::pool::AnyQuery;
use crate::rowjson::{
    flex_bool, json_all_sql, json_array_expr, json_page, json_page_sql, json_row, json_select,
};
use crate::sqlbuild::{Value, Where};
use crate::{Backend, Page, PageRequest, Store, StoreError, name_key, now_ms};

/// Fields of a user row, as (JSON key, SQL expression).
const USER_FIELDS: &[(&str, &str)] = &[
    ("id", "id"),
    ("company_id", "company_id"),
    ("domain_id", "domain_id"),
    ("user_name", "user_name"),
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("gsm", "gsm"),
    ("email", "email"),
    ("ip", "ip"),
    ("enabled", "enabled"),
    ("culture", "culture"),
    ("external_key", "external_key"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
    ("has_password", "password_hash IS NOT NULL"),
    ("has_vm_password", "vm_password_enc IS NOT NULL"),
];

const DEVICE_FIELDS: &[(&str, &str)] = &[
    ("id", "id"),
    ("user_id", "user_id"),
    ("number", "number"),
    ("protocol", "protocol"),
    ("ip", "ip"),
    ("video", "video"),
    ("site", "site"),
    ("one_number", "one_number"),
    ("ccos", "ccos"),
    ("sip_user_name", "sip_user_name"),
    ("sip_proxy", "sip_proxy"),
    ("sip_port", "sip_port"),
    ("stun", "stun"),
    ("realm", "realm"),
    ("dtmf_method", "dtmf_method"),
    ("g729", "g729"),
    ("tls", "tls"),
    ("has_password", "password_enc IS NOT NULL"),
    ("has_sip_password", "sip_password_enc IS NOT NULL"),
];

#[derive(serde::Deserialize)]
struct UserRow {
    id: i64,
    company_id: i64,
    domain_id: i64,
    user_name: String,
    first_name: Option<String>,
    last_name: Option<String>,
    gsm: Option<String>,
    email: Option<String>,
    ip: Option<String>,
    #[serde(deserialize_with = "flex_bool")]
    enabled: bool,
    culture: Option<String>,
    external_key: Option<String>,
    created_at: i64,
    updated_at: i64,
    #[serde(deserialize_with = "flex_bool")]
    has_password: bool,
    #[serde(deserialize_with = "flex_bool")]
    has_vm_password: bool,
    /// Only in list pages, which nest each user's devices.
    #[serde(default)]
    devices: Vec<DeviceRow>,
}

#[derive(serde::Deserialize)]
struct DeviceRow {
    id: i64,
    user_id: i64,
    number: String,
    protocol: String,
    ip: Option<String>,
    #[serde(deserialize_with = "flex_bool")]
    video: bool,
    site: Option<String>,
    #[serde(deserialize_with = "flex_bool")]
    one_number: bool,
    ccos: Option<i64>,
    sip_user_name: Option<String>,
    sip_proxy: Option<String>,
    sip_port: Option<i64>,
    stun: Option<String>,
    realm: Option<String>,
    dtmf_method: Option<String>,
    #[serde(deserialize_with = "flex_bool")]
    g729: bool,
    #[serde(deserialize_with = "flex_bool")]
    tls: bool,
    #[serde(deserialize_with = "flex_bool")]
    has_password: bool,
    #[serde(deserialize_with = "flex_bool")]
    has_sip_password: bool,
}

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

fn user_from_row(r: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(user_from(json_row(r)?))
}

fn user_from(u: UserRow) -> User {
    User {
        id: UserId(u.id),
        company_id: CompanyId(u.company_id),
        data: UserData {
            domain_id: DomainId(u.domain_id),
            user_name: u.user_name,
            first_name: u.first_name,
            last_name: u.last_name,
            gsm: u.gsm,
            email: u.email,
            ip: u.ip,
            enabled: u.enabled,
            culture: u.culture,
            external_key: u.external_key,
        },
        has_password: u.has_password,
        has_vm_password: u.has_vm_password,
        devices: Vec::new(),
        created_at: u.created_at,
        updated_at: u.updated_at,
    }
}

fn device_from_row(r: &AnyRow) -> Result<Device, sqlx::Error> {
    device_from(json_row(r)?)
}

fn device_from(d: DeviceRow) -> Result<Device, sqlx::Error> {
    let bad =
        |what: &str, v: &str| sqlx::Error::Decode(format!("stored {what} '{v}' is invalid").into());
    Ok(Device {
        id: d.id,
        user_id: UserId(d.user_id),
        data: DeviceData {
            protocol: d
                .protocol
                .parse()
                .map_err(|_| bad("protocol", &d.protocol))?,
            number: d.number,
            ip: d.ip,
            video: d.video,
            site: d.site,
            sip: SipSettings {
                one_number: d.one_number,
                ccos: d.ccos,
                user_name: d.sip_user_name,
                proxy: d.sip_proxy,
                port: d.sip_port.and_then(|p| u16::try_from(p).ok()),
                stun: d.stun,
                realm: d.realm,
                dtmf_method: match d.dtmf_method {
                    Some(m) => Some(
                        m.parse::<DtmfMethod>()
                            .map_err(|_| bad("DTMF method", &m))?,
                    ),
                    None => None,
                },
                g729: d.g729,
                tls: d.tls,
            },
        },
        has_password: d.has_password,
        has_sip_password: d.has_sip_password,
    })
}

/// Columns of a new user, in the order [`bind_user`] binds them (the last
/// two take the same value). Shared by [`create`] and [`create_recorded`].
const USER_COLUMNS: &str = "company_id, domain_id, user_name, user_name_key, first_name, last_name, gsm, \
     email, ip, enabled, password_hash, culture, vm_password_enc, external_key, created_at, updated_at";
const USER_PARAMS: usize = 15;

/// `$first, …` for [`USER_COLUMNS`] (`updated_at` repeats `created_at`).
fn user_values(first: usize) -> String {
    let mut v: Vec<String> = (first..first + USER_PARAMS)
        .map(|i| format!("${i}"))
        .collect();
    v.push(format!("${}", first + USER_PARAMS - 1));
    v.join(", ")
}

fn bind_user<'q>(
    q: AnyQuery<'q>,
    company: CompanyId,
    data: &'q UserData,
    secrets: UserSecrets,
    now: i64,
) -> AnyQuery<'q> {
    q.bind(company.0)
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
}

/// Columns of a new device: its user, domain and company, then the values
/// [`bind_device`] binds (the creation time twice).
const DEVICE_COLUMNS: &str = "user_id, domain_id, company_id, number, protocol, password_enc, ip, video, \
     one_number, ccos, sip_user_name, sip_password_enc, sip_proxy, sip_port, stun, realm, \
     dtmf_method, g729, tls, created_at, updated_at, site";
const DEVICE_PARAMS: usize = 18;

/// `user, domain, company, $first, …` for [`DEVICE_COLUMNS`].
fn device_values(user: &str, domain: &str, company: &str, first: usize) -> String {
    let p = |i: usize| format!("${}", first + i);
    let mut v: Vec<String> = vec![user.into(), domain.into(), company.into()];
    v.extend((0..16).map(p));
    v.extend([p(16), p(16), p(17)]);
    v.join(", ")
}

fn bind_device<'q>(q: AnyQuery<'q>, d: &'q DeviceData, s: DeviceSecrets, now: i64) -> AnyQuery<'q> {
    q.bind(&d.number)
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
        .bind(now)
        .bind(&d.site)
}

/// The error of a user insert: the composite key (domain, company) names a
/// domain of another company, or none.
fn user_insert_error(e: sqlx::Error) -> StoreError {
    match StoreError::classify(e) {
        StoreError::InvalidReference { .. } => StoreError::InvalidReference {
            field: "domainId",
            message: "no such domain in this company".into(),
        },
        other => other,
    }
}

/// The user as written, before the database has given it ids.
fn unsaved_user(
    company: CompanyId,
    data: &UserData,
    secrets: &UserSecrets,
    devices: &[(DeviceData, DeviceSecrets)],
    now: i64,
) -> User {
    User {
        id: UserId(0),
        company_id: company,
        data: data.clone(),
        has_password: matches!(secrets.password_hash, SecretChange::Set(_)),
        has_vm_password: matches!(secrets.vm_password, SecretChange::Set(_)),
        devices: devices
            .iter()
            .map(|(d, s)| Device {
                id: 0,
                user_id: UserId(0),
                data: d.clone(),
                has_password: matches!(s.password, SecretChange::Set(_)),
                has_sip_password: matches!(s.sip_password, SecretChange::Set(_)),
            })
            .collect(),
        created_at: now,
        updated_at: now,
    }
}

fn set_ids(user: &mut User, id: i64, device_ids: &[i64]) {
    user.id = UserId(id);
    for (d, &did) in user.devices.iter_mut().zip(device_ids) {
        d.id = did;
        d.user_id = UserId(id);
    }
}

pub async fn create(
    c: &mut AnyConnection,
    company: CompanyId,
    data: &UserData,
    secrets: UserSecrets,
    devices: &[(DeviceData, DeviceSecrets)],
) -> Result<User, StoreError> {
    let now = now_ms();
    // Built from what was written rather than read back: creation is the
    // hot path of imports and of the API benchmark.
    let mut user = unsaved_user(company, data, &secrets, devices, now);
    let sql = format!(
        "INSERT INTO users ({USER_COLUMNS}) VALUES ({}) RETURNING id",
        user_values(1)
    );
    let id: i64 = bind_user(sqlx::query(&sql), company, data, secrets, now)
        .fetch_one(&mut *c)
        .await
        .map_err(user_insert_error)?
        .try_get(0)?;
    let mut device_ids = Vec::with_capacity(devices.len());
    for (i, (d, s)) in devices.iter().enumerate() {
        let device_id = insert_device(&mut *c, company, data.domain_id, UserId(id), d, s.clone())
            .await
            .map_err(|e| at_device(e, i))?;
        device_ids.push(device_id);
    }
    set_ids(&mut user, id, &device_ids);
    Ok(user)
}

/// Where the ids the database assigns go in the `after` JSON of a user's
/// creation entry (the API's shape; the store only fills the slots).
#[derive(Debug, Clone, Copy)]
pub struct CreatedIdKeys {
    /// Key of the user's id.
    pub user_id: &'static str,
    /// Key of the array of devices, in the order they were given.
    pub devices: &'static str,
    /// Key of a device's id inside its object.
    pub device_id: &'static str,
}

/// Creates a user with its devices and writes the audit entry of the
/// creation, all in one transaction: both land or neither does.
///
/// `audit` is given the user as it will be stored, its `object_id` is set to
/// the user's id and its `after` JSON receives the assigned ids at `keys`.
/// On SQLite the creation joins the creations waiting for the single writer
/// and is committed with them, each one still all or nothing (see
/// `creations.rs` and `script.rs`); on PostgreSQL it is
/// the usual statement-by-statement transaction, the audit entry built from
/// the stored user.
pub async fn create_recorded(
    store: &Store,
    company: CompanyId,
    data: &UserData,
    secrets: UserSecrets,
    devices: &[(DeviceData, DeviceSecrets)],
    audit: impl FnOnce(&User) -> AuditEntry + Send + 'static,
    keys: CreatedIdKeys,
) -> Result<User, StoreError> {
    if store.backend() == Backend::Postgres {
        // The transaction runs in a task of its own: a caller that goes
        // away (an HTTP client hanging up drops the handler's future) must
        // not cut it between two statements, leaving the connection with a
        // half-read reply; it ends, committed or rolled back, either way.
        let (store, data, devices) = (store.clone(), data.clone(), devices.to_vec());
        return tokio::spawn(async move {
            let mut tx = store.begin().await?;
            let user = create(&mut tx, company, &data, secrets, &devices).await?;
            let mut entry = audit(&user);
            entry.object_id = Some(user.id.0.to_string());
            crate::audit::record(&mut tx, &entry).await?;
            tx.commit().await?;
            Ok(user)
        })
        .await
        .map_err(|e| StoreError::Script(format!("user creation task: {e}")))?;
    }
    let now = now_ms();
    let mut user = unsaved_user(company, data, &secrets, devices, now);
    let entry = audit(&user);
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job = crate::creations::Job {
        company,
        data: data.clone(),
        secrets,
        devices: devices.to_vec(),
        entry,
        keys,
        now,
        reply,
    };
    let stopped = || StoreError::Script("the SQLite creation task has stopped".into());
    store.creations().send(job).map_err(|_| stopped())?;
    let ids = answer.await.map_err(|_| stopped())??;
    let (&id, device_ids) = ids
        .split_first()
        .ok_or_else(|| StoreError::Script("a user creation returned no id".into()))?;
    set_ids(&mut user, id, device_ids);
    Ok(user)
}

/// Parameters one creation binds: the user, each device, the audit
/// entry's values and the JSON paths of the ids.
pub(crate) fn creation_params(devices: usize) -> usize {
    USER_PARAMS + devices * (DEVICE_PARAMS + 1) + AUDIT_PARAMS + 1
}

/// Values of the audit entry bound by [`bind_creation`].
const AUDIT_PARAMS: usize = 9;

/// The SQLite script of a group of creations (`creations.rs`): `BEGIN
/// IMMEDIATE`, for each creation the user, each device and the audit entry
/// (one row returned by each), `COMMIT`. Parameters are numbered across the
/// whole script (sqlx binds `$n` by its number in every statement).
pub(crate) fn group_script(devices: &[usize]) -> String {
    let mut s = String::from("BEGIN IMMEDIATE;\n");
    let mut first = 1;
    for &d in devices {
        creation_statements(&mut s, d, first);
        first += creation_params(d);
    }
    s.push_str("COMMIT");
    s
}

/// One creation's statements, its parameters numbered from `first`.
/// Devices and the audit entry find the new user by its unique name in its
/// domain, and the audit entry finds each device by its unique number.
fn creation_statements(s: &mut String, devices: usize, first: usize) {
    let p = |i: usize| format!("${}", first - 1 + i);
    s.push_str(&format!(
        "INSERT INTO users ({USER_COLUMNS}) VALUES ({}) RETURNING id;\n",
        user_values(first)
    ));
    // the user's company, domain and name key are its parameters 1, 2, 4
    let (company, domain, name_key) = (p(1), p(2), p(4));
    let user =
        format!("(SELECT id FROM users WHERE domain_id = {domain} AND user_name_key = {name_key})");
    let mut next = first + USER_PARAMS;
    let mut numbers = Vec::with_capacity(devices);
    for _ in 0..devices {
        s.push_str(&format!(
            "INSERT INTO devices ({DEVICE_COLUMNS}) VALUES ({}) RETURNING id;\n",
            device_values(&user, &domain, &company, next)
        ));
        numbers.push(next); // the device's number is its first parameter
        next += DEVICE_PARAMS;
    }
    let a = next; // audit values: at, admin_id, admin_name, company_id, action, object_type, object_name, before, after
    let path = a + AUDIT_PARAMS;
    let mut after = format!("json_set(${}, ${path}, u.id", a + 8);
    for (i, n) in numbers.iter().enumerate() {
        after.push_str(&format!(
            ", ${}, (SELECT id FROM devices WHERE domain_id = {domain} AND number = ${n})",
            path + 1 + i
        ));
    }
    after.push(')');
    s.push_str(&format!(
        "INSERT INTO audit_log (at, admin_id, admin_name, company_id, action, object_type, object_id, \
             object_name, before_json, after_json)\n\
         SELECT ${a}, ${}, ${}, ${}, ${}, ${}, CAST(u.id AS TEXT), ${}, ${}, {after}\n\
         FROM users u WHERE u.domain_id = {domain} AND u.user_name_key = {name_key} RETURNING id;\n",
        a + 1,
        a + 2,
        a + 3,
        a + 4,
        a + 5,
        a + 6,
        a + 7,
    ));
}

/// Binds one creation's parameters in the order of [`creation_statements`].
pub(crate) fn bind_creation<'q>(q: AnyQuery<'q>, job: &'q crate::creations::Job) -> AnyQuery<'q> {
    let mut q = bind_user(q, job.company, &job.data, job.secrets.clone(), job.now);
    for (d, sec) in &job.devices {
        q = bind_device(q, d, sec.clone(), job.now);
    }
    let e = &job.entry;
    q = q
        .bind(e.at)
        .bind(e.admin_id)
        .bind(&e.admin_name)
        .bind(e.company_id.map(|c| c.0))
        .bind(&e.action)
        .bind(&e.object_type)
        .bind(&e.object_name)
        .bind(&e.before)
        .bind(&e.after)
        .bind(json_key(job.keys.user_id));
    for i in 0..job.devices.len() {
        q = q.bind(json_path_at(job.keys.devices, i, job.keys.device_id));
    }
    q
}

/// The error of a creation's statement `within` (0: the user, 1..: its
/// devices, then the audit entry).
pub(crate) fn creation_error(e: sqlx::Error, within: usize, devices: usize) -> StoreError {
    match within {
        0 => user_insert_error(e),
        n if n <= devices => at_device(StoreError::classify(e), n - 1),
        _ => StoreError::classify(e),
    }
}

/// An SQLite JSON path to a key of the top object (`$."key"`).
fn json_key(key: &str) -> String {
    format!("$.\"{key}\"")
}

/// `$."array"[i]."key"`.
fn json_path_at(array: &str, i: usize, key: &str) -> String {
    format!("$.\"{array}\"[{i}].\"{key}\"")
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
        "SELECT {} FROM users WHERE id = $1 AND company_id = $2",
        json_select(c, USER_FIELDS)
    ))
    .bind(id.0)
    .bind(company.0)
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound("user"))?;
    let mut user = user_from_row(&row)?;
    attach_devices(c, std::slice::from_mut(&mut user)).await?;
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
    let tail = format!(
        "FROM users u WHERE {} ORDER BY u.id LIMIT ${}",
        w.sql(),
        w.next_param()
    );
    // Each user's devices nested in its object: the page is one query and
    // one row from the database.
    let devices = json_array_expr(c, DEVICE_FIELDS, "FROM devices WHERE user_id = u.id");
    let mut fields = USER_FIELDS.to_vec();
    fields.push(("devices", &devices));
    let sql = json_page_sql(c, &fields, &tail);
    let row = w
        .bind(sqlx::query(&sql))
        .bind(page.fetch_limit())
        .fetch_one(&mut *c)
        .await?;
    let mut rows: Vec<UserRow> = json_page(&row)?;
    rows.sort_by_key(|u| u.id);
    let users = rows
        .into_iter()
        .map(|mut r| {
            let mut devices = std::mem::take(&mut r.devices);
            devices.sort_by_key(|d| d.id);
            let mut u = user_from(r);
            u.devices = devices
                .into_iter()
                .map(device_from)
                .collect::<Result<_, _>>()?;
            Ok(u)
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Page::from_rows(users, page, |u| u.id.0))
}

/// Loads the devices of a page of users in one query.
async fn attach_devices(c: &mut AnyConnection, users: &mut [User]) -> Result<(), StoreError> {
    if users.is_empty() {
        return Ok(());
    }
    // ids come from the database, not from request text
    let ids: Vec<String> = users.iter().map(|u| u.id.0.to_string()).collect();
    let tail = format!("FROM devices WHERE user_id IN ({})", ids.join(","));
    let row = sqlx::query(&json_all_sql(c, DEVICE_FIELDS, &tail))
        .persistent(false) // a new text per page: keep it out of the statement cache
        .fetch_one(&mut *c)
        .await?;
    let mut rows: Vec<DeviceRow> = json_page(&row)?;
    rows.sort_by_key(|d| d.id);
    let mut by_user: HashMap<i64, Vec<Device>> = HashMap::new();
    for r in rows {
        let d = device_from(r)?;
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
        crate::domains::check_in_company(&mut *c, company, data.domain_id).await?;
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

/// Replaces a user's TWP password hash (the user changing it).
pub async fn set_password_hash(
    c: &mut AnyConnection,
    company: CompanyId,
    id: UserId,
    hash: &str,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND company_id = $4",
    )
    .bind(hash)
    .bind(now_ms())
    .bind(id.0)
    .bind(company.0)
    .execute(c)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("user"));
    }
    Ok(())
}

async fn insert_device(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    user: UserId,
    d: &DeviceData,
    s: DeviceSecrets,
) -> Result<i64, StoreError> {
    let sql = format!(
        "INSERT INTO devices ({DEVICE_COLUMNS}) VALUES ({}) RETURNING id",
        device_values("$1", "$2", "$3", 4)
    );
    let q = sqlx::query(&sql)
        .bind(user.0)
        .bind(domain.0)
        .bind(company.0);
    let id: i64 = bind_device(q, d, s, now_ms())
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
        "SELECT {} FROM devices WHERE id = $1 AND user_id = $2 AND company_id = $3",
        json_select(c, DEVICE_FIELDS)
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
             updated_at = $17, site = $19
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
    .bind(&d.site)
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
