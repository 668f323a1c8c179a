//! Planning a run, with no I/O: the source's users against the domain's,
//! matched by key (`external_key`), giving the creates, updates, disables
//! and deletes the synchronisation type allows and the entries ignored.
//! A [`Planner`] takes the entries one by one as the source is read, so
//! that planning overlaps reading; [`plan`] is the same over a list.
//!
//! Rules: a user matches an entry only by key, whoever created it; only
//! users this import created (`import_id`) are ever disabled or deleted; a
//! user name or device number held by another user is never taken (the
//! entry is ignored, saying by whom), so applying the plan cannot hit a
//! uniqueness error half way.

// foldhash, not SipHash: hashing was a fifth of the planner's time, and
// the planner shares the two cores with the reader and the LDAP server
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use twp_domain::{SyncType, UserId};
use twp_store::name_key;
use twp_store::user_sync::{
    DeviceChange, DomainUser, ImportChanges, ImportedDevice, ImportedFields,
};

use crate::mapping::{Rejected, SourceUser};
use crate::report::{Detail, Kind, Report};

/// An entry read from the source: where it is, and its user or why not.
#[derive(Debug, Clone)]
pub struct Entry {
    pub dn: String,
    pub user: Result<SourceUser, Rejected>,
}

/// A planned run.
#[derive(Debug, Default)]
pub struct Plan {
    pub changes: ImportChanges,
    pub report: Report,
    /// Users of the domain this import owns (before the run).
    pub owned: u64,
}

impl Plan {
    /// True when the run would remove (delete, or disable) more than
    /// `share_percent` of the users this import owns.
    pub fn exceeds_share(&self, share_percent: u8) -> bool {
        let removed = (self.changes.deletes.len() + self.changes.disables.len()) as u64;
        removed > 0 && removed * 100 > u64::from(share_percent) * self.owned
    }
}

/// Creates and updates a [`Planner`] hands out before the end, in the
/// plan's order.
#[derive(Debug, Default)]
pub struct Ready {
    pub creates: Vec<(ImportedFields, Option<ImportedDevice>)>,
    pub updates: Vec<(UserId, ImportedFields, Option<DeviceChange>)>,
}

impl Ready {
    pub fn is_empty(&self) -> bool {
        self.creates.is_empty() && self.updates.is_empty()
    }

    /// Every update and the first `creates` creates, leaving the rest:
    /// updates never need a create, so writing them early keeps the order
    /// of the plan where it matters.
    pub fn take_front(&mut self, creates: usize) -> Ready {
        let rest = self.creates.split_off(creates.min(self.creates.len()));
        Ready {
            creates: std::mem::replace(&mut self.creates, rest),
            updates: std::mem::take(&mut self.updates),
        }
    }

    /// Appends `later`.
    pub fn extend(&mut self, later: Ready) {
        self.creates.extend(later.creates);
        self.updates.extend(later.updates);
    }

    /// `self`, then what the plan kept: the whole plan's creates and updates.
    pub fn put_before(self, plan: &mut Plan) {
        let mut creates = self.creates;
        creates.append(&mut plan.changes.creates);
        plan.changes.creates = creates;
        let mut updates = self.updates;
        updates.append(&mut plan.changes.updates);
        plan.changes.updates = updates;
    }
}

/// Who holds a user name or number: an existing user or an entry of this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    User(i64),
    Entry,
}

/// Plans a run over every entry of the source.
pub fn plan(sync: SyncType, import_id: i64, existing: &[DomainUser], entries: Vec<Entry>) -> Plan {
    let mut planner = Planner::new(sync, import_id, existing);
    for e in entries {
        planner.add(e);
    }
    planner.finish()
}

/// Plans a run entry by entry, in the source's order.
///
/// Which users a Full run deletes is known only at the end (those whose key
/// never came). Until then their names and numbers still count as held: an
/// entry that would be refused only because of such a user waits, with
/// every entry after it, until [`Planner::finish`] knows. The plan is thus
/// exactly the one made with the whole source at hand (a property test
/// checks it against that simpler algorithm).
pub struct Planner<'a> {
    sync: SyncType,
    import_id: i64,
    existing: &'a [DomainUser],
    by_key: HashMap<&'a str, &'a DomainUser>,
    by_id: HashMap<i64, &'a DomainUser>,
    /// Keys read so far (of ignored entries too: their users are still in
    /// the source).
    present: HashSet<String>,
    /// Keys of the entries planned so far, with the DN of the first.
    seen: HashMap<String, String>,
    names: HashMap<String, Holder>,
    numbers: HashMap<String, Holder>,
    plan: Plan,
    /// From the first entry that must wait for the deletions: it and every
    /// later one, in order.
    waiting: Option<Vec<Entry>>,
}

