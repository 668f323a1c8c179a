//! Writing audit entries from handlers, inside the change's transaction so
//! that a change and its entry land together or not at all.

use serde::Serialize;
use twp_domain::{Administrator, AuditEntry, CompanyId};
use twp_store::{Tx, audit, now_ms};

use crate::error::ApiError;

/// One change for the audit log. `before`/`after` are API shapes, which
/// never carry secrets.
pub struct Change {
    pub company: Option<CompanyId>,
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: String,
    pub object_name: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Change {
    pub fn new(action: &'static str, object_type: &'static str, object_id: impl ToString) -> Self {
        Self {
            company: None,
            action,
            object_type,
            object_id: object_id.to_string(),
            object_name: None,
            before: None,
            after: None,
        }
    }

    pub fn company(mut self, c: CompanyId) -> Self {
        self.company = Some(c);
        self
    }

    pub fn name(mut self, n: &str) -> Self {
        self.object_name = Some(n.to_owned());
        self
    }

    pub fn before(mut self, v: &impl Serialize) -> Self {
        self.before = serde_json::to_string(v).ok();
        self
    }

    pub fn after(mut self, v: &impl Serialize) -> Self {
        self.after = serde_json::to_string(v).ok();
        self
    }
}

pub async fn record(tx: &mut Tx, who: &Administrator, change: Change) -> Result<(), ApiError> {
    audit::record(tx, &entry(who, change)).await?;
    Ok(())
}

/// The entry of a change, for store functions that write it themselves in
/// the change's transaction.
pub fn entry(who: &Administrator, change: Change) -> AuditEntry {
    AuditEntry {
        id: 0,
        at: now_ms(),
        admin_id: Some(who.id),
        admin_name: who.name.clone(),
        company_id: change.company,
        action: change.action.to_owned(),
        object_type: change.object_type.to_owned(),
        object_id: Some(change.object_id),
        object_name: change.object_name,
        before: change.before,
        after: change.after,
    }
}
