//! The authorization engine: built from a snapshot, updated incrementally,
//! answering checks from hash indexes.

use super::model::{
    Application, CompanyId, DirectoryId, DomainId, Grant, GrantId, GroupId, IntercomGroupId,
    Object, ObjectKind, PhoneQueueId, Principal, Subject, UserId,
};
use super::rules::{GrantError, Home, check_sharing};
use crate::fxhash::{FxHashMap, FxHashSet};

/// A user as the engine needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserEntry {
    pub id: UserId,
    pub domain: DomainId,
    pub company: CompanyId,
}

/// A group and its members (all of the group's domain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub id: GroupId,
    pub domain: DomainId,
    pub company: CompanyId,
    pub members: Vec<UserId>,
}

/// Everything the engine is built from, as the store loads it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub users: Vec<UserEntry>,
    pub groups: Vec<GroupEntry>,
    pub directories: Vec<(DirectoryId, Home)>,
    pub intercom_groups: Vec<(IntercomGroupId, Home)>,
    pub phone_queues: Vec<(PhoneQueueId, Home)>,
    pub grants: Vec<Grant>,
}

/// Licensed seats per application; `None` means not limited.
pub type SeatLimits = [Option<u32>; 8];

/// How a user reaches a right: which grant, given to whom (the user or one
/// of its groups), about which object (the one asked, or a group of its owner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Via {
    pub grant: GrantId,
    pub subject: Subject,
    pub object: Object,
}

/// Seats used and licensed for one application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatUsage {
    pub application: Application,
    pub in_use: u32,
    pub licensed: Option<u32>,
}

#[derive(Debug, Clone)]
struct UserInfo {
    home: Home,
    groups: Vec<GroupId>,
}

#[derive(Debug, Clone)]
struct GroupInfo {
    home: Home,
    members: FxHashSet<UserId>,
}

/// The authorization engine of one installation.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    users: FxHashMap<UserId, UserInfo>,
    groups: FxHashMap<GroupId, GroupInfo>,
    directories: FxHashMap<DirectoryId, Home>,
    intercom_groups: FxHashMap<IntercomGroupId, Home>,
    phone_queues: FxHashMap<PhoneQueueId, Home>,
    grants: FxHashMap<GrantId, Grant>,
    by_pair: FxHashMap<(Subject, Object), GrantId>,
    by_subject: FxHashMap<Subject, Vec<GrantId>>,
    /// Per application: how many grants give it to each user. A user holds
    /// one seat whatever the count.
    seats: [FxHashMap<UserId, u32>; 8],
    limits: SeatLimits,
}

/// A snapshot that does not hold together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("grant {grant}: {error}")]
    Grant { grant: GrantId, error: GrantError },
    #[error("group {group}: {error}")]
    Membership { group: GroupId, error: GrantError },
}

impl Engine {
    /// Builds the engine. Every grant is checked against the sharing rules,
    /// but not against seat limits: a stored state stays loadable when a
    /// smaller license is installed (usage then shows the excess).
    pub fn from_snapshot(snapshot: Snapshot) -> Result<Engine, SnapshotError> {
        let mut engine = Engine::default();
        for u in &snapshot.users {
            engine.add_user(*u);
        }
        for g in &snapshot.groups {
            engine.add_group(
                g.id,
                Home {
                    domain: g.domain,
                    company: g.company,
                },
            );
        }
        for (id, home) in snapshot.directories {
            engine.directories.insert(id, home);
        }
        for (id, home) in snapshot.intercom_groups {
            engine.intercom_groups.insert(id, home);
        }
        for (id, home) in snapshot.phone_queues {
            engine.phone_queues.insert(id, home);
        }
        for g in &snapshot.groups {
            for m in &g.members {
                engine
                    .add_member(g.id, *m)
                    .map_err(|error| SnapshotError::Membership { group: g.id, error })?;
            }
        }
        let limits = std::mem::take(&mut engine.limits);
        for grant in snapshot.grants {
            engine
                .add_grant(grant)
                .map_err(|error| SnapshotError::Grant {
                    grant: grant.id,
                    error,
                })?;
        }
        engine.limits = limits;
        Ok(engine)
    }

