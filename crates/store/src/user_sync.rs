//! Bulk writes of a users import (guide 7.2): the domain's users as the
//! import compares them, and a run's changes written inside the caller's
//! transaction in multi-row statements, at once ([`apply`]) or in steps as
//! they are planned ([`ImportWrite`]).
//!
//! Kept apart from `users.rs` (the single-user API path): an import writes
//! thousands of rows, records which import created each user
//! (`users.import_id`) and only ever disables or deletes users it owns.

use std::collections::HashMap;

use sqlx::AnyConnection;
use twp_domain::{CompanyId, DeviceProtocol, DomainId, GroupId, UserId};

use crate::rowjson::{flex_bool, json_all_sql, json_page};
use crate::{StoreError, name_key, now_ms};

/// A user of the domain as an import sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct DomainUser {
    pub id: i64,
    pub user_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub gsm: Option<String>,
    pub email: Option<String>,
    pub culture: Option<String>,
    #[serde(deserialize_with = "flex_bool")]
    pub enabled: bool,
    pub external_key: Option<String>,
    /// The import that created it; `None`: made by hand (or by an import
    /// since deleted).
    pub import_id: Option<i64>,
    #[serde(skip)]
    pub devices: Vec<DomainDevice>,
}

/// A device of a [`DomainUser`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct DomainDevice {
    pub id: i64,
    pub user_id: i64,
    pub number: String,
    pub protocol: String,
}

const USER_FIELDS: &[(&str, &str)] = &[
    ("id", "id"),
    ("user_name", "user_name"),
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("gsm", "gsm"),
    ("email", "email"),
    ("culture", "culture"),
    ("enabled", "enabled"),
    ("external_key", "external_key"),
    ("import_id", "import_id"),
];

const DEVICE_FIELDS: &[(&str, &str)] = &[
    ("id", "id"),
    ("user_id", "user_id"),
    ("number", "number"),
    ("protocol", "protocol"),
];

/// Every user of a domain of the company, with its devices, by id.
pub async fn domain_users(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
) -> Result<Vec<DomainUser>, StoreError> {
    crate::domains::check_in_company(&mut *c, company, domain).await?;
    let tail = format!(
        "FROM users WHERE domain_id = {} AND company_id = {}",
        domain.0, company.0
    );
    let row = sqlx::query(&json_all_sql(c, USER_FIELDS, &tail))
        .persistent(false)
        .fetch_one(&mut *c)
        .await?;
    let mut users: Vec<DomainUser> = json_page(&row)?;
    users.sort_by_key(|u| u.id);
    let tail = format!(
        "FROM devices WHERE domain_id = {} AND company_id = {}",
        domain.0, company.0
    );
    let row = sqlx::query(&json_all_sql(c, DEVICE_FIELDS, &tail))
        .persistent(false)
        .fetch_one(&mut *c)
        .await?;
    let mut devices: Vec<DomainDevice> = json_page(&row)?;
    devices.sort_by_key(|d| d.id);
    let at: HashMap<i64, usize> = users.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
    for d in devices {
        if let Some(&i) = at.get(&d.user_id) {
            users[i].devices.push(d);
        }
    }
    Ok(users)
}

/// The user fields an import writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedFields {
    pub user_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub gsm: Option<String>,
    pub email: Option<String>,
    pub culture: Option<String>,
    pub external_key: String,
    pub enabled: bool,
}

/// A device an import gives a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedDevice {
    pub number: String,
    pub protocol: DeviceProtocol,
}

/// What happens to a user's devices on update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceChange {
    /// A new device.
    Add(ImportedDevice),
    /// The user's only device takes the new number and protocol.
    Replace { device_id: i64, to: ImportedDevice },
}

