//! The report of a run (guide 7.2.3): counts, and for each kind of change
//! the entries concerned (DN, user name, reason). Counts are exact; the
//! details keep the first [`DETAILS_MAX`] of each kind.

use serde::{Deserialize, Serialize};

/// Details kept per kind of change.
pub const DETAILS_MAX: usize = 1000;

/// One entry or user of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Detail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    /// The TWP field concerned (ignored entries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The changes of a run by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Created,
    Updated,
    Disabled,
    Deleted,
    Ignored,
}

/// Counts and details of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub entries_read: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub disabled: u64,
    pub deleted: u64,
    pub ignored: u64,
    pub details: Details,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Details {
    pub created: Vec<Detail>,
    pub updated: Vec<Detail>,
    pub disabled: Vec<Detail>,
    pub deleted: Vec<Detail>,
    pub ignored: Vec<Detail>,
    /// Details left out beyond [`DETAILS_MAX`] per kind.
    pub left_out: u64,
}

impl Report {
    /// Counts one change and keeps its detail while there is room.
    pub fn add(&mut self, kind: Kind, detail: Detail) {
        self.add_with(kind, || detail);
    }

    /// [`Report::add`], making the detail only when it is kept.
    pub fn add_with(&mut self, kind: Kind, detail: impl FnOnce() -> Detail) {
        let (count, list) = match kind {
            Kind::Created => (&mut self.created, &mut self.details.created),
            Kind::Updated => (&mut self.updated, &mut self.details.updated),
            Kind::Disabled => (&mut self.disabled, &mut self.details.disabled),
            Kind::Deleted => (&mut self.deleted, &mut self.details.deleted),
            Kind::Ignored => (&mut self.ignored, &mut self.details.ignored),
        };
        *count += 1;
        if list.len() < DETAILS_MAX {
            list.push(detail());
        } else {
            self.details.left_out += 1;
        }
    }

    /// The details as stored with the run.
    pub fn details_json(&self) -> String {
        serde_json::to_string(&self.details).unwrap_or_else(|_| "{}".into())
    }
}
