//! Import links (guide 7.2) and their runs with the report. Scoped by
//! company in every statement; the bind password is sealed by the caller
//! and only ever read back by [`sealed_password`] for a run.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use twp_domain::{
    CompanyId, DomainId, GroupId, ImportMapping, ImportSchedule, SecretChange, UserField,
    UserImport, UserImportData,
};

use crate::{StoreError, now_ms};

const COLUMNS: &str = "id, company_id, domain_id, group_id, description, import_type, host, port, \
     security, bind_name, base_dn, filter, page_size, mapping_json, sync_type, schedule_kind, \
     schedule_minutes, delete_share_percent, last_run_at, created_at, updated_at, \
     password_enc IS NOT NULL AS has_password";

fn get_bool(r: &AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    r.try_get::<bool, _>(col)
        .or_else(|_| r.try_get::<i64, _>(col).map(|v| v != 0))
}

fn bad(what: &str, v: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored {what} '{v}' is invalid").into())
}

fn mapping_to_json(m: &ImportMapping) -> String {
    let pairs: Vec<[&str; 2]> = m.0.iter().map(|(f, a)| [f.as_str(), a.as_str()]).collect();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into())
}

fn mapping_from_json(s: &str) -> Result<ImportMapping, sqlx::Error> {
    let pairs: Vec<(String, String)> =
        serde_json::from_str(s).map_err(|_| bad("import mapping", s))?;
    let mut out = Vec::with_capacity(pairs.len());
    for (f, a) in pairs {
        out.push((f.parse::<UserField>().map_err(|_| bad("field", &f))?, a));
    }
    Ok(ImportMapping(out))
}

fn schedule_columns(s: ImportSchedule) -> (&'static str, Option<i64>) {
    match s {
        ImportSchedule::Manual => ("manual", None),
        ImportSchedule::Daily { minute_of_day } => ("daily", Some(i64::from(minute_of_day))),
        ImportSchedule::Every { minutes } => ("interval", Some(i64::from(minutes))),
    }
}

fn from_row(r: &AnyRow) -> Result<UserImport, sqlx::Error> {
    let text = |col: &str| r.try_get::<String, _>(col);
    let (t, sec, sync, kind) = (
        text("import_type")?,
        text("security")?,
        text("sync_type")?,
        text("schedule_kind")?,
    );
    let minutes: Option<i64> = r.try_get("schedule_minutes")?;
    let schedule = match (kind.as_str(), minutes) {
        ("manual", _) => ImportSchedule::Manual,
        ("daily", Some(m)) => ImportSchedule::Daily {
            minute_of_day: u16::try_from(m).map_err(|_| bad("schedule", &kind))?,
        },
        ("interval", Some(m)) => ImportSchedule::Every {
            minutes: u32::try_from(m).map_err(|_| bad("schedule", &kind))?,
        },
        _ => return Err(bad("schedule", &kind)),
    };
    let port: i64 = r.try_get("port")?;
    let page: i64 = r.try_get("page_size")?;
    let share: i64 = r.try_get("delete_share_percent")?;
    Ok(UserImport {
        id: r.try_get("id")?,
        company_id: CompanyId(r.try_get("company_id")?),
        data: UserImportData {
            description: text("description")?,
            import_type: t.parse().map_err(|_| bad("import type", &t))?,
            domain_id: DomainId(r.try_get("domain_id")?),
            group_id: r.try_get::<Option<i64>, _>("group_id")?.map(GroupId),
            host: text("host")?,
            port: u16::try_from(port).map_err(|_| bad("port", &port.to_string()))?,
            security: sec.parse().map_err(|_| bad("security", &sec))?,
            bind_name: text("bind_name")?,
            base_dn: text("base_dn")?,
            filter: text("filter")?,
            page_size: u32::try_from(page).map_err(|_| bad("page size", &page.to_string()))?,
            mapping: mapping_from_json(&text("mapping_json")?)?,
            sync_type: sync.parse().map_err(|_| bad("sync type", &sync))?,
            schedule,
            delete_share_percent: u8::try_from(share)
                .map_err(|_| bad("delete share", &share.to_string()))?,
        },
        has_password: get_bool(r, "has_password")?,
        last_run_at: r.try_get("last_run_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The domain must be the company's and the group, if any, of that domain.
async fn check_targets(
    c: &mut AnyConnection,
    company: CompanyId,
    d: &UserImportData,
) -> Result<(), StoreError> {
    crate::domains::check_in_company(&mut *c, company, d.domain_id).await?;
    if let Some(g) = d.group_id {
        let found = sqlx::query(
            "SELECT 1 FROM user_groups WHERE id = $1 AND domain_id = $2 AND company_id = $3",
        )
        .bind(g.0)
        .bind(d.domain_id.0)
        .bind(company.0)
        .fetch_optional(&mut *c)
        .await?;
        if found.is_none() {
            return Err(StoreError::InvalidReference {
                field: "groupId",
                message: "no such group in the import's domain".into(),
            });
        }
    }
    Ok(())
}

/// Creates an import link; `password` is already sealed by the caller.
pub async fn create(
    c: &mut AnyConnection,
    company: CompanyId,
    d: &UserImportData,
    password: Option<&str>,
) -> Result<UserImport, StoreError> {
    check_targets(&mut *c, company, d).await?;
    let (kind, minutes) = schedule_columns(d.schedule);
    let id: i64 = sqlx::query(
        "INSERT INTO user_imports (company_id, domain_id, group_id, description, import_type, host, port,
             security, bind_name, password_enc, base_dn, filter, page_size, mapping_json, sync_type,
             schedule_kind, schedule_minutes, delete_share_percent, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)
         RETURNING id",
    )
    .bind(company.0)
    .bind(d.domain_id.0)
    .bind(d.group_id.map(|g| g.0))
    .bind(&d.description)
    .bind(d.import_type.as_str())
    .bind(&d.host)
    .bind(i64::from(d.port))
    .bind(d.security.as_str())
    .bind(&d.bind_name)
    .bind(password)
    .bind(&d.base_dn)
    .bind(&d.filter)
    .bind(i64::from(d.page_size))
    .bind(mapping_to_json(&d.mapping))
    .bind(d.sync_type.as_str())
    .bind(kind)
    .bind(minutes)
    .bind(i64::from(d.delete_share_percent))
    .bind(now_ms())
    .fetch_one(&mut *c)
    .await
    .map_err(StoreError::classify)?
    .try_get(0)?;
    get(c, company, id).await
}

pub async fn get(
    c: &mut AnyConnection,
    company: CompanyId,
    id: i64,
) -> Result<UserImport, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM user_imports WHERE id = $1 AND company_id = $2"
    ))
    .bind(id)
    .bind(company.0)
    .fetch_optional(c)
    .await?
    .ok_or(StoreError::NotFound("user import"))?;
    Ok(from_row(&row)?)
}

