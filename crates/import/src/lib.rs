//! TWP users import (guide 7.2): an import link's source — LDAP, Active
//! Directory, or the PBX's subscriber list — read whole, mapped entry by
//! entry to users with the API's field rules, planned against the target
//! domain per synchronisation type, and applied in one store transaction.
//! No HTTP: the API starts runs and shows their progress and reports.
//!
//! # Design
//!
//! * [`source`]: the LDAP connector of `twp-connectors` (no second LDAP
//!   client), told that a size limit reached is an error; a list connector
//!   for sources already fetched (the PBX's subscriber list).
//! * [`mapping`]: source attributes → user fields; entries without a key,
//!   a user name or a telephone number, or with an invalid e-mail or
//!   number, are ignored with their DN, the field and the reason.
//! * [`plan`]: pure; matches by key (`external_key`), never disables or
//!   deletes a user it did not create (`users.import_id`), never takes a
//!   user name or number held by someone else. A [`Planner`] plans entry
//!   by entry as the source is read.
//! * [`run`]: reading on a blocking thread with a shared [`run::Progress`]
//!   and planning on another against a snapshot of the domain's users,
//!   then one transaction: the snapshot checked (else read again and plan
//!   inside), safety share, apply, audit, run record. A failure or the
//!   safety stop changes nothing.
//! * [`report`]: the counts and details kept with the run.

pub mod mapping;
pub mod plan;
pub mod report;
pub mod run;
pub mod source;

pub use mapping::{Mapper, Rejected, SourceUser};
pub use plan::{Entry, Plan, Planner, plan};
pub use report::{Detail, Details, Report};
pub use run::{Phase, Progress, RunError, RunOptions, WRITER_HOLD, read_source, run};
pub use source::{ListConnector, PBX_COLUMNS, PbxSubscriber, ldap_connector};
