//! Directories of a domain (guide 8.1–8.4): their settings, the contacts of
//! their last completed synchronisation with the derived keys, and the last
//! report. `persist` implements the engine's `Persistence` over these tables;
//! `codec` packs contacts into chunks (a 500,000-contact directory is a
//! hundred rows, not half a million); `packed` compresses the stored blobs.

mod codec;
mod packed;
mod persist;
pub mod private;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use twp_domain::{CompanyId, DomainId, SecretChange};

use crate::{StoreError, name_key, now_ms};

pub use codec::{CodecError, decode_chunk, encode_chunk};

/// A chunk of contacts in its stored form (encoded, then compressed); read
/// back by [`read_stored_chunk`].
pub fn stored_chunk(contacts: &[twp_directory::Contact]) -> Vec<u8> {
    packed::pack(&encode_chunk(contacts))
}

/// Derived keys in their stored form; read back by [`read_stored_derived`].
pub fn stored_derived(derived: &[u8]) -> Vec<u8> {
    packed::pack(derived)
}

/// The contacts of a chunk as stored (compressed or, written before
/// compression, as is): what a restart reads, and what the fuzz target
/// `store_blobs` (fuzz/import) feeds damaged bytes to.
pub fn read_stored_chunk(stored: &[u8]) -> Result<Vec<twp_directory::Contact>, CodecError> {
    decode_chunk(&packed::unpack(stored)?)
}

/// Derived keys as stored (compressed or as is).
pub fn read_stored_derived(stored: Vec<u8>) -> Result<Vec<u8>, CodecError> {
    packed::unpack_owned(stored)
}
pub use persist::StorePersistence;

/// Contacts per stored chunk.
pub const CHUNK: usize = 4096;

/// A directory's settings as the API validated them. `settings` is the
/// connector's JSON without its password (sealed apart); `mapping` the JSON
/// of the field mapping; the API owns both formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryData {
    pub name: String,
    /// `draft`, `public` or `private`.
    pub kind: String,
    pub priority: i64,
    /// `csv`, `xlsx`, `ldap`, `ad`, `sql`, `odbc`, `twp-users`, `private`.
    pub server_type: String,
    pub settings: String,
    pub mapping: String,
    /// `manual`, `daily` or `every`.
    pub sync_mode: String,
    pub sync_every_minutes: Option<i64>,
    pub merge_contacts: bool,
}

/// A stored directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDirectory {
    pub id: i64,
    pub company_id: CompanyId,
    pub domain_id: DomainId,
    pub data: DirectoryData,
    pub has_password: bool,
    /// Contacts of the last completed synchronisation, and when it was.
    pub contacts: i64,
    pub synced_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "d.id, d.company_id, d.domain_id, d.name, d.kind, d.priority, d.server_type, \
    d.settings, d.mapping, d.sync_mode, d.sync_every_minutes, d.merge_contacts, \
    d.password_enc IS NOT NULL AS has_password, COALESCE(v.contacts, 0) AS contacts, v.synced_at, \
    d.created_at, d.updated_at";

const FROM: &str = "directories d LEFT JOIN directory_derived v ON v.directory_id = d.id";

fn get_bool(r: &AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    r.try_get::<bool, _>(col)
        .or_else(|_| r.try_get::<i64, _>(col).map(|v| v != 0))
}

fn from_row(r: &AnyRow) -> Result<StoredDirectory, sqlx::Error> {
    Ok(StoredDirectory {
        id: r.try_get("id")?,
        company_id: CompanyId(r.try_get("company_id")?),
        domain_id: DomainId(r.try_get("domain_id")?),
        data: DirectoryData {
            name: r.try_get("name")?,
            kind: r.try_get("kind")?,
            priority: r.try_get("priority")?,
            server_type: r.try_get("server_type")?,
            settings: r.try_get("settings")?,
            mapping: r.try_get("mapping")?,
            sync_mode: r.try_get("sync_mode")?,
            sync_every_minutes: r.try_get("sync_every_minutes")?,
            merge_contacts: get_bool(r, "merge_contacts")?,
        },
        has_password: get_bool(r, "has_password")?,
        contacts: r.try_get("contacts")?,
        synced_at: r.try_get("synced_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn classify(e: sqlx::Error) -> StoreError {
    match StoreError::classify(e) {
        StoreError::Conflict { .. } => StoreError::Conflict {
            field: "name",
            message: "a directory with this name already exists in this domain".into(),
        },
        other => other,
    }
}

/// Creates a directory; `password` is already sealed by the caller.
pub async fn create(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    d: &DirectoryData,
    password: Option<&str>,
) -> Result<StoredDirectory, StoreError> {
    crate::domains::check_in_company(&mut *c, company, domain).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO directories (company_id, domain_id, name, name_key, kind, priority, server_type,
             settings, password_enc, mapping, sync_mode, sync_every_minutes, merge_contacts, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id",
    )
    .bind(company.0)
    .bind(domain.0)
    .bind(d.name.trim())
    .bind(name_key(&d.name))
    .bind(&d.kind)
    .bind(d.priority)
    .bind(&d.server_type)
    .bind(&d.settings)
    .bind(password)
    .bind(&d.mapping)
    .bind(&d.sync_mode)
    .bind(d.sync_every_minutes)
    .bind(d.merge_contacts)
    .bind(now_ms())
    .fetch_one(&mut *c)
    .await
    .map_err(classify)?
    .try_get(0)?;
    get(c, company, domain, id).await
}

/// A directory of the company's domain; another company's is not found.
pub async fn get(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    id: i64,
) -> Result<StoredDirectory, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE d.id = $1 AND d.domain_id = $2 AND d.company_id = $3"
    ))
    .bind(id)
    .bind(domain.0)
    .bind(company.0)
    .fetch_optional(c)
    .await?
    .ok_or(StoreError::NotFound("directory"))?;
    Ok(from_row(&row)?)
}