/// Every change of one run, already planned and checked.
#[derive(Debug, Clone, Default)]
pub struct ImportChanges {
    pub creates: Vec<(ImportedFields, Option<ImportedDevice>)>,
    pub updates: Vec<(UserId, ImportedFields, Option<DeviceChange>)>,
    pub disables: Vec<UserId>,
    pub deletes: Vec<UserId>,
    /// Group the created and updated users join.
    pub group: Option<GroupId>,
}

/// Who the audit entries name.
#[derive(Debug, Clone)]
pub struct ImportActor {
    pub admin_id: Option<i64>,
    pub admin_name: String,
}

/// Ids per `IN (…)` list of the disables and deletes (spliced integers,
/// not parameters).
const CHUNK: usize = 1000;

/// Parameters one statement may bind: SQLite's `SQLITE_MAX_VARIABLE_NUMBER`
/// (32,766 in the bundled library) and PostgreSQL's protocol limit (65,535).
fn bind_limit(c: &AnyConnection) -> usize {
    if c.backend_name().eq_ignore_ascii_case("postgresql") {
        65_535
    } else {
        32_766
    }
}

/// A column of a multi-row `VALUES`: a literal the store made (an integer
/// id or time, `NULL`, a fixed word; never input) or the row's own bound
/// value.
#[derive(Clone)]
enum Col {
    Lit(String),
    Own,
}

fn lit(v: i64) -> Col {
    Col::Lit(v.to_string())
}

/// Rows per statement at most. Wider statements save round trips but cost
/// more than they save in parsing: SQLite prepares a `VALUES` list of
/// thousands of rows as a program of that size (callgrind, the 50,000-user
/// benchmark's two imports: 12 % fewer SQLite instructions at 1,000 rows
/// than at the bind limit).
const MAX_ROWS: usize = 1000;

/// Rows of `cols` that fit in one statement.
fn rows_per_statement(c: &AnyConnection, cols: &[Col]) -> usize {
    let own = cols.iter().filter(|k| matches!(k, Col::Own)).count().max(1);
    (bind_limit(c) / own).clamp(1, MAX_ROWS)
}

/// `VALUES` tuples for `rows` rows. Placeholders are anonymous `?` on
/// SQLite: it looks numbered and named ones (`$n`) up in a list, which
/// costs O(n²) in a statement of thousands of parameters (measured: 0.6 ms
/// a user at 5,600 parameters); PostgreSQL takes `$n` only.
fn values(c: &AnyConnection, rows: usize, cols: &[Col]) -> String {
    let numbered = c.backend_name().eq_ignore_ascii_case("postgresql");
    let mut s = String::with_capacity(rows * cols.len() * 7);
    let mut next = 0;
    for r in 0..rows {
        s.push_str(if r == 0 { "(" } else { ", (" });
        for (k, col) in cols.iter().enumerate() {
            if k > 0 {
                s.push_str(", ");
            }
            match col {
                Col::Lit(v) => s.push_str(v),
                Col::Own if numbered => {
                    next += 1;
                    s.push('$');
                    s.push_str(&next.to_string());
                }
                Col::Own => s.push('?'),
            }
        }
        s.push(')');
    }
    s
}

/// Applies `changes` for import `import_id` into `domain` (deletes,
/// disables, updates, then creates), with one audit entry per user changed;
/// run it in the run's transaction. Disables and
/// deletes touch only users this import owns. Returns the ids of the users
/// created, in the order of `changes.creates`.
pub async fn apply(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    import_id: i64,
    changes: &ImportChanges,
    actor: &ImportActor,
) -> Result<Vec<UserId>, StoreError> {
    let mut w = ImportWrite::start(&mut *c, company, domain, import_id, changes.group).await?;
    w.remove(&mut *c, &changes.disables, &changes.deletes)
        .await?;
    let created = w
        .upsert(&mut *c, &changes.updates, &changes.creates)
        .await?;
    w.finish(c, actor).await?;
    Ok(created)
}

