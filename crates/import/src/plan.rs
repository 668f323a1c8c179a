//! Planning a run, with no I/O: the source's users against the domain's,
//! matched by key (`external_key`), giving the creates, updates, disables
//! and deletes the synchronisation type allows and the entries ignored.
//!
//! Rules: a user matches an entry only by key, whoever created it; only
//! users this import created (`import_id`) are ever disabled or deleted; a
//! user name or device number held by another user is never taken (the
//! entry is ignored, saying by whom), so applying the plan cannot hit a
//! uniqueness error half way.

use std::collections::{HashMap, HashSet};

use twp_domain::{SyncType, UserId};
use twp_store::name_key;
use twp_store::user_sync::{DeviceChange, DomainUser, ImportChanges, ImportedFields};

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

/// Who holds a user name or number: an existing user or an entry of this run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Holder {
    User(i64),
    Entry,
}

pub fn plan(sync: SyncType, import_id: i64, existing: &[DomainUser], entries: Vec<Entry>) -> Plan {
    let mut p = Plan::default();
    let mut by_key: HashMap<&str, &DomainUser> = HashMap::new();
    for u in existing {
        if let Some(k) = u.external_key.as_deref() {
            by_key.insert(k, u);
        }
        if u.import_id == Some(import_id) {
            p.owned += 1;
        }
    }
    // Keys still in the source (readable ones, even of ignored entries).
    let present: HashSet<&str> = entries
        .iter()
        .filter_map(|e| match &e.user {
            Ok(u) => Some(u.key.as_str()),
            Err(r) => r.key.as_deref(),
        })
        .collect();
    // Owned users no longer in the source.
    let mut freed: HashSet<i64> = HashSet::new();
    for u in existing {
        let gone = u.import_id == Some(import_id)
            && !u
                .external_key
                .as_deref()
                .is_some_and(|k| present.contains(k));
        if !gone {
            continue;
        }
        let detail = Detail {
            user_name: Some(u.user_name.clone()),
            user_id: Some(u.id),
            reason: Some("no longer in the source".into()),
            dn: None,
            field: None,
        };
        match sync {
            SyncType::Full => {
                p.changes.deletes.push(UserId(u.id));
                freed.insert(u.id);
                p.report.add(Kind::Deleted, detail);
            }
            SyncType::InsertUpdateDisable if u.enabled => {
                p.changes.disables.push(UserId(u.id));
                p.report.add(Kind::Disabled, detail);
            }
            _ => {}
        }
    }
    let mut names: HashMap<String, Holder> = HashMap::new();
    let mut numbers: HashMap<String, Holder> = HashMap::new();
    for u in existing.iter().filter(|u| !freed.contains(&u.id)) {
        names.insert(name_key(&u.user_name), Holder::User(u.id));
        for d in &u.devices {
            numbers.insert(d.number.clone(), Holder::User(u.id));
        }
    }
    let user_name_of: HashMap<i64, &str> = existing
        .iter()
        .map(|u| (u.id, u.user_name.as_str()))
        .collect();
    let held_by = |h: Holder| match h {
        Holder::User(id) => format!(
            "user {} (id {id})",
            user_name_of.get(&id).copied().unwrap_or("?")
        ),
        Holder::Entry => "another entry of this source".to_owned(),
    };
    let mut seen: HashMap<String, String> = HashMap::new();
    for e in entries {
        p.report.entries_read += 1;
        let u = match e.user {
            Ok(u) => u,
            Err(r) => {
                p.report.add(
                    Kind::Ignored,
                    Detail {
                        dn: Some(e.dn),
                        user_name: r.user_name,
                        user_id: None,
                        field: Some(r.field.to_owned()),
                        reason: Some(r.reason),
                    },
                );
                continue;
            }
        };
        let ignore = |p: &mut Plan, field: &str, reason: String| {
            p.report.add(
                Kind::Ignored,
                Detail {
                    dn: Some(e.dn.clone()),
                    user_name: Some(u.user_name.clone()),
                    user_id: None,
                    field: Some(field.to_owned()),
                    reason: Some(reason),
                },
            )
        };
        if let Some(first) = seen.get(&u.key) {
            ignore(
                &mut p,
                "externalKey",
                format!("the key {:?} is also the key of {first}", u.key),
            );
            continue;
        }
        seen.insert(u.key.clone(), e.dn.clone());
        let matched = by_key.get(u.key.as_str()).copied();
        let me = matched.map(|m| Holder::User(m.id));
        let name = name_key(&u.user_name);
        if let Some(h) = names.get(&name).copied().filter(|h| Some(*h) != me) {
            ignore(
                &mut p,
                "userName",
                format!("the user name {:?} is used by {}", u.user_name, held_by(h)),
            );
            continue;
        }
        let number_holder = numbers.get(&u.device.number).copied();
        if let Some(h) = number_holder.filter(|h| Some(*h) != me) {
            ignore(
                &mut p,
                "deviceNumber",
                format!("the number {} is used by {}", u.device.number, held_by(h)),
            );
            continue;
        }
        match matched {
            Some(m) => {
                let fields = ImportedFields {
                    user_name: u.user_name.clone(),
                    first_name: u.first_name.clone().unwrap_or_else(|| m.first_name.clone()),
                    last_name: u.last_name.clone().unwrap_or_else(|| m.last_name.clone()),
                    gsm: u.gsm.clone().unwrap_or_else(|| m.gsm.clone()),
                    email: u.email.clone().unwrap_or_else(|| m.email.clone()),
                    culture: u.culture.clone().unwrap_or_else(|| m.culture.clone()),
                    external_key: u.key.clone(),
                    // a user this import disabled comes back when its entry does
                    enabled: m.enabled || m.import_id == Some(import_id),
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
                    names.remove(&name_key(&m.user_name));
                }
                names.insert(name, Holder::User(m.id));
                numbers.insert(u.device.number.clone(), Holder::User(m.id));
                if same && device.is_none() {
                    p.report.unchanged += 1;
                    continue;
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
            None if sync == SyncType::UpdateOnly => {
                ignore(
                    &mut p,
                    "externalKey",
                    "no TWP user has this key (update only)".into(),
                );
            }
            None => {
                names.insert(name, Holder::Entry);
                numbers.insert(u.device.number.clone(), Holder::Entry);
                p.report.add(
                    Kind::Created,
                    Detail {
                        dn: Some(e.dn),
                        user_name: Some(u.user_name.clone()),
                        user_id: None,
                        field: None,
                        reason: None,
                    },
                );
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
    p
}