/// The company's import links, oldest first.
pub async fn list(
    c: &mut AnyConnection,
    company: CompanyId,
) -> Result<Vec<UserImport>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM user_imports WHERE company_id = $1 ORDER BY id"
    ))
    .bind(company.0)
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Every scheduled import link of every company, for the scheduler.
pub async fn scheduled(c: &mut AnyConnection) -> Result<Vec<UserImport>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM user_imports WHERE schedule_kind <> 'manual' ORDER BY id"
    ))
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Replaces the settings; the password follows `password`.
pub async fn update(
    c: &mut AnyConnection,
    company: CompanyId,
    id: i64,
    d: &UserImportData,
    password: SecretChange,
) -> Result<UserImport, StoreError> {
    let current: Option<String> =
        sqlx::query("SELECT password_enc FROM user_imports WHERE id = $1 AND company_id = $2")
            .bind(id)
            .bind(company.0)
            .fetch_optional(&mut *c)
            .await?
            .ok_or(StoreError::NotFound("user import"))?
            .try_get(0)?;
    check_targets(&mut *c, company, d).await?;
    let (kind, minutes) = schedule_columns(d.schedule);
    sqlx::query(
        "UPDATE user_imports SET domain_id = $1, group_id = $2, description = $3, import_type = $4,
             host = $5, port = $6, security = $7, bind_name = $8, password_enc = $9, base_dn = $10,
             filter = $11, page_size = $12, mapping_json = $13, sync_type = $14, schedule_kind = $15,
             schedule_minutes = $16, delete_share_percent = $17, updated_at = $18
         WHERE id = $19 AND company_id = $20",
    )
    .bind(d.domain_id.0)
    .bind(d.group_id.map(|g| g.0))
    .bind(&d.description)
    .bind(d.import_type.as_str())
    .bind(&d.host)
    .bind(i64::from(d.port))
    .bind(d.security.as_str())
    .bind(&d.bind_name)
    .bind(password.apply(current))
    .bind(&d.base_dn)
    .bind(&d.filter)
    .bind(i64::from(d.page_size))
    .bind(mapping_to_json(&d.mapping))
    .bind(d.sync_type.as_str())
    .bind(kind)
    .bind(minutes)
    .bind(i64::from(d.delete_share_percent))
    .bind(now_ms())
    .bind(id)
    .bind(company.0)
    .execute(&mut *c)
    .await
    .map_err(StoreError::classify)?;
    get(c, company, id).await
}

/// Deletes a link and its runs; its users stay, no longer owned by an import.
pub async fn delete(c: &mut AnyConnection, company: CompanyId, id: i64) -> Result<(), StoreError> {
    // explicit (SQLite's ALTER-added foreign key is honoured too, but say it)
    sqlx::query("UPDATE users SET import_id = NULL WHERE import_id = $1 AND company_id = $2")
        .bind(id)
        .bind(company.0)
        .execute(&mut *c)
        .await?;
    let done = sqlx::query("DELETE FROM user_imports WHERE id = $1 AND company_id = $2")
        .bind(id)
        .bind(company.0)
        .execute(c)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("user import"));
    }
    Ok(())
}