/// The writes of one run in its transaction, in as many steps as the run
/// takes: [`ImportWrite::upsert`] as often as the plan hands out creates
/// and updates, [`ImportWrite::remove`] (removals first whenever an upsert
/// needs what they free), then [`ImportWrite::finish`] for the audit
/// entries (disables, deletes, updates, creates: in that order whatever the
/// order of the steps).
#[derive(Debug)]
pub struct ImportWrite {
    company: CompanyId,
    domain: DomainId,
    import_id: i64,
    group: Option<GroupId>,
    now: i64,
    removed: Vec<(&'static str, i64, String)>,
    updated: Vec<(&'static str, i64, String)>,
    /// The smallest id this run created.
    first_created: Option<UserId>,
}

impl ImportWrite {
    /// Checks that `domain` is the company's; `group`: the group the
    /// created and updated users join.
    pub async fn start(
        c: &mut AnyConnection,
        company: CompanyId,
        domain: DomainId,
        import_id: i64,
        group: Option<GroupId>,
    ) -> Result<Self, StoreError> {
        crate::domains::check_in_company(&mut *c, company, domain).await?;
        Ok(Self {
            company,
            domain,
            import_id,
            group,
            now: now_ms(),
            removed: Vec::new(),
            updated: Vec::new(),
            first_created: None,
        })
    }

    /// Disables and deletes users this import owns (others among the ids
    /// are left alone).
    pub async fn remove(
        &mut self,
        c: &mut AnyConnection,
        disables: &[UserId],
        deletes: &[UserId],
    ) -> Result<(), StoreError> {
        let (company, import_id, now) = (self.company, self.import_id, self.now);
        let owned = |ids: &[UserId]| {
            ids.iter()
                .map(|u| u.0.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        for chunk in disables.chunks(CHUNK) {
            let names = owned_names(&mut *c, company, import_id, chunk).await?;
            sqlx::query(&format!(
                "UPDATE users SET enabled = $1, updated_at = $2
                 WHERE company_id = $3 AND import_id = $4 AND id IN ({})",
                owned(chunk)
            ))
            .persistent(false)
            .bind(false)
            .bind(now)
            .bind(company.0)
            .bind(import_id)
            .execute(&mut *c)
            .await?;
            self.removed
                .extend(names.into_iter().map(|(id, n)| ("import-disable", id, n)));
        }
        for chunk in deletes.chunks(CHUNK) {
            let names = owned_names(&mut *c, company, import_id, chunk).await?;
            sqlx::query(&format!(
                "DELETE FROM users WHERE company_id = $1 AND import_id = $2 AND id IN ({})",
                owned(chunk)
            ))
            .persistent(false)
            .bind(company.0)
            .bind(import_id)
            .execute(&mut *c)
            .await?;
            self.removed
                .extend(names.into_iter().map(|(id, n)| ("import-delete", id, n)));
        }
        Ok(())
    }

    /// Updates, then creates (a create may take what an update of the same
    /// step gave up, never the reverse: the plan's order); the new users
    /// and the updated ones join the group. Returns the ids of the users
    /// created, in the order of `creates`.
    pub async fn upsert(
        &mut self,
        c: &mut AnyConnection,
        updates: &[(UserId, ImportedFields, Option<DeviceChange>)],
        creates: &[(ImportedFields, Option<ImportedDevice>)],
    ) -> Result<Vec<UserId>, StoreError> {
        let (company, domain, import_id, now) =
            (self.company, self.domain, self.import_id, self.now);
        for (id, f, device) in updates {
            update_user(&mut *c, company, domain, *id, f, now).await?;
            match device {
                None => {}
                Some(DeviceChange::Add(d)) => {
                    insert_devices(&mut *c, company, domain, &[(id.0, d)], now).await?;
                }
                Some(DeviceChange::Replace { device_id, to }) => {
                    sqlx::query(
                        "UPDATE devices SET number = $1, protocol = $2, updated_at = $3
                         WHERE id = $4 AND user_id = $5 AND company_id = $6",
                    )
                    .bind(&to.number)
                    .bind(to.protocol.as_str())
                    .bind(now)
                    .bind(device_id)
                    .bind(id.0)
                    .bind(company.0)
                    .execute(&mut *c)
                    .await
                    .map_err(StoreError::classify)?;
                }
            }
            self.updated
                .push(("import-update", id.0, f.user_name.clone()));
        }
        // A step's new users go in in user-name order and their devices in
        // number order, so that the unique name and number indexes (and the
        // key index, when the key is the user name, as with uid) grow at
        // their end instead of splitting pages all over (callgrind, 41,126
        // users in one step: a quarter fewer SQLite instructions for the
        // users, a tenth for the devices). Ids follow that order; `created`
        // keeps the plan's.
        let mut by_name: Vec<(String, usize)> = creates
            .iter()
            .enumerate()
            .map(|(i, (f, _))| (name_key(&f.user_name), i))
            .collect();
        by_name.sort_unstable();
        let ids = reserve_user_ids(&mut *c, by_name.len()).await?;
        if let Some(first) = ids.iter().min() {
            self.first_created = Some(self.first_created.map_or(*first, |f| f.min(*first)));
        }
        let mut created = vec![UserId(0); by_name.len()];
        let rows: Vec<(&ImportedFields, String, UserId)> = by_name
            .into_iter()
            .zip(&ids)
            .map(|((key, i), id)| {
                created[i] = *id;
                (&creates[i].0, key, *id)
            })
            .collect();
        let per = rows_per_statement(c, &user_cols(company, domain, import_id, now));
        for chunk in rows.chunks(per) {
            insert_users(&mut *c, company, domain, import_id, chunk, now, per).await?;
        }
        let mut devices: Vec<(i64, &ImportedDevice)> = creates
            .iter()
            .zip(&created)
            .filter_map(|((_, d), id)| d.as_ref().map(|d| (id.0, d)))
            .collect();
        devices.sort_unstable_by(|a, b| a.1.number.cmp(&b.1.number));
        insert_devices(&mut *c, company, domain, &devices, now).await?;
        if let Some(g) = self.group {
            let members: Vec<i64> = created
                .iter()
                .map(|u| u.0)
                .chain(updates.iter().map(|(u, _, _)| u.0))
                .collect();
            add_members(&mut *c, company, domain, g, &members, now).await?;
        }
        Ok(created)
    }

    /// The audit entries of every step, named after `actor`.
    pub async fn finish(
        self,
        c: &mut AnyConnection,
        actor: &ImportActor,
    ) -> Result<(), StoreError> {
        let (company, now) = (self.company, self.now);
        let per = rows_per_statement(c, &audit_cols(company, actor, now));
        let entries: Vec<_> = self.removed.into_iter().chain(self.updated).collect();
        for chunk in entries.chunks(per) {
            write_audit(&mut *c, company, actor, chunk, now, per).await?;
        }
        if let Some(first) = self.first_created {
            audit_created(c, company, self.domain, self.import_id, first, actor, now).await?;
        }
        Ok(())
    }
}

fn user_cols(company: CompanyId, domain: DomainId, import_id: i64, now: i64) -> Vec<Col> {
    let mut cols = vec![
        lit(company.0),
        lit(domain.0),
        lit(import_id),
        lit(now),
        lit(now),
    ];
    cols.extend(std::iter::repeat_n(Col::Own, 10));
    cols
}

/// Ids for `n` new users, taken in the run's transaction so that devices,
/// group members and audit entries are written without reading back what
/// was inserted. SQLite: the next AUTOINCREMENT values (never an id used
/// before, even a deleted user's); the transaction holds the only writer
/// connection, and inserting them moves `sqlite_sequence` on. PostgreSQL:
/// drawn from the identity's sequence.
async fn reserve_user_ids(c: &mut AnyConnection, n: usize) -> Result<Vec<UserId>, StoreError> {
    use sqlx::Row;
    if n == 0 {
        return Ok(Vec::new());
    }
    // a Vec's length always fits
    let count = i64::try_from(n).unwrap_or(i64::MAX);
    if c.backend_name().eq_ignore_ascii_case("postgresql") {
        let rows = sqlx::query(
            "SELECT nextval(pg_get_serial_sequence('users', 'id')) FROM generate_series(1, $1)",
        )
        .bind(count)
        .fetch_all(&mut *c)
        .await?;
        return rows.iter().map(|r| Ok(UserId(r.try_get(0)?))).collect();
    }
    let last: i64 = sqlx::query(
        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'users'), 0),
                    COALESCE((SELECT MAX(id) FROM users), 0))",
    )
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?;
    Ok((last + 1..=last + count).map(UserId).collect())
}

/// Inserts one statement's users (fields, name key, reserved id); `full`
/// is the row count of a full statement (kept prepared: every import of
/// that size reuses it).
async fn insert_users(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    import_id: i64,
    rows: &[(&ImportedFields, String, UserId)],
    now: i64,
    full: usize,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO users (company_id, domain_id, import_id, created_at, updated_at, id, user_name, user_name_key,
             first_name, last_name, gsm, email, culture, external_key, enabled)
         VALUES {}",
        values(c, rows.len(), &user_cols(company, domain, import_id, now))
    );
    let mut q = sqlx::query(&sql).persistent(rows.len() == full);
    // `&str`, not `&String`: sqlx's `Any` copies a `String` it binds
    for (f, key, id) in rows {
        q = q
            .bind(id.0)
            .bind(f.user_name.as_str())
            .bind(key.as_str())
            .bind(f.first_name.as_deref())
            .bind(f.last_name.as_deref())
            .bind(f.gsm.as_deref())
            .bind(f.email.as_deref())
            .bind(f.culture.as_deref())
            .bind(f.external_key.as_str())
            .bind(f.enabled);
    }
    q.execute(&mut *c).await.map_err(StoreError::classify)?;
    Ok(())
}