/// Whether a directory with this id belongs to the company (any domain):
/// what grants check.
pub async fn exists_in_company(
    c: &mut AnyConnection,
    company: CompanyId,
    id: i64,
) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("SELECT id FROM directories WHERE id = $1 AND company_id = $2")
            .bind(id)
            .bind(company.0)
            .fetch_optional(c)
            .await?
            .is_some(),
    )
}

/// The directories of a domain, by priority then id.
pub async fn list(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
) -> Result<Vec<StoredDirectory>, StoreError> {
    crate::domains::get(&mut *c, company, domain).await?;
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE d.domain_id = $1 AND d.company_id = $2 ORDER BY d.priority, d.id"
    ))
    .bind(domain.0)
    .bind(company.0)
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Every directory of every domain, for loading the engines at start.
pub async fn list_all(c: &mut AnyConnection) -> Result<Vec<StoredDirectory>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM {FROM} ORDER BY d.company_id, d.domain_id, d.priority, d.id"
    ))
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The sealed connector password, if one is set.
pub async fn sealed_password(
    c: &mut AnyConnection,
    company: CompanyId,
    id: i64,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT password_enc FROM directories WHERE id = $1 AND company_id = $2")
        .bind(id)
        .bind(company.0)
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound("directory"))?;
    Ok(row.try_get(0)?)
}

/// Replaces a directory's settings; the password follows `password`.
pub async fn update(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    id: i64,
    d: &DirectoryData,
    password: SecretChange,
) -> Result<StoredDirectory, StoreError> {
    let current: Option<String> = sqlx::query(
        "SELECT password_enc FROM directories WHERE id = $1 AND domain_id = $2 AND company_id = $3",
    )
    .bind(id)
    .bind(domain.0)
    .bind(company.0)
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound("directory"))?
    .try_get(0)?;
    sqlx::query(
        "UPDATE directories SET name = $1, name_key = $2, kind = $3, priority = $4, server_type = $5,
             settings = $6, password_enc = $7, mapping = $8, sync_mode = $9, sync_every_minutes = $10,
             merge_contacts = $11, updated_at = $12
         WHERE id = $13 AND company_id = $14",
    )
    .bind(d.name.trim())
    .bind(name_key(&d.name))
    .bind(&d.kind)
    .bind(d.priority)
    .bind(&d.server_type)
    .bind(&d.settings)
    .bind(password.apply(current))
    .bind(&d.mapping)
    .bind(&d.sync_mode)
    .bind(d.sync_every_minutes)
    .bind(d.merge_contacts)
    .bind(now_ms())
    .bind(id)
    .bind(company.0)
    .execute(&mut *c)
    .await
    .map_err(classify)?;
    get(c, company, domain, id).await
}

/// Deletes a directory with its contacts, derived keys, report and grants.
pub async fn delete(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    id: i64,
) -> Result<(), StoreError> {
    // grants name the directory by id (no foreign key: the column is shared
    // by the object types)
    sqlx::query(
        "DELETE FROM grants WHERE object_type = 'directory' AND object_ref = $1 AND company_id = $2
         AND EXISTS (SELECT 1 FROM directories WHERE id = $1 AND domain_id = $3 AND company_id = $2)",
    )
    .bind(id)
    .bind(company.0)
    .bind(domain.0)
    .execute(&mut *c)
    .await?;
    let done =
        sqlx::query("DELETE FROM directories WHERE id = $1 AND domain_id = $2 AND company_id = $3")
            .bind(id)
            .bind(domain.0)
            .bind(company.0)
            .execute(c)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("directory"));
    }
    Ok(())
}