    pub fn add_user(&mut self, user: UserEntry) {
        self.users.entry(user.id).or_insert(UserInfo {
            home: Home {
                domain: user.domain,
                company: user.company,
            },
            groups: Vec::new(),
        });
    }

    pub fn add_group(&mut self, id: GroupId, home: Home) {
        self.groups.entry(id).or_insert(GroupInfo {
            home,
            members: FxHashSet::default(),
        });
    }

    pub fn add_directory(&mut self, id: DirectoryId, home: Home) {
        self.directories.insert(id, home);
    }

    pub fn add_intercom_group(&mut self, id: IntercomGroupId, home: Home) {
        self.intercom_groups.insert(id, home);
    }

    pub fn add_phone_queue(&mut self, id: PhoneQueueId, home: Home) {
        self.phone_queues.insert(id, home);
    }

    /// Sets the seat limits (from a verified license); `None` everywhere
    /// lifts them.
    pub fn set_seat_limits(&mut self, limits: SeatLimits) {
        self.limits = limits;
    }

    /// Seats in use and licensed, per application.
    pub fn seat_usage(&self) -> Vec<SeatUsage> {
        Application::ALL
            .into_iter()
            .map(|application| SeatUsage {
                application,
                in_use: count(self.seats[application.index()].len()),
                licensed: self.limits[application.index()],
            })
            .collect()
    }

    fn user(&self, id: UserId) -> Result<&UserInfo, GrantError> {
        self.users.get(&id).ok_or(GrantError::Unknown {
            what: "user",
            id: id.0,
        })
    }

    fn group(&self, id: GroupId) -> Result<&GroupInfo, GrantError> {
        self.groups.get(&id).ok_or(GrantError::Unknown {
            what: "group",
            id: id.0,
        })
    }

    fn principal_home(&self, p: Principal) -> Result<Home, GrantError> {
        match p {
            Principal::User(u) => Ok(self.user(u)?.home),
            Principal::Group(g) => Ok(self.group(g)?.home),
        }
    }

    fn subject_home(&self, s: &Subject) -> Result<Home, GrantError> {
        match *s {
            Subject::User(u) => Ok(self.user(u)?.home),
            Subject::Group(g) => Ok(self.group(g)?.home),
            Subject::PhoneQueue(q) => {
                self.phone_queues
                    .get(&q)
                    .copied()
                    .ok_or(GrantError::Unknown {
                        what: "phone queue",
                        id: q.0,
                    })
            }
            Subject::IntercomGroup(i) => {
                self.intercom_groups
                    .get(&i)
                    .copied()
                    .ok_or(GrantError::Unknown {
                        what: "intercom group",
                        id: i.0,
                    })
            }
        }
    }

    fn object_home(&self, o: &Object) -> Result<Option<Home>, GrantError> {
        Ok(Some(match *o {
            Object::Application(_) => return Ok(None),
            Object::Directory(d) => {
                self.directories
                    .get(&d)
                    .copied()
                    .ok_or(GrantError::Unknown {
                        what: "directory",
                        id: d.0,
                    })?
            }
            Object::IntercomGroup(i) => {
                self.intercom_groups
                    .get(&i)
                    .copied()
                    .ok_or(GrantError::Unknown {
                        what: "intercom group",
                        id: i.0,
                    })?
            }
            Object::PhoneQueue(q) => {
                self.phone_queues
                    .get(&q)
                    .copied()
                    .ok_or(GrantError::Unknown {
                        what: "phone queue",
                        id: q.0,
                    })?
            }
            Object::Calendar(p)
            | Object::CallLog(p)
            | Object::Statistics(p)
            | Object::Records(p) => self.principal_home(p)?,
        }))
    }

