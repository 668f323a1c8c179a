//! Reverse look-up of a caller's number: canonical form with the domain's
//! dialing plan (`incoming`: Remove/Add first), exact match in every allowed
//! directory, else the internal-reverse-length suffix; the directory of the
//! lowest priority number wins.

use crate::engine::{Allowed, DirectoryEngine};
use crate::model::{ContactField, DirectoryId};
use crate::profile::Profile;

/// How the number matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchKind {
    /// The canonical number is the contact's.
    Exact,
    /// Only the last digits (internal reverse length) are the same.
    Suffix,
}

/// The caller, as named by the directories.
#[derive(Clone, Debug)]
pub struct CallerMatch {
    /// The directory whose contact matched.
    pub directory: DirectoryId,
    /// The field of that contact holding the number.
    pub field: ContactField,
    /// Exact or suffix.
    pub kind: MatchKind,
    /// The caller's number in canonical form.
    pub canonical: String,
    /// The number is red-listed for that contact: show the name only.
    pub number_hidden: bool,
    /// The VIP text, when the contact is a VIP (8.2.3).
    pub vip: Option<String>,
    /// The contact (merged when the directory merges).
    pub profile: Profile,
}

impl DirectoryEngine {
    /// Names the caller of `number` (as presented by the PBX) from the
    /// `allowed` directories.
    pub fn lookup(&self, number: &str, allowed: Allowed<'_>) -> Option<CallerMatch> {
        let plan = self.plan();
        let canonical = plan.incoming(number);
        let keys = plan.lookup_keys(&canonical);
        let views = self.views(allowed);
        let mut found = None;
        if let Some(exact) = &keys.exact {
            found = views
                .iter()
                .enumerate()
                .find_map(|(at, (_, g))| g.exact(exact).map(|h| (at, h, MatchKind::Exact)));
        }
        if found.is_none() {
            if let Some(suffix) = &keys.suffix {
                found = views
                    .iter()
                    .enumerate()
                    .find_map(|(at, (_, g))| g.suffix(suffix).map(|h| (at, h, MatchKind::Suffix)));
            }
        }
        let (at, hit, kind) = found?;
        let profile = Profile::build(&views, at, hit.contact);
        let found = profile.found();
        Some(CallerMatch {
            directory: found.directory().id,
            field: hit.field,
            kind,
            canonical: canonical.number,
            number_hidden: found.contact().is_red_listed(hit.field),
            vip: profile.vip().map(str::to_owned),
            profile,
        })
    }
}
