//! What can be granted to whom (guide 7.4): object types, subjects, grants.

use std::fmt;

pub use twp_domain::{CompanyId, DomainId, GroupId, UserId};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A directory of contacts, owned by one domain (guide 7.4.2, 8).
    DirectoryId
);
id_type!(
    /// An intercom group: the devices whose telephony presence is shared (9.1.2).
    IntercomGroupId
);
id_type!(
    /// A phone (call) queue of one domain (9.2.2).
    PhoneQueueId
);
id_type!(
    /// One authorization, as the store numbers it.
    GrantId
);

/// The applications whose use is granted, and counted against the license
/// (guide 7.4.1, 9.1–9.4, 1.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Application {
    Caller,
    Alerter,
    Stats,
    StatsAdmin,
    SoftPhone,
    Rules,
    VideoShare,
    Toolkit,
}

impl Application {
    pub const ALL: [Application; 8] = [
        Self::Caller,
        Self::Alerter,
        Self::Stats,
        Self::StatsAdmin,
        Self::SoftPhone,
        Self::Rules,
        Self::VideoShare,
        Self::Toolkit,
    ];

    /// The name the console shows ("TWP Caller"…).
    pub fn label(self) -> &'static str {
        match self {
            Self::Caller => "TWP Caller",
            Self::Alerter => "TWP Alerter",
            Self::Stats => "TWP Stats",
            Self::StatsAdmin => "TWP Stats Admin",
            Self::SoftPhone => "Soft phone",
            Self::Rules => "TWP Rules",
            Self::VideoShare => "TWP VideoShare",
            Self::Toolkit => "TWP Toolkit",
        }
    }

    /// The key used in license files (`seats.caller`…).
    pub fn key(self) -> &'static str {
        match self {
            Self::Caller => "caller",
            Self::Alerter => "alerter",
            Self::Stats => "stats",
            Self::StatsAdmin => "stats-admin",
            Self::SoftPhone => "soft-phone",
            Self::Rules => "rules",
            Self::VideoShare => "videoshare",
            Self::Toolkit => "toolkit",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.key() == key)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Application {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A user or a group of users: who holds rights, or whose data is shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Principal {
    User(UserId),
    Group(GroupId),
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(u) => write!(f, "user {u}"),
            Self::Group(g) => write!(f, "group {g}"),
        }
    }
}

/// The object types of the *Users / Authorizations* console (guide 7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    Application,
    Directory,
    Calendar,
    IntercomGroup,
    PhoneQueue,
    CallLog,
    Statistics,
    Records,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 8] = [
        Self::Application,
        Self::Directory,
        Self::Calendar,
        Self::IntercomGroup,
        Self::PhoneQueue,
        Self::CallLog,
        Self::Statistics,
        Self::Records,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Application => "Applications",
            Self::Directory => "Directories",
            Self::Calendar => "Calendars",
            Self::IntercomGroup => "Intercom groups",
            Self::PhoneQueue => "Phone queues",
            Self::CallLog => "Call logs",
            Self::Statistics => "Statistics",
            Self::Records => "Records",
        }
    }

    /// Statistics and Records are entered the other way round in the console
    /// (guide 7.4, 9.4.2): the upper list picks the *viewer*, the lower one
    /// the users or groups whose data is seen.
    pub fn entered_in_reverse(self) -> bool {
        matches!(self, Self::Statistics | Self::Records)
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What a right is about. For calendars, call logs, statistics and records
/// the object is the user or group whose data is seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Object {
    Application(Application),
    Directory(DirectoryId),
    Calendar(Principal),
    IntercomGroup(IntercomGroupId),
    PhoneQueue(PhoneQueueId),
    CallLog(Principal),
    Statistics(Principal),
    Records(Principal),
}

impl Object {
    pub fn kind(&self) -> ObjectKind {
        match self {
            Self::Application(_) => ObjectKind::Application,
            Self::Directory(_) => ObjectKind::Directory,
            Self::Calendar(_) => ObjectKind::Calendar,
            Self::IntercomGroup(_) => ObjectKind::IntercomGroup,
            Self::PhoneQueue(_) => ObjectKind::PhoneQueue,
            Self::CallLog(_) => ObjectKind::CallLog,
            Self::Statistics(_) => ObjectKind::Statistics,
            Self::Records(_) => ObjectKind::Records,
        }
    }