    /// Checks a new grant against the sharing rules, duplicates and seats,
    /// without storing it.
    pub fn validate(&self, grant: &Grant) -> Result<(), GrantError> {
        if self.grants.contains_key(&grant.id) {
            return Err(GrantError::DuplicateId(grant.id));
        }
        let subject_home = self.subject_home(&grant.subject)?;
        let object_home = self.object_home(&grant.object)?;
        check_sharing(&grant.subject, subject_home, &grant.object, object_home)?;
        if let Some(existing) = self.by_pair.get(&(grant.subject, grant.object)) {
            return Err(GrantError::Duplicate {
                subject: grant.subject.to_string(),
                object: grant.object.to_string(),
                existing: *existing,
            });
        }
        if let Object::Application(app) = grant.object {
            let users = self.users_of(&grant.subject);
            let held = &self.seats[app.index()];
            let new = count(users.iter().filter(|u| !held.contains_key(u)).count());
            self.check_seats(app, new)?;
        }
        Ok(())
    }

    fn check_seats(&self, application: Application, requested: u32) -> Result<(), GrantError> {
        let Some(licensed) = self.limits[application.index()] else {
            return Ok(());
        };
        let in_use = count(self.seats[application.index()].len());
        if requested > 0 && in_use.saturating_add(requested) > licensed {
            return Err(GrantError::SeatsExceeded {
                application,
                licensed,
                in_use,
                requested,
            });
        }
        Ok(())
    }

    fn users_of(&self, subject: &Subject) -> Vec<UserId> {
        match *subject {
            Subject::User(u) => vec![u],
            Subject::Group(g) => self
                .groups
                .get(&g)
                .map(|g| g.members.iter().copied().collect())
                .unwrap_or_default(),
            Subject::PhoneQueue(_) | Subject::IntercomGroup(_) => Vec::new(),
        }
    }

    /// Validates and stores a grant.
    pub fn add_grant(&mut self, grant: Grant) -> Result<(), GrantError> {
        self.validate(&grant)?;
        if let Object::Application(app) = grant.object {
            for u in self.users_of(&grant.subject) {
                *self.seats[app.index()].entry(u).or_insert(0) += 1;
            }
        }
        self.grants.insert(grant.id, grant);
        self.by_pair.insert((grant.subject, grant.object), grant.id);
        self.by_subject
            .entry(grant.subject)
            .or_default()
            .push(grant.id);
        Ok(())
    }

    /// Removes a grant; returns it, or `None` if it was not there.
    pub fn remove_grant(&mut self, id: GrantId) -> Option<Grant> {
        let grant = self.grants.remove(&id)?;
        self.by_pair.remove(&(grant.subject, grant.object));
        if let Some(list) = self.by_subject.get_mut(&grant.subject) {
            list.retain(|g| *g != id);
            if list.is_empty() {
                self.by_subject.remove(&grant.subject);
            }
        }
        if let Object::Application(app) = grant.object {
            for u in self.users_of(&grant.subject) {
                release(&mut self.seats[app.index()], u);
            }
        }
        Some(grant)
    }

    /// Adds a user to a group. Refused if it would take an application seat
    /// the license does not have (the group holds applications).
    pub fn add_member(&mut self, group: GroupId, user: UserId) -> Result<(), GrantError> {
        let user_home = self.user(user)?.home;
        let info = self.group(group)?;
        if info.members.contains(&user) {
            return Ok(());
        }
        if info.home.domain != user_home.domain {
            return Err(GrantError::MemberOtherDomain {
                user,
                group,
                user_domain: user_home.domain,
                group_domain: info.home.domain,
            });
        }
        let apps = self.applications_of(&Subject::Group(group));
        for app in &apps {
            if !self.seats[app.index()].contains_key(&user) {
                self.check_seats(*app, 1)?;
            }
        }
        for app in apps {
            *self.seats[app.index()].entry(user).or_insert(0) += 1;
        }
        if let Some(g) = self.groups.get_mut(&group) {
            g.members.insert(user);
        }
        if let Some(u) = self.users.get_mut(&user) {
            u.groups.push(group);
        }
        Ok(())
    }

