//! The streaming [`Planner`] against the plan made with the whole source
//! at hand: [`reference`], the algorithm the planner must agree with.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use twp_domain::{DeviceProtocol, SyncType, UserId};
use twp_store::name_key;
use twp_store::user_sync::{
    DeviceChange, DomainDevice, DomainUser, ImportedDevice, ImportedFields,
};

use super::{Entry, Holder, Plan, Planner, Ready, plan};
use crate::mapping::{Rejected, SourceUser};
use crate::report::{Detail, Kind};

const IMPORT: i64 = 7;

/// The whole source first: the keys still there, the users deleted, then
/// each entry in order.
pub(super) fn reference(
    sync: SyncType,
    import_id: i64,
    existing: &[DomainUser],
    entries: Vec<Entry>,
) -> Plan {
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

fn names() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["ana", "Ana", "bob", "cleo", "dan", "eve"]).prop_map(str::to_owned)
}

fn keys() -> impl Strategy<Value = String> {
    (0..8u8).prop_map(|k| format!("k{k}"))
}

fn numbers() -> impl Strategy<Value = String> {
    (100..107u16).prop_map(|n| n.to_string())
}

fn field() -> impl Strategy<Value = Option<Option<String>>> {
    prop::option::of(prop::option::of(
        prop::sample::select(vec!["x", "y"]).prop_map(str::to_owned),
    ))
}

/// Users of a domain: names, keys and numbers unique, as the store keeps them.
fn existing() -> impl Strategy<Value = Vec<DomainUser>> {
    prop::collection::vec(
        (
            names(),
            prop::option::of(keys()),
            prop::sample::select(vec![Some(IMPORT), Some(8), None]),
            any::<bool>(),
            prop::collection::vec(numbers(), 0..3),
            prop::option::of(prop::sample::select(vec!["x", "y"]).prop_map(str::to_owned)),
        ),
        0..7,
    )
    .prop_map(|rows| {
        let (mut names, mut keys, mut numbers) = (HashSet::new(), HashSet::new(), HashSet::new());
        let mut users = Vec::new();
        for (i, (name, key, import_id, enabled, devices, first)) in rows.into_iter().enumerate() {
            let id = i as i64 + 1;
            if !names.insert(name_key(&name))
                || key.as_ref().is_some_and(|k| !keys.insert(k.clone()))
            {
                continue;
            }
            let devices = devices
                .into_iter()
                .filter(|n| numbers.insert(n.clone()))
                .enumerate()
                .map(|(j, number)| DomainDevice {
                    id: id * 10 + j as i64,
                    user_id: id,
                    number,
                    protocol: "csta".into(),
                })
                .collect();
            users.push(DomainUser {
                id,
                user_name: name,
                first_name: first,
                last_name: None,
                gsm: None,
                email: None,
                culture: None,
                enabled,
                external_key: key,
                import_id,
                devices,
            });
        }
        users
    })
}

fn entries() -> impl Strategy<Value = Vec<Entry>> {
    prop::collection::vec(
        (
            any::<u8>(),
            keys(),
            names(),
            numbers(),
            field(),
            prop::option::of(keys()),
        ),
        0..10,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(
                |(i, (kind, key, user_name, number, first_name, bad_key))| Entry {
                    dn: format!("uid=e{i},dc=test"),
                    user: if kind % 6 == 0 {
                        Err(Rejected {
                            field: "deviceNumber",
                            reason: "no telephone number".into(),
                            key: bad_key,
                            user_name: Some(user_name),
                        })
                    } else {
                        Ok(SourceUser {
                            key,
                            user_name,
                            first_name,
                            last_name: None,
                            email: None,
                            gsm: None,
                            culture: None,
                            device: ImportedDevice {
                                number,
                                protocol: DeviceProtocol::Csta,
                            },
                        })
                    },
                },
            )
            .collect()
    })
}

fn sync_types() -> impl Strategy<Value = SyncType> {
    prop::sample::select(vec![
        SyncType::Full,
        SyncType::InsertUpdateDisable,
        SyncType::InsertUpdate,
        SyncType::UpdateOnly,
    ])
}