    /// The user or group whose data the object is, if any.
    pub fn owner(&self) -> Option<Principal> {
        match self {
            Self::Calendar(p) | Self::CallLog(p) | Self::Statistics(p) | Self::Records(p) => {
                Some(*p)
            }
            _ => None,
        }
    }

    /// The same kind of object, about another owner.
    pub(crate) fn with_owner(&self, owner: Principal) -> Object {
        match self {
            Self::Calendar(_) => Self::Calendar(owner),
            Self::CallLog(_) => Self::CallLog(owner),
            Self::Statistics(_) => Self::Statistics(owner),
            Self::Records(_) => Self::Records(owner),
            other => *other,
        }
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Application(a) => write!(f, "application {a}"),
            Self::Directory(d) => write!(f, "directory {d}"),
            Self::Calendar(p) => write!(f, "calendar of {p}"),
            Self::IntercomGroup(i) => write!(f, "intercom group {i}"),
            Self::PhoneQueue(q) => write!(f, "phone queue {q}"),
            Self::CallLog(p) => write!(f, "call logs of {p}"),
            Self::Statistics(p) => write!(f, "statistics of {p}"),
            Self::Records(p) => write!(f, "records of {p}"),
        }
    }
}

/// Who receives a right. Phone queues and intercom groups may only receive
/// directories (guide 9.1.7, 9.2.2): it names the callers they display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    User(UserId),
    Group(GroupId),
    PhoneQueue(PhoneQueueId),
    IntercomGroup(IntercomGroupId),
}

impl From<Principal> for Subject {
    fn from(p: Principal) -> Self {
        match p {
            Principal::User(u) => Self::User(u),
            Principal::Group(g) => Self::Group(g),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(u) => write!(f, "user {u}"),
            Self::Group(g) => write!(f, "group {g}"),
            Self::PhoneQueue(q) => write!(f, "phone queue {q}"),
            Self::IntercomGroup(i) => write!(f, "intercom group {i}"),
        }
    }
}

/// One authorization: `subject` may use or see `object`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grant {
    pub id: GrantId,
    pub subject: Subject,
    pub object: Object,
}

impl Grant {
    /// A grant as the console enters it: the object picked in the upper
    /// right list and the user or group added from the lower left one. For
    /// Statistics and Records the upper list holds the viewer and the lower
    /// one whose data is seen (guide 7.4), so the two are swapped.
    pub fn from_console(
        id: GrantId,
        kind: ObjectKind,
        upper: ConsolePick,
        added: Principal,
    ) -> Option<Grant> {
        let (subject, object) = match (kind, upper) {
            (ObjectKind::Statistics, ConsolePick::Principal(viewer)) => {
                (Subject::from(viewer), Object::Statistics(added))
            }
            (ObjectKind::Records, ConsolePick::Principal(viewer)) => {
                (Subject::from(viewer), Object::Records(added))
            }
            (ObjectKind::Calendar, ConsolePick::Principal(owner)) => {
                (Subject::from(added), Object::Calendar(owner))
            }
            (ObjectKind::CallLog, ConsolePick::Principal(owner)) => {
                (Subject::from(added), Object::CallLog(owner))
            }
            (ObjectKind::Application, ConsolePick::Application(a)) => {
                (Subject::from(added), Object::Application(a))
            }
            (ObjectKind::Directory, ConsolePick::Directory(d)) => {
                (Subject::from(added), Object::Directory(d))
            }
            (ObjectKind::IntercomGroup, ConsolePick::IntercomGroup(i)) => {
                (Subject::from(added), Object::IntercomGroup(i))
            }
            (ObjectKind::PhoneQueue, ConsolePick::PhoneQueue(q)) => {
                (Subject::from(added), Object::PhoneQueue(q))
            }
            _ => return None,
        };
        Some(Grant {
            id,
            subject,
            object,
        })
    }
}

/// What the upper right list of the console selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsolePick {
    Application(Application),
    Directory(DirectoryId),
    IntercomGroup(IntercomGroupId),
    PhoneQueue(PhoneQueueId),
    Principal(Principal),
}
