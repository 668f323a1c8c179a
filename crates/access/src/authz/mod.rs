//! Authorizations (guide 7.4): who may use which application and see which
//! directory, calendar, intercom group, phone queue, call log, statistics
//! or records.

mod engine;
mod model;
mod rules;

pub use engine::{
    Engine, GroupEntry, SeatLimits, SeatUsage, Snapshot, SnapshotError, UserEntry, Via,
};
pub use model::{
    Application, CompanyId, ConsolePick, DirectoryId, DomainId, Grant, GrantId, GroupId,
    IntercomGroupId, Object, ObjectKind, PhoneQueueId, Principal, Subject, UserId,
};
pub use rules::{GrantError, Home};