fn same(a: &Plan, b: &Plan) -> bool {
    a.owned == b.owned
        && a.report == b.report
        && format!("{:?}", a.changes) == format!("{:?}", b.changes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn the_planner_agrees_with_planning_the_whole_source(
        sync in sync_types(),
        existing in existing(),
        entries in entries(),
    ) {
        let streamed = plan(sync, IMPORT, &existing, entries.clone());
        let whole = reference(sync, IMPORT, &existing, entries);
        prop_assert!(same(&streamed, &whole), "streamed {streamed:#?}\nwhole {whole:#?}");
    }
}

/// A user's unique values: name key, key, devices (id, number).
type Held = (String, Option<String>, Vec<(i64, String)>);

/// The domain's unique values (name keys, keys, numbers) as writes change
/// them; every write is checked against them as the store's unique indexes
/// would.
struct Domain {
    users: HashMap<i64, Held>,
    next_id: i64,
}

impl Domain {
    fn new(existing: &[DomainUser]) -> Self {
        let users = existing
            .iter()
            .map(|u| {
                let devices = u.devices.iter().map(|d| (d.id, d.number.clone())).collect();
                (
                    u.id,
                    (name_key(&u.user_name), u.external_key.clone(), devices),
                )
            })
            .collect();
        Self {
            users,
            next_id: 1000,
        }
    }

    fn check(&self, what: &str) -> Result<(), String> {
        let (mut names, mut keys, mut numbers) = (HashSet::new(), HashSet::new(), HashSet::new());
        for (name, key, devices) in self.users.values() {
            let taken = !names.insert(name)
                || key.as_ref().is_some_and(|k| !keys.insert(k))
                || devices.iter().any(|(_, n)| !numbers.insert(n));
            if taken {
                return Err(format!("{what} breaks a unique index"));
            }
        }
        Ok(())
    }

    /// Updates, then creates: [`ImportWrite::upsert`]'s order.
    fn upsert(&mut self, r: &Ready) -> Result<(), String> {
        for (id, f, device) in &r.updates {
            let u = self
                .users
                .get_mut(&id.0)
                .ok_or("update of a missing user")?;
            u.0 = name_key(&f.user_name);
            u.1 = Some(f.external_key.clone());
            match device {
                None => {}
                Some(DeviceChange::Add(d)) => u.2.push((-1, d.number.clone())),
                Some(DeviceChange::Replace { device_id, to }) => {
                    let d =
                        u.2.iter_mut()
                            .find(|d| d.0 == *device_id)
                            .ok_or("no such device")?;
                    d.1 = to.number.clone();
                }
            }
            self.check(&format!("the update of {}", id.0))?;
        }
        for (f, device) in &r.creates {
            self.next_id += 1;
            let devices = device.iter().map(|d| (-1, d.number.clone())).collect();
            self.users.insert(
                self.next_id,
                (
                    name_key(&f.user_name),
                    Some(f.external_key.clone()),
                    devices,
                ),
            );
            self.check(&format!("the creation of {}", f.user_name))?;
        }
        Ok(())
    }

    fn delete(&mut self, ids: &[UserId]) {
        for id in ids {
            self.users.remove(&id.0);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// The run that writes while it reads: the creates and updates handed
    /// out along the way (`flush_after`: the entries after which some are
    /// written), written before the removals, then the rest, never break a
    /// unique index; and what was handed out, put back, is the whole plan.
    #[test]
    fn creates_and_updates_handed_out_early_can_be_written_first(
        sync in sync_types(),
        existing in existing(),
        entries in entries(),
        flush_after in prop::collection::vec(any::<bool>(), 10),
        front in 0..3usize,
    ) {
        let whole = plan(sync, IMPORT, &existing, entries.clone());
        let mut domain = Domain::new(&existing);
        let mut planner = Planner::new(sync, IMPORT, &existing);
        let (mut written, mut pending) = (Ready::default(), Ready::default());
        for (i, e) in entries.into_iter().enumerate() {
            planner.add(e);
            pending.extend(planner.take_ready());
            if flush_after[i] {
                let now = pending.take_front(front);
                domain.upsert(&now).map_err(TestCaseError::fail)?;
                written.extend(now);
            }
        }
        let mut rest = planner.finish();
        domain.delete(&rest.changes.deletes);
        let mut last = Ready::default();
        std::mem::swap(&mut last.creates, &mut rest.changes.creates);
        std::mem::swap(&mut last.updates, &mut rest.changes.updates);
        pending.extend(last);
        domain.upsert(&pending).map_err(TestCaseError::fail)?;
        written.extend(pending);
        written.put_before(&mut rest);
        prop_assert!(same(&rest, &whole), "put back {rest:#?}\nwhole {whole:#?}");
    }
}

/// The case the waiting list is for: an entry takes the name of a user the
/// run deletes, and a later entry takes the same number.
#[test]
fn an_entry_may_take_what_a_deleted_user_held() {
    let existing = vec![DomainUser {
        id: 1,
        user_name: "ana".into(),
        first_name: None,
        last_name: None,
        gsm: None,
        email: None,
        culture: None,
        enabled: true,
        external_key: Some("old".into()),
        import_id: Some(IMPORT),
        devices: vec![DomainDevice {
            id: 10,
            user_id: 1,
            number: "100".into(),
            protocol: "csta".into(),
        }],
    }];
    let entry = |key: &str, name: &str, number: &str| Entry {
        dn: format!("uid={key},dc=test"),
        user: Ok(SourceUser {
            key: key.into(),
            user_name: name.into(),
            first_name: None,
            last_name: None,
            email: None,
            gsm: None,
            culture: None,
            device: ImportedDevice {
                number: number.into(),
                protocol: DeviceProtocol::Csta,
            },
        }),
    };
    let entries = vec![entry("new", "ana", "100"), entry("other", "bob", "100")];
    let p = plan(SyncType::Full, IMPORT, &existing, entries.clone());
    assert!(same(
        &p,
        &reference(SyncType::Full, IMPORT, &existing, entries)
    ));
    assert_eq!(p.changes.deletes, vec![UserId(1)]);
    assert_eq!(p.changes.creates.len(), 1);
    assert_eq!(p.changes.creates[0].0.user_name, "ana");
    assert_eq!(p.report.ignored, 1);
}
