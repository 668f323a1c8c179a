//! Authorizations (guide 7.4) as stored rows, and the snapshot the
//! `twp-access` engine is built from.
//!
//! Subjects are users or groups; objects are applications, or the calendar,
//! call logs, statistics or records of a user or group. Directories,
//! intercom groups and phone queues have no table yet, so they cannot be
//! stored (the API refuses them). The sharing rules and seat counting are
//! the engine's job: callers validate a grant with it before [`insert`].

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use twp_access::authz::{
    Application, DirectoryId, Grant, GrantId, GroupEntry, Home, Object, ObjectKind, Principal,
    Snapshot, Subject, UserEntry,
};
use twp_domain::{CompanyId, DomainId, GroupId, UserId};

use crate::{StoreError, now_ms};

/// A stored grant with the columns the engine does not keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredGrant {
    pub grant: Grant,
    pub company_id: CompanyId,
    pub created_at: i64,
}

/// Which grants to list; every filter given must match.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrantFilter {
    pub subject: Option<Principal>,
    pub object: Option<Object>,
    pub kind: Option<ObjectKind>,
}

const COLUMNS: &str = "id, company_id, subject_user_id, subject_group_id, object_type, application, \
     object_user_id, object_group_id, object_ref, created_at";

/// The text stored in `object_type`.
pub fn kind_text(k: ObjectKind) -> &'static str {
    match k {
        ObjectKind::Application => "application",
        ObjectKind::Directory => "directory",
        ObjectKind::Calendar => "calendar",
        ObjectKind::IntercomGroup => "intercom_group",
        ObjectKind::PhoneQueue => "phone_queue",
        ObjectKind::CallLog => "call_log",
        ObjectKind::Statistics => "statistics",
        ObjectKind::Records => "records",
    }
}

pub fn kind_from_text(s: &str) -> Option<ObjectKind> {
    ObjectKind::ALL.into_iter().find(|k| kind_text(*k) == s)
}

fn principal_key(p: Principal) -> String {
    match p {
        Principal::User(u) => format!("user:{}", u.0),
        Principal::Group(g) => format!("group:{}", g.0),
    }
}

fn subject_key(s: Subject) -> Result<String, StoreError> {
    match s {
        Subject::User(u) => Ok(principal_key(Principal::User(u))),
        Subject::Group(g) => Ok(principal_key(Principal::Group(g))),
        Subject::PhoneQueue(_) | Subject::IntercomGroup(_) => Err(not_stored("subject")),
    }
}

fn object_key(o: Object) -> Result<String, StoreError> {
    let kind = kind_text(o.kind());
    match o {
        Object::Application(a) => Ok(format!("{kind}:{}", a.key())),
        Object::Calendar(p) | Object::CallLog(p) | Object::Statistics(p) | Object::Records(p) => {
            Ok(format!("{kind}:{}", principal_key(p)))
        }
        Object::Directory(d) => Ok(format!("{kind}:{}", d.0)),
        Object::IntercomGroup(_) | Object::PhoneQueue(_) => Err(not_stored("object")),
    }
}

fn not_stored(field: &'static str) -> StoreError {
    StoreError::InvalidReference {
        field,
        message: "intercom groups and phone queues are not stored yet: \
                  only users and groups can be granted applications, directories and user data"
            .into(),
    }
}