/// The sealed bind password of a link, for a run.
pub async fn sealed_password(
    c: &mut AnyConnection,
    company: CompanyId,
    id: i64,
) -> Result<Option<String>, StoreError> {
    let r = sqlx::query("SELECT password_enc FROM user_imports WHERE id = $1 AND company_id = $2")
        .bind(id)
        .bind(company.0)
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound("user import"))?;
    Ok(r.try_get(0)?)
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// The changes were applied.
    Succeeded,
    /// Nothing was changed: the source or the store failed.
    Failed,
    /// Nothing was changed: a Full run would delete more than the share.
    ConfirmationRequired,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::ConfirmationRequired => "confirmation_required",
        }
    }

    fn parse(s: &str) -> Result<Self, sqlx::Error> {
        Ok(match s {
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "confirmation_required" => Self::ConfirmationRequired,
            _ => return Err(bad("run status", s)),
        })
    }
}

/// A finished run and its report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRun {
    pub id: i64,
    pub import_id: i64,
    pub company_id: CompanyId,
    /// `manual` or `schedule`.
    pub trigger: String,
    pub status: RunStatus,
    pub started_at: i64,
    pub ended_at: i64,
    pub entries_read: i64,
    pub created: i64,
    pub updated: i64,
    pub disabled: i64,
    pub deleted: i64,
    pub ignored: i64,
    /// Why it failed or what to confirm.
    pub message: Option<String>,
    /// The report's details, as JSON written by the import engine.
    pub details_json: String,
}

const RUN_COLUMNS: &str = "id, import_id, company_id, trigger_kind, status, started_at, ended_at, \
     entries_read, created, updated, disabled, deleted, ignored, message";

fn run_from_row(r: &AnyRow, details: bool) -> Result<ImportRun, sqlx::Error> {
    let status: String = r.try_get("status")?;
    Ok(ImportRun {
        id: r.try_get("id")?,
        import_id: r.try_get("import_id")?,
        company_id: CompanyId(r.try_get("company_id")?),
        trigger: r.try_get("trigger_kind")?,
        status: RunStatus::parse(&status)?,
        started_at: r.try_get("started_at")?,
        ended_at: r.try_get("ended_at")?,
        entries_read: r.try_get("entries_read")?,
        created: r.try_get("created")?,
        updated: r.try_get("updated")?,
        disabled: r.try_get("disabled")?,
        deleted: r.try_get("deleted")?,
        ignored: r.try_get("ignored")?,
        message: r.try_get("message")?,
        details_json: if details {
            r.try_get("details_json")?
        } else {
            String::new()
        },
    })
}

/// Records a finished run (its `id` is ignored) and the link's last run
/// time; returns the run's id. Call it in the run's transaction when the
/// run changed users.
pub async fn record_run(c: &mut AnyConnection, run: &ImportRun) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query(
        "INSERT INTO user_import_runs (import_id, company_id, trigger_kind, status, started_at, ended_at,
             entries_read, created, updated, disabled, deleted, ignored, message, details_json)
         SELECT id, company_id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14
         FROM user_imports WHERE id = $1 AND company_id = $2 RETURNING id",
    )
    .bind(run.import_id)
    .bind(run.company_id.0)
    .bind(&run.trigger)
    .bind(run.status.as_str())
    .bind(run.started_at)
    .bind(run.ended_at)
    .bind(run.entries_read)
    .bind(run.created)
    .bind(run.updated)
    .bind(run.disabled)
    .bind(run.deleted)
    .bind(run.ignored)
    .bind(&run.message)
    .bind(&run.details_json)
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound("user import"))?
    .try_get(0)?;
    sqlx::query("UPDATE user_imports SET last_run_at = $1 WHERE id = $2 AND company_id = $3")
        .bind(run.started_at)
        .bind(run.import_id)
        .bind(run.company_id.0)
        .execute(c)
        .await?;
    Ok(id)
}

/// The runs of a link, newest first, without their details.
pub async fn runs(
    c: &mut AnyConnection,
    company: CompanyId,
    import: i64,
    limit: i64,
) -> Result<Vec<ImportRun>, StoreError> {
    get(&mut *c, company, import).await?;
    let rows = sqlx::query(&format!(
        "SELECT {RUN_COLUMNS} FROM user_import_runs WHERE import_id = $1 AND company_id = $2
         ORDER BY id DESC LIMIT $3"
    ))
    .bind(import)
    .bind(company.0)
    .bind(limit)
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| run_from_row(r, false))
        .collect::<Result<_, _>>()?)
}

/// One run with its details.
pub async fn run(
    c: &mut AnyConnection,
    company: CompanyId,
    import: i64,
    id: i64,
) -> Result<ImportRun, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {RUN_COLUMNS}, details_json FROM user_import_runs
         WHERE id = $1 AND import_id = $2 AND company_id = $3"
    ))
    .bind(id)
    .bind(import)
    .bind(company.0)
    .fetch_optional(c)
    .await?
    .ok_or(StoreError::NotFound("import run"))?;
    Ok(run_from_row(&row, true)?)
}