impl<'a> Planner<'a> {
    pub fn new(sync: SyncType, import_id: i64, existing: &'a [DomainUser]) -> Self {
        let mut p = Plan::default();
        let mut by_key = HashMap::with_capacity(existing.len());
        let mut names = HashMap::with_capacity(existing.len());
        let mut numbers = HashMap::with_capacity(existing.len());
        for u in existing {
            if let Some(k) = u.external_key.as_deref() {
                by_key.insert(k, u);
            }
            if u.import_id == Some(import_id) {
                p.owned += 1;
            }
            names.insert(name_key(&u.user_name), Holder::User(u.id));
            for d in &u.devices {
                numbers.insert(d.number.clone(), Holder::User(u.id));
            }
        }
        Self {
            sync,
            import_id,
            existing,
            by_key,
            by_id: existing.iter().map(|u| (u.id, u)).collect(),
            present: HashSet::new(),
            seen: HashMap::new(),
            names,
            numbers,
            plan: p,
            waiting: None,
        }
    }

    /// Plans the next entry of the source.
    pub fn add(&mut self, e: Entry) {
        self.plan.report.entries_read += 1;
        let key = match &e.user {
            Ok(u) => Some(u.key.as_str()),
            Err(r) => r.key.as_deref(),
        };
        if let Some(k) = key
            && !self.present.contains(k)
        {
            self.present.insert(k.to_owned());
        }
        match &mut self.waiting {
            Some(waiting) => waiting.push(e),
            None => self.entry(e, false),
        }
    }

    /// The creates and updates planned since the last call, moved out of
    /// the plan: each is final, as an entry whose outcome hangs on the
    /// deletions waits for [`Planner::finish`], and needs nothing removed
    /// first. The plan keeps the rest.
    pub fn take_ready(&mut self) -> Ready {
        Ready {
            creates: std::mem::take(&mut self.plan.changes.creates),
            updates: std::mem::take(&mut self.plan.changes.updates),
        }
    }

    /// The plan, once every entry has been added.
    pub fn finish(mut self) -> Plan {
        let mut freed = Vec::new();
        for u in self.existing {
            if !self.gone(u) {
                continue;
            }
            let detail = Detail {
                user_name: Some(u.user_name.clone()),
                user_id: Some(u.id),
                reason: Some("no longer in the source".into()),
                dn: None,
                field: None,
            };
            match self.sync {
                SyncType::Full => {
                    self.plan.changes.deletes.push(UserId(u.id));
                    freed.push(u);
                    self.plan.report.add(Kind::Deleted, detail);
                }
                SyncType::InsertUpdateDisable if u.enabled => {
                    self.plan.changes.disables.push(UserId(u.id));
                    self.plan.report.add(Kind::Disabled, detail);
                }
                _ => {}
            }
        }
        // what the deleted users held is free for the waiting entries
        for u in freed {
            let me = Holder::User(u.id);
            let name = name_key(&u.user_name);
            if self.names.get(&name) == Some(&me) {
                self.names.remove(&name);
            }
            for d in &u.devices {
                if self.numbers.get(&d.number) == Some(&me) {
                    self.numbers.remove(&d.number);
                }
            }
        }
        for e in self.waiting.take().unwrap_or_default() {
            self.entry(e, true);
        }
        self.plan
    }

    /// An owned user whose key is not (or not yet) in the source.
    fn gone(&self, u: &DomainUser) -> bool {
        u.import_id == Some(self.import_id)
            && !u
                .external_key
                .as_deref()
                .is_some_and(|k| self.present.contains(k))
    }

    /// True when `h` is a user this run may still delete.
    fn may_be_deleted(&self, h: Holder) -> bool {
        match h {
            Holder::User(id) => {
                self.sync == SyncType::Full && self.by_id.get(&id).is_some_and(|u| self.gone(u))
            }
            Holder::Entry => false,
        }
    }

    fn held_by(&self, h: Holder) -> String {
        match h {
            Holder::User(id) => format!(
                "user {} (id {id})",
                self.by_id.get(&id).map_or("?", |u| u.user_name.as_str())
            ),
            Holder::Entry => "another entry of this source".to_owned(),
        }
    }

    fn ignore(&mut self, dn: String, user_name: Option<String>, field: &str, reason: String) {
        self.plan.report.add(
            Kind::Ignored,
            Detail {
                dn: Some(dn),
                user_name,
                user_id: None,
                field: Some(field.to_owned()),
                reason: Some(reason),
            },
        );
    }