fn from_row(r: &AnyRow) -> Result<StoredGrant, sqlx::Error> {
    let bad =
        |what: &str| sqlx::Error::Decode(format!("stored grant has an invalid {what}").into());
    let su: Option<i64> = r.try_get("subject_user_id")?;
    let sg: Option<i64> = r.try_get("subject_group_id")?;
    let subject = match (su, sg) {
        (Some(u), _) => Subject::User(UserId(u)),
        (None, Some(g)) => Subject::Group(GroupId(g)),
        (None, None) => return Err(bad("subject")),
    };
    let ou: Option<i64> = r.try_get("object_user_id")?;
    let og: Option<i64> = r.try_get("object_group_id")?;
    let owner = match (ou, og) {
        (Some(u), _) => Some(Principal::User(UserId(u))),
        (None, Some(g)) => Some(Principal::Group(GroupId(g))),
        (None, None) => None,
    };
    let kind: String = r.try_get("object_type")?;
    let kind = kind_from_text(&kind).ok_or_else(|| bad("object type"))?;
    let object = match (kind, owner) {
        (ObjectKind::Application, _) => {
            let app: Option<String> = r.try_get("application")?;
            Object::Application(
                app.as_deref()
                    .and_then(Application::from_key)
                    .ok_or_else(|| bad("application"))?,
            )
        }
        (ObjectKind::Calendar, Some(p)) => Object::Calendar(p),
        (ObjectKind::CallLog, Some(p)) => Object::CallLog(p),
        (ObjectKind::Statistics, Some(p)) => Object::Statistics(p),
        (ObjectKind::Records, Some(p)) => Object::Records(p),
        (ObjectKind::Directory, _) => {
            let d: Option<i64> = r.try_get("object_ref")?;
            Object::Directory(DirectoryId(d.ok_or_else(|| bad("directory"))?))
        }
        _ => return Err(bad("object")),
    };
    Ok(StoredGrant {
        grant: Grant {
            id: GrantId(r.try_get("id")?),
            subject,
            object,
        },
        company_id: CompanyId(r.try_get("company_id")?),
        created_at: r.try_get("created_at")?,
    })
}

/// Where a user or group of `company` lives; not found in another company.
pub async fn home(
    c: &mut AnyConnection,
    company: CompanyId,
    p: Principal,
) -> Result<Home, StoreError> {
    let (sql, id, what) = match p {
        Principal::User(u) => (
            "SELECT domain_id FROM users WHERE id = $1 AND company_id = $2",
            u.0,
            "user",
        ),
        Principal::Group(g) => (
            "SELECT domain_id FROM user_groups WHERE id = $1 AND company_id = $2",
            g.0,
            "group",
        ),
    };
    let domain: i64 = sqlx::query(sql)
        .bind(id)
        .bind(company.0)
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound(what))?
        .try_get(0)?;
    Ok(Home {
        domain: DomainId(domain),
        company,
    })
}

/// Makes concurrent grant writers queue: on PostgreSQL the updated row
/// stays locked until the transaction ends, so two requests cannot both
/// count the same free seat. SQLite has a single writer anyway. Returns
/// the grant version this transaction will commit (0 before the
/// installation row exists): an engine built at version `v - 1` is
/// current for this writer.
pub async fn lock_for_write(c: &mut AnyConnection) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "UPDATE installation SET grant_version = grant_version + 1 WHERE id = 1 RETURNING grant_version",
    )
    .fetch_optional(c)
    .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?.unwrap_or(0))
}

/// The committed grant version (bumped by every grant write, on any node).
pub async fn version(c: &mut AnyConnection) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT grant_version FROM installation WHERE id = 1")
        .fetch_optional(c)
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?.unwrap_or(0))
}

/// Stores a grant already validated by the engine. Subject and owner must
/// be of `company` (else not found).
pub async fn insert(
    c: &mut AnyConnection,
    company: CompanyId,
    subject: Principal,
    object: Object,
) -> Result<StoredGrant, StoreError> {
    let s_home = home(&mut *c, company, subject).await?;
    let o_home = match object.owner() {
        Some(p) => Some(home(&mut *c, company, p).await?),
        None => None,
    };
    // a directory of another company is not found
    let (o_ref, o_home) = match object {
        Object::Directory(d) => {
            let row =
                sqlx::query("SELECT domain_id FROM directories WHERE id = $1 AND company_id = $2")
                    .bind(d.0)
                    .bind(company.0)
                    .fetch_optional(&mut *c)
                    .await?
                    .ok_or(StoreError::NotFound("directory"))?;
            let domain = DomainId(row.try_get(0)?);
            (Some(d.0), Some(Home { domain, company }))
        }
        _ => (None, o_home),
    };
    let s_key = subject_key(Subject::from(subject))?;
    let o_key = object_key(object)?;
    let (su, sg) = split(Some(subject));
    let (ou, og) = split(object.owner());
    let app = match object {
        Object::Application(a) => Some(a.key()),
        _ => None,
    };
    let id: i64 = sqlx::query(
        "INSERT INTO grants (company_id, subject_domain_id, subject_user_id, subject_group_id, object_type,
             application, object_user_id, object_group_id, object_domain_id, subject_key, object_key, created_at,
             object_ref)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(company.0)
    .bind(s_home.domain.0)
    .bind(su)
    .bind(sg)
    .bind(kind_text(object.kind()))
    .bind(app)
    .bind(ou)
    .bind(og)
    .bind(o_home.map(|h| h.domain.0))
    .bind(s_key)
    .bind(o_key)
    .bind(now_ms())
    .bind(o_ref)
    .fetch_one(&mut *c)
    .await
    .map_err(|e| match StoreError::classify(e) {
        StoreError::Conflict { .. } => StoreError::Conflict {
            field: "object",
            message: format!("{subject} already has {object}"),
        },
        other => other,
    })?
    .try_get(0)?;
    get(c, company, GrantId(id)).await
}