    /// Removes a user from a group; returns whether it was a member.
    pub fn remove_member(&mut self, group: GroupId, user: UserId) -> bool {
        let removed = self
            .groups
            .get_mut(&group)
            .is_some_and(|g| g.members.remove(&user));
        if !removed {
            return false;
        }
        if let Some(u) = self.users.get_mut(&user) {
            u.groups.retain(|g| *g != group);
        }
        for app in self.applications_of(&Subject::Group(group)) {
            release(&mut self.seats[app.index()], user);
        }
        true
    }

    fn applications_of(&self, subject: &Subject) -> Vec<Application> {
        self.by_subject
            .get(subject)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| match self.grants.get(id)?.object {
                        Object::Application(a) => Some(a),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn grant(&self, id: GrantId) -> Option<&Grant> {
        self.grants.get(&id)
    }

    /// The groups a user is in (empty for an unknown user).
    pub fn groups_of(&self, user: UserId) -> &[GroupId] {
        self.users
            .get(&user)
            .map(|u| u.groups.as_slice())
            .unwrap_or(&[])
    }

    /// The domain of a user, if known.
    pub fn domain_of(&self, user: UserId) -> Option<DomainId> {
        self.users.get(&user).map(|u| u.home.domain)
    }

    /// May `user` use or see `object`? Through a grant to the user or one of
    /// its groups, on the object itself or, for data owned by a user, on a
    /// group of that owner.
    pub fn check(&self, user: UserId, object: &Object) -> bool {
        let mut found = false;
        self.each_via(user, object, |_| {
            found = true;
            false
        });
        found
    }

    /// Every grant through which `user` reaches `object` (for the console's
    /// explanation); empty when refused.
    pub fn explain(&self, user: UserId, object: &Object) -> Vec<Via> {
        let mut out = Vec::new();
        self.each_via(user, object, |via| {
            out.push(via);
            true
        });
        out
    }

    /// Calls `f` for each grant that gives `object` to `user`; stops when `f`
    /// returns false.
    fn each_via(&self, user: UserId, object: &Object, mut f: impl FnMut(Via) -> bool) {
        let Some(info) = self.users.get(&user) else {
            return;
        };
        let owner_groups: &[GroupId] = match object.owner() {
            Some(Principal::User(owner)) => self.groups_of(owner),
            _ => &[],
        };
        let subjects = std::iter::once(Subject::User(user))
            .chain(info.groups.iter().map(|g| Subject::Group(*g)));
        for subject in subjects {
            let objects = std::iter::once(*object).chain(
                owner_groups
                    .iter()
                    .map(|g| object.with_owner(Principal::Group(*g))),
            );
            for object in objects {
                if let Some(grant) = self.by_pair.get(&(subject, object)) {
                    if !f(Via {
                        grant: *grant,
                        subject,
                        object,
                    }) {
                        return;
                    }
                }
            }
        }
    }

    /// What `user` may see of one kind, and through which grant: the
    /// console's "effective rights" view. Objects granted to a group of
    /// owners are listed as that group (not expanded to its members).
    pub fn visible(&self, user: UserId, kind: ObjectKind) -> Vec<Via> {
        let Some(info) = self.users.get(&user) else {
            return Vec::new();
        };
        let subjects = std::iter::once(Subject::User(user))
            .chain(info.groups.iter().map(|g| Subject::Group(*g)));
        let mut out = Vec::new();
        for subject in subjects {
            for id in self
                .by_subject
                .get(&subject)
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                match self.grants.get(id) {
                    Some(g) if g.object.kind() == kind => {
                        out.push(Via {
                            grant: g.id,
                            subject,
                            object: g.object,
                        });
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// What a phone queue or intercom group may see (directories).
    pub fn visible_to(&self, subject: Subject) -> Vec<Via> {
        self.by_subject
            .get(&subject)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| self.grants.get(id))
                    .map(|g| Via {
                        grant: g.id,
                        subject,
                        object: g.object,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn release(seats: &mut FxHashMap<UserId, u32>, user: UserId) {
    if let Some(n) = seats.get_mut(&user) {
        *n -= 1;
        if *n == 0 {
            seats.remove(&user);
        }
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