/// The outcome of a synchronisation, kept until the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    /// `completed`, `failed` or `cancelled`.
    pub outcome: String,
    /// The report as JSON (the API's shape).
    pub report: String,
    pub started_at: i64,
    pub finished_at: i64,
}

/// Replaces the directory's last report.
pub async fn save_report(
    c: &mut AnyConnection,
    company: CompanyId,
    id: i64,
    r: &StoredReport,
) -> Result<(), StoreError> {
    if !exists_in_company(&mut *c, company, id).await? {
        return Err(StoreError::NotFound("directory"));
    }
    sqlx::query(
        "INSERT INTO directory_reports (directory_id, outcome, report, started_at, finished_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (directory_id) DO UPDATE SET outcome = excluded.outcome, report = excluded.report,
             started_at = excluded.started_at, finished_at = excluded.finished_at",
    )
    .bind(id)
    .bind(&r.outcome)
    .bind(&r.report)
    .bind(r.started_at)
    .bind(r.finished_at)
    .execute(c)
    .await?;
    Ok(())
}

/// The directory's last report, if it was ever synchronised.
pub async fn report(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    id: i64,
) -> Result<Option<StoredReport>, StoreError> {
    get(&mut *c, company, domain, id).await?;
    let row = sqlx::query(
        "SELECT outcome, report, started_at, finished_at FROM directory_reports WHERE directory_id = $1",
    )
    .bind(id)
    .fetch_optional(c)
    .await?;
    Ok(match row {
        Some(r) => Some(StoredReport {
            outcome: r.try_get(0)?,
            report: r.try_get(1)?,
            started_at: r.try_get(2)?,
            finished_at: r.try_get(3)?,
        }),
        None => None,
    })
}

/// First step of replacing a directory's contacts and derived keys, in a
/// transaction the caller commits after [`insert_contact_chunk`] for each
/// chunk and [`save_derived`]: all or nothing.
pub async fn clear_contacts(
    c: &mut AnyConnection,
    company: CompanyId,
    id: i64,
) -> Result<(), StoreError> {
    if !exists_in_company(&mut *c, company, id).await? {
        return Err(StoreError::NotFound("directory"));
    }
    sqlx::query("DELETE FROM directory_contacts WHERE directory_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Stores chunk number `n` of a directory's encoded contacts (after
/// [`clear_contacts`] in the same transaction).
pub async fn insert_contact_chunk(
    c: &mut AnyConnection,
    id: i64,
    n: usize,
    chunk: &[u8],
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO directory_contacts (directory_id, chunk, data) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(i64::try_from(n).unwrap_or(i64::MAX))
        .bind(chunk)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Stores a directory's derived keys and contact count (the last step of
/// replacing its contacts).
pub async fn save_derived(
    c: &mut AnyConnection,
    id: i64,
    contacts: i64,
    derived: &[u8],
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO directory_derived (directory_id, data, contacts, synced_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (directory_id) DO UPDATE SET data = excluded.data, contacts = excluded.contacts,
             synced_at = excluded.synced_at",
    )
    .bind(id)
    .bind(derived)
    .bind(contacts)
    .bind(now_ms())
    .execute(c)
    .await?;
    Ok(())
}

/// The encoded contact chunks of a directory, in order.
pub async fn contact_chunks(
    c: &mut AnyConnection,
    company: CompanyId,
    id: i64,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let rows = sqlx::query(
        "SELECT k.data FROM directory_contacts k JOIN directories d ON d.id = k.directory_id
         WHERE k.directory_id = $1 AND d.company_id = $2 ORDER BY k.chunk",
    )
    .bind(id)
    .bind(company.0)
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<Vec<u8>, _>(0))
        .collect::<Result<_, _>>()?)
}

/// The derived keys saved with the contacts, if any.
pub async fn derived(
    c: &mut AnyConnection,
    company: CompanyId,
    id: i64,
) -> Result<Option<Vec<u8>>, StoreError> {
    let row = sqlx::query(
        "SELECT v.data FROM directory_derived v JOIN directories d ON d.id = v.directory_id
         WHERE v.directory_id = $1 AND d.company_id = $2",
    )
    .bind(id)
    .bind(company.0)
    .fetch_optional(c)
    .await?;
    Ok(match row {
        Some(r) => Some(r.try_get(0)?),
        None => None,
    })
}