    /// Plans one entry; unless `last`, an entry whose outcome hangs on a
    /// user this run may still delete starts the waiting list instead
    /// (and nothing else changes).
    fn entry(&mut self, e: Entry, last: bool) {
        let u = match e.user {
            Ok(u) => u,
            Err(r) => {
                self.ignore(e.dn, r.user_name, r.field, r.reason);
                return;
            }
        };
        if let Some(first) = self.seen.get(&u.key) {
            let reason = format!("the key {:?} is also the key of {first}", u.key);
            self.ignore(e.dn, Some(u.user_name), "externalKey", reason);
            return;
        }
        let matched = self.by_key.get(u.key.as_str()).copied();
        let me = matched.map(|m| Holder::User(m.id));
        let name = name_key(&u.user_name);
        let name_holder = self.names.get(&name).copied().filter(|h| Some(*h) != me);
        let number_holder = self.numbers.get(&u.device.number).copied();
        let number_other = number_holder.filter(|h| Some(*h) != me);
        // the checks below in their order: the first holder met decides
        let decides = name_holder.or(number_other);
        if !last && decides.is_some_and(|h| self.may_be_deleted(h)) {
            self.waiting = Some(vec![Entry {
                dn: e.dn,
                user: Ok(u),
            }]);
            return;
        }
        self.seen.insert(u.key.clone(), e.dn.clone());
        if let Some(h) = name_holder {
            let reason = format!(
                "the user name {:?} is used by {}",
                u.user_name,
                self.held_by(h)
            );
            self.ignore(e.dn, Some(u.user_name), "userName", reason);
            return;
        }
        if let Some(h) = number_other {
            let reason = format!(
                "the number {} is used by {}",
                u.device.number,
                self.held_by(h)
            );
            self.ignore(e.dn, Some(u.user_name), "deviceNumber", reason);
            return;
        }
        let p = &mut self.plan;
        match matched {
            Some(m) => {
                let fields = ImportedFields {
                    user_name: u.user_name.clone(),
                    first_name: u.first_name.unwrap_or_else(|| m.first_name.clone()),
                    last_name: u.last_name.unwrap_or_else(|| m.last_name.clone()),
                    gsm: u.gsm.unwrap_or_else(|| m.gsm.clone()),
                    email: u.email.unwrap_or_else(|| m.email.clone()),
                    culture: u.culture.unwrap_or_else(|| m.culture.clone()),
                    external_key: u.key,
                    // a user this import disabled comes back when its entry does
                    enabled: m.enabled || m.import_id == Some(self.import_id),
                };
                let device = if number_holder.is_some() {
                    None
                } else if let [only] = m.devices.as_slice() {
                    Some(DeviceChange::Replace {
                        device_id: only.id,
                        to: u.device.clone(),
                    })
                } else {
                    Some(DeviceChange::Add(u.device.clone()))
                };
                let same = fields.user_name == m.user_name
                    && fields.first_name == m.first_name
                    && fields.last_name == m.last_name
                    && fields.gsm == m.gsm
                    && fields.email == m.email
                    && fields.culture == m.culture
                    && fields.enabled == m.enabled;
                if m.user_name != u.user_name {
                    self.names.remove(&name_key(&m.user_name));
                }
                self.names.insert(name, Holder::User(m.id));
                self.numbers.insert(u.device.number, Holder::User(m.id));
                if same && device.is_none() {
                    p.report.unchanged += 1;
                    return;
                }
                p.report.add(
                    Kind::Updated,
                    Detail {
                        dn: Some(e.dn),
                        user_name: Some(u.user_name),
                        user_id: Some(m.id),
                        field: None,
                        reason: None,
                    },
                );
                p.changes.updates.push((UserId(m.id), fields, device));
            }
            None if self.sync == SyncType::UpdateOnly => {
                self.ignore(
                    e.dn,
                    Some(u.user_name),
                    "externalKey",
                    "no TWP user has this key (update only)".into(),
                );
            }
            None => {
                self.names.insert(name, Holder::Entry);
                self.numbers.insert(u.device.number.clone(), Holder::Entry);
                p.report.add_with(Kind::Created, || Detail {
                    dn: Some(e.dn),
                    user_name: Some(u.user_name.clone()),
                    user_id: None,
                    field: None,
                    reason: None,
                });
                p.changes.creates.push((
                    ImportedFields {
                        user_name: u.user_name,
                        first_name: u.first_name.flatten(),
                        last_name: u.last_name.flatten(),
                        gsm: u.gsm.flatten(),
                        email: u.email.flatten(),
                        culture: u.culture.flatten(),
                        external_key: u.key,
                        enabled: true,
                    },
                    Some(u.device),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests;
