//! The links of each domain to its PBX (guide 3.3.3, 4.1–4.3) and what the
//! telephony engine needs to start: the links and the devices to supervise.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use twp_domain::{CompanyId, DomainId, PbxLink, PbxLinkData, SecretChange};

use crate::{StoreError, now_ms};

const COLUMNS: &str = "id, company_id, domain_id, role, protocol, host, port, capacity, sites, \
     session, pbx_type, user_name, callback_device, enabled, password_enc IS NOT NULL AS has_password, created_at, updated_at";

fn get_bool(r: &AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    r.try_get::<bool, _>(col)
        .or_else(|_| r.try_get::<i64, _>(col).map(|v| v != 0))
}

fn from_row(r: &AnyRow) -> Result<PbxLink, sqlx::Error> {
    let bad =
        |what: &str, v: &str| sqlx::Error::Decode(format!("stored {what} '{v}' is invalid").into());
    let text = |col: &str| r.try_get::<String, _>(col);
    let (role, protocol, session) = (text("role")?, text("protocol")?, text("session")?);
    let sites: String = text("sites")?;
    let port: i64 = r.try_get("port")?;
    let capacity: i64 = r.try_get("capacity")?;
    Ok(PbxLink {
        id: r.try_get("id")?,
        company_id: CompanyId(r.try_get("company_id")?),
        domain_id: DomainId(r.try_get("domain_id")?),
        data: PbxLinkData {
            role: role.parse().map_err(|_| bad("role", &role))?,
            protocol: protocol.parse().map_err(|_| bad("protocol", &protocol))?,
            host: text("host")?,
            port: u16::try_from(port).map_err(|_| bad("port", &port.to_string()))?,
            capacity: u32::try_from(capacity)
                .map_err(|_| bad("capacity", &capacity.to_string()))?,
            sites: sites.split_whitespace().map(str::to_owned).collect(),
            session: session.parse().map_err(|_| bad("session", &session))?,
            pbx_type: r.try_get("pbx_type")?,
            user_name: r.try_get("user_name")?,
            callback_device: r.try_get("callback_device")?,
            enabled: get_bool(r, "enabled")?,
        },
        has_password: get_bool(r, "has_password")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Creates a link; `password` is already sealed by the caller.
pub async fn create(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    d: &PbxLinkData,
    password: Option<&str>,
) -> Result<PbxLink, StoreError> {
    crate::domains::check_in_company(&mut *c, company, domain).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO pbx_links (company_id, domain_id, role, protocol, host, port, capacity, sites, session,
             pbx_type, user_name, password_enc, enabled, created_at, updated_at, callback_device)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15) RETURNING id",
    )
    .bind(company.0)
    .bind(domain.0)
    .bind(d.role.as_str())
    .bind(d.protocol.as_str())
    .bind(&d.host)
    .bind(i64::from(d.port))
    .bind(i64::from(d.capacity))
    .bind(d.sites.join(" "))
    .bind(d.session.as_str())
    .bind(&d.pbx_type)
    .bind(&d.user_name)
    .bind(password)
    .bind(d.enabled)
    .bind(now_ms())
    .bind(&d.callback_device)
    .fetch_one(&mut *c)
    .await
    .map_err(StoreError::classify)?
    .try_get(0)?;
    get(c, company, domain, id).await
}

pub async fn get(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    id: i64,
) -> Result<PbxLink, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM pbx_links WHERE id = $1 AND domain_id = $2 AND company_id = $3"
    ))
    .bind(id)
    .bind(domain.0)
    .bind(company.0)
    .fetch_optional(c)
    .await?
    .ok_or(StoreError::NotFound("link"))?;
    Ok(from_row(&row)?)
}

/// The links of a domain, CSTA link first, then by creation.
pub async fn list(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
) -> Result<Vec<PbxLink>, StoreError> {
    crate::domains::check_in_company(&mut *c, company, domain).await?;
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM pbx_links WHERE domain_id = $1 AND company_id = $2
         ORDER BY CASE WHEN role = 'csta' THEN 0 ELSE 1 END, id"
    ))
    .bind(domain.0)
    .bind(company.0)
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Every enabled link of every domain, for starting the engines.
pub async fn list_enabled(c: &mut AnyConnection) -> Result<Vec<PbxLink>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM pbx_links WHERE enabled = $1
         ORDER BY domain_id, CASE WHEN role = 'csta' THEN 0 ELSE 1 END, id"
    ))
    .bind(true)
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Replaces a link's settings; the password follows `password`.
pub async fn update(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    id: i64,
    d: &PbxLinkData,
    password: SecretChange,
) -> Result<PbxLink, StoreError> {
    let current: Option<String> = sqlx::query(
        "SELECT password_enc FROM pbx_links WHERE id = $1 AND domain_id = $2 AND company_id = $3",
    )
    .bind(id)
    .bind(domain.0)
    .bind(company.0)
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound("link"))?
    .try_get(0)?;
    sqlx::query(
        "UPDATE pbx_links SET role = $1, protocol = $2, host = $3, port = $4, capacity = $5, sites = $6,
             session = $7, pbx_type = $8, user_name = $9, password_enc = $10, enabled = $11, updated_at = $12,
             callback_device = $14
         WHERE id = $13",
    )
    .bind(d.role.as_str())
    .bind(d.protocol.as_str())
    .bind(&d.host)
    .bind(i64::from(d.port))
    .bind(i64::from(d.capacity))
    .bind(d.sites.join(" "))
    .bind(d.session.as_str())
    .bind(&d.pbx_type)
    .bind(&d.user_name)
    .bind(password.apply(current))
    .bind(d.enabled)
    .bind(now_ms())
    .bind(id)
    .bind(&d.callback_device)
    .execute(&mut *c)
    .await
    .map_err(StoreError::classify)?;
    get(c, company, domain, id).await
}

pub async fn delete(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    id: i64,
) -> Result<(), StoreError> {
    let done =
        sqlx::query("DELETE FROM pbx_links WHERE id = $1 AND domain_id = $2 AND company_id = $3")
            .bind(id)
            .bind(domain.0)
            .bind(company.0)
            .execute(c)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("link"));
    }
    Ok(())
}

/// A device to supervise: its number and Site.Cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisedDevice {
    pub number: String,
    pub site: Option<String>,
    /// Lines of the device (guide 10.5 "CCos"), when set.
    pub ccos: Option<i64>,
}

/// The devices of a domain that a CTI link supervises: every device of an
/// enabled user except SIP soft phones, by number.
pub async fn supervised_devices(
    c: &mut AnyConnection,
    domain: DomainId,
) -> Result<Vec<SupervisedDevice>, StoreError> {
    let rows = sqlx::query(
        "SELECT d.number, d.site, d.ccos FROM devices d JOIN users u ON u.id = d.user_id
         WHERE d.domain_id = $1 AND d.protocol <> 'SIP' AND u.enabled = $2
         ORDER BY LENGTH(d.number), d.number",
    )
    .bind(domain.0)
    .bind(true)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SupervisedDevice {
                number: r.try_get(0)?,
                site: r.try_get(1)?,
                ccos: r.try_get(2)?,
            })
        })
        .collect()
}
