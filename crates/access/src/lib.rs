//! TWP's access engine (issue 6), as a library with no HTTP and no SQL:
//! the store persists its inputs and the API exposes it.
//!
//! - [`authz`] — authorizations of guide 7.4. An [`authz::Engine`] is built
//!   from a [`authz::Snapshot`] (users with domain and company, groups with
//!   members, directories, intercom groups, phone queues, grants) and updated
//!   incrementally. Grants are indexed by `(subject, object)` so a check is
//!   a handful of hash look-ups: the user and each of its groups, against
//!   the object and, for data owned by a user (calendar, call logs,
//!   statistics, records), each group of that owner. Sharing rules are
//!   checked on every new grant and refusals are typed errors naming the
//!   rule; application grants also count license seats (a user holds one
//!   seat per application whatever the number of grants reaching it).
//! - [`params`] — every application parameter the guide names, as a static
//!   table with types, defaults and the Expert flag; values set per
//!   default/domain/group/user, validated on write, resolved most-specific
//!   first with the source reported. The multi-group rule (explicit group
//!   rank, then oldest group) is documented in [`params::ParamStore`].
//! - [`license`] — the installation id (the guide's "Dongle id"), the
//!   Ed25519-signed license file in a readable text format, key files, and
//!   the functions behind `twp license keygen|sign|inspect`.
//! - [`auth`] — AuthMethods, the LDAP bind DN with RFC 4514 escaping, the
//!   RFC 4515 filter escaper, the None policy and Windows single sign-on
//!   through trusted proxies.
//!
//! # Choices
//! - Ids reuse `twp-domain`'s `CompanyId`, `DomainId`, `UserId`, `GroupId`;
//!   directories, intercom groups, phone queues and grants get newtypes here
//!   until the store defines them.
//! - Statistics and Records: the console enters them in reverse (upper list
//!   = the viewer). [`authz::Grant::from_console`] does the swap; inside the
//!   engine every grant reads "subject may see object", and the viewer of
//!   statistics or records must be a user (guide 7.4, 9.4.2).
//! - The guide is silent on sharing statistics and records across domains:
//!   they may cross domains but never companies.
//! - Defaults the guide does not state are chosen here and flagged
//!   (`ParamDef::guide_default == false`).
//!
//! # Not done here
//! - Persistence, the HTTP API and the `twp license` CLI live in
//!   `twp-store` (`grants`, `parameters`, `licenses`), `twp-api` and `twp`;
//!   the LDAP network bind and Windows negotiation are not done.
//! - Seat limits are not enforced when a snapshot is loaded (a smaller
//!   license must not make the server unbootable); the usage shows it.
//! - `visible` lists a grant on a group of owners as the group; it does not
//!   expand it to the members.
//! - The guide lists `CallLog-NumberDaysOfStorage` twice with two meanings;
//!   only the first is in the catalogue (the second key's name is unknown).
//!   No TWP Stats parameter is named by the guide: that application has
//!   none. `SmtpAuthPassword` is a plain text value here: sealing it is the
//!   store's job.
//! - Records objects follow the statistics rule; the guide says no more.

pub mod auth;
pub mod authz;
mod fxhash;
pub mod license;
pub mod params;