fn split(p: Option<Principal>) -> (Option<i64>, Option<i64>) {
    match p {
        Some(Principal::User(u)) => (Some(u.0), None),
        Some(Principal::Group(g)) => (None, Some(g.0)),
        None => (None, None),
    }
}

pub async fn get(
    c: &mut AnyConnection,
    company: CompanyId,
    id: GrantId,
) -> Result<StoredGrant, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM grants WHERE id = $1 AND company_id = $2"
    ))
    .bind(id.0)
    .bind(company.0)
    .fetch_optional(c)
    .await?
    .ok_or(StoreError::NotFound("grant"))?;
    Ok(from_row(&row)?)
}

pub async fn delete(
    c: &mut AnyConnection,
    company: CompanyId,
    id: GrantId,
) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM grants WHERE id = $1 AND company_id = $2")
        .bind(id.0)
        .bind(company.0)
        .execute(c)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("grant"));
    }
    Ok(())
}

/// The grants of a company matching `f`, oldest first.
pub async fn list(
    c: &mut AnyConnection,
    company: CompanyId,
    f: GrantFilter,
) -> Result<Vec<StoredGrant>, StoreError> {
    let mut sql = format!("SELECT {COLUMNS} FROM grants WHERE company_id = $1");
    let mut texts = Vec::new();
    if let Some(s) = f.subject {
        texts.push(("subject_key", principal_key(s)));
    }
    if let Some(o) = f.object {
        texts.push(("object_key", object_key(o)?));
    }
    if let Some(k) = f.kind {
        texts.push(("object_type", kind_text(k).to_owned()));
    }
    for (i, (col, _)) in texts.iter().enumerate() {
        sql.push_str(&format!(" AND {col} = ${}", i + 2));
    }
    sql.push_str(" ORDER BY id");
    let mut q = sqlx::query(&sql).bind(company.0);
    for (_, v) in texts {
        q = q.bind(v);
    }
    let rows = q.fetch_all(c).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Everything the engine needs, for the whole installation (license seats
/// are counted across companies).
pub async fn snapshot(c: &mut AnyConnection) -> Result<Snapshot, StoreError> {
    let users = sqlx::query("SELECT id, domain_id, company_id FROM users")
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| {
            Ok(UserEntry {
                id: UserId(r.try_get(0)?),
                domain: DomainId(r.try_get(1)?),
                company: CompanyId(r.try_get(2)?),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let mut groups = sqlx::query("SELECT id, domain_id, company_id FROM user_groups ORDER BY id")
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| {
            Ok(GroupEntry {
                id: GroupId(r.try_get(0)?),
                domain: DomainId(r.try_get(1)?),
                company: CompanyId(r.try_get(2)?),
                members: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let members = sqlx::query("SELECT group_id, user_id FROM group_members ORDER BY group_id")
        .fetch_all(&mut *c)
        .await?;
    for r in &members {
        let g: i64 = r.try_get(0)?;
        let u: i64 = r.try_get(1)?;
        if let Ok(i) = groups.binary_search_by_key(&g, |e| e.id.0) {
            groups[i].members.push(UserId(u));
        }
    }
    let grants = sqlx::query(&format!("SELECT {COLUMNS} FROM grants ORDER BY id"))
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| from_row(r).map(|s| s.grant))
        .collect::<Result<Vec<_>, _>>()?;
    let directories = sqlx::query("SELECT id, domain_id, company_id FROM directories ORDER BY id")
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| {
            Ok((
                DirectoryId(r.try_get(0)?),
                Home {
                    domain: DomainId(r.try_get(1)?),
                    company: CompanyId(r.try_get(2)?),
                },
            ))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Snapshot {
        users,
        groups,
        directories,
        grants,
        ..Snapshot::default()
    })
}