fn device_cols(company: CompanyId, domain: DomainId, now: i64) -> Vec<Col> {
    vec![
        Col::Own,
        lit(domain.0),
        lit(company.0),
        lit(now),
        lit(now),
        Col::Own,
        Col::Own,
    ]
}

async fn insert_devices(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    rows: &[(i64, &ImportedDevice)],
    now: i64,
) -> Result<(), StoreError> {
    let cols = device_cols(company, domain, now);
    let per = rows_per_statement(c, &cols);
    for chunk in rows.chunks(per) {
        let sql = format!(
            "INSERT INTO devices (user_id, domain_id, company_id, created_at, updated_at, number, protocol)
             VALUES {}",
            values(c, chunk.len(), &cols)
        );
        let mut q = sqlx::query(&sql).persistent(chunk.len() == per);
        for (user, d) in chunk {
            q = q
                .bind(*user)
                .bind(d.number.as_str())
                .bind(d.protocol.as_str());
        }
        q.execute(&mut *c).await.map_err(StoreError::classify)?;
    }
    Ok(())
}

async fn update_user(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    id: UserId,
    f: &ImportedFields,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE users SET user_name = $1, user_name_key = $2, first_name = $3, last_name = $4, gsm = $5,
             email = $6, culture = $7, external_key = $8, enabled = $9, updated_at = $10
         WHERE id = $11 AND domain_id = $12 AND company_id = $13",
    )
    .bind(&f.user_name)
    .bind(name_key(&f.user_name))
    .bind(&f.first_name)
    .bind(&f.last_name)
    .bind(&f.gsm)
    .bind(&f.email)
    .bind(&f.culture)
    .bind(&f.external_key)
    .bind(f.enabled)
    .bind(now)
    .bind(id.0)
    .bind(domain.0)
    .bind(company.0)
    .execute(c)
    .await
    .map_err(StoreError::classify)?;
    Ok(())
}

/// Ids and names of the users among `ids` that this import owns.
async fn owned_names(
    c: &mut AnyConnection,
    company: CompanyId,
    import_id: i64,
    ids: &[UserId],
) -> Result<Vec<(i64, String)>, StoreError> {
    use sqlx::Row;
    let list: Vec<String> = ids.iter().map(|u| u.0.to_string()).collect();
    let rows = sqlx::query(&format!(
        "SELECT id, user_name FROM users WHERE company_id = $1 AND import_id = $2 AND id IN ({})",
        list.join(",")
    ))
    .persistent(false)
    .bind(company.0)
    .bind(import_id)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

async fn add_members(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    group: GroupId,
    users: &[i64],
    now: i64,
) -> Result<(), StoreError> {
    let cols = [
        lit(group.0),
        Col::Own,
        lit(domain.0),
        lit(company.0),
        lit(now),
    ];
    let per = rows_per_statement(c, &cols);
    for chunk in users.chunks(per) {
        let sql = format!(
            "INSERT INTO group_members (group_id, user_id, domain_id, company_id, added_at)
             VALUES {} ON CONFLICT DO NOTHING",
            values(c, chunk.len(), &cols)
        );
        let mut q = sqlx::query(&sql).persistent(chunk.len() == per);
        for u in chunk {
            q = q.bind(*u);
        }
        q.execute(&mut *c).await.map_err(StoreError::classify)?;
    }
    Ok(())
}

fn audit_cols(company: CompanyId, actor: &ImportActor, now: i64) -> Vec<Col> {
    vec![
        lit(now),
        actor.admin_id.map_or(Col::Lit("NULL".into()), lit),
        Col::Own,
        lit(company.0),
        Col::Lit("'user'".into()),
        Col::Own,
        Col::Own,
        Col::Own,
    ]
}

async fn write_audit(
    c: &mut AnyConnection,
    company: CompanyId,
    actor: &ImportActor,
    rows: &[(&'static str, i64, String)],
    now: i64,
    full: usize,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO audit_log (at, admin_id, admin_name, company_id, object_type, action, object_id, object_name)
         VALUES {}",
        values(c, rows.len(), &audit_cols(company, actor, now))
    );
    let mut q = sqlx::query(&sql).persistent(rows.len() == full);
    for (action, id, name) in rows {
        q = q
            .bind(actor.admin_name.as_str())
            .bind(*action)
            .bind(id.to_string())
            .bind(name.as_str());
    }
    q.execute(c).await?;
    Ok(())
}

/// The audit entries of the users just created, read back from their rows
/// in id order (their user-name order) instead of bound one by one: the
/// import's users from `first` on are those this run created, as ids only
/// grow and every earlier user of the import was created before.
async fn audit_created(
    c: &mut AnyConnection,
    company: CompanyId,
    domain: DomainId,
    import_id: i64,
    first: UserId,
    actor: &ImportActor,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, admin_id, admin_name, company_id, object_type, action, object_id, object_name)
         SELECT $1, $2, $3, company_id, 'user', 'import-create', CAST(id AS TEXT), user_name
         FROM users WHERE company_id = $4 AND domain_id = $5 AND import_id = $6 AND id >= $7
         ORDER BY id",
    )
    .bind(now)
    .bind(actor.admin_id)
    .bind(actor.admin_name.as_str())
    .bind(company.0)
    .bind(domain.0)
    .bind(import_id)
    .bind(first.0)
    .execute(c)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_columns_are_counted_for_the_bind_limit() {
        let cols = user_cols(CompanyId(1), DomainId(2), 3, 4);
        assert_eq!(cols.iter().filter(|c| matches!(c, Col::Own)).count(), 10);
        assert!(matches!(&cols[2], Col::Lit(v) if v == "3"));
    }
}
