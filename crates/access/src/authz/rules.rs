//! The sharing rules of guide 7.4, checked before a grant is stored.

use thiserror::Error;

use super::model::{
    Application, CompanyId, DomainId, GrantId, GroupId, Object, ObjectKind, Subject, UserId,
};

/// Why a grant (or a membership) is refused. Each message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GrantError {
    #[error("unknown {what} {id}")]
    Unknown { what: &'static str, id: i64 },
    #[error(
        "nothing is shared between companies (guide 3.1): {subject} belongs to company {subject_company}, {object} to company {object_company}"
    )]
    CrossCompany {
        subject: String,
        object: String,
        subject_company: CompanyId,
        object_company: CompanyId,
    },
    #[error(
        "{kind} cannot be shared between domains (guide {chapter}): {subject} is in domain {subject_domain}, {object} in domain {object_domain}"
    )]
    CrossDomain {
        kind: ObjectKind,
        chapter: &'static str,
        subject: String,
        object: String,
        subject_domain: DomainId,
        object_domain: DomainId,
    },
    #[error("{subject} may only be given directories (guide 9.1.7, 9.2.2), not {kind}")]
    SubjectNotAllowed { subject: String, kind: ObjectKind },
    #[error(
        "{kind} rights are given to one user, who sees the data of other users or groups (guide 7.4, 9.4.2); {subject} is not a user"
    )]
    ViewerMustBeUser { kind: ObjectKind, subject: String },
    #[error("{subject} already has {object} (grant {existing})")]
    Duplicate {
        subject: String,
        object: String,
        existing: GrantId,
    },
    #[error("grant id {0} is already used")]
    DuplicateId(GrantId),
    #[error(
        "not enough {application} licenses: {in_use} in use + {requested} new > {licensed} licensed (guide 7.4.1)"
    )]
    SeatsExceeded {
        application: Application,
        licensed: u32,
        in_use: u32,
        requested: u32,
    },
    #[error(
        "user {user} is in domain {user_domain}; group {group} holds users of domain {group_domain} only (guide 3.3.5)"
    )]
    MemberOtherDomain {
        user: UserId,
        group: GroupId,
        user_domain: DomainId,
        group_domain: DomainId,
    },
}

/// Where a party lives: the two levels the sharing rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Home {
    pub domain: DomainId,
    pub company: CompanyId,
}

/// Checks the rules on a subject and object whose homes are known.
/// `object_home` is `None` for applications, which belong to the installation.
pub(crate) fn check_sharing(
    subject: &Subject,
    subject_home: Home,
    object: &Object,
    object_home: Option<Home>,
) -> Result<(), GrantError> {
    let kind = object.kind();
    if matches!(subject, Subject::PhoneQueue(_) | Subject::IntercomGroup(_))
        && kind != ObjectKind::Directory
    {
        return Err(GrantError::SubjectNotAllowed {
            subject: subject.to_string(),
            kind,
        });
    }
    if kind.entered_in_reverse() && !matches!(subject, Subject::User(_)) {
        return Err(GrantError::ViewerMustBeUser {
            kind,
            subject: subject.to_string(),
        });
    }
    let Some(object_home) = object_home else {
        return Ok(());
    };
    if subject_home.company != object_home.company {
        return Err(GrantError::CrossCompany {
            subject: subject.to_string(),
            object: object.to_string(),
            subject_company: subject_home.company,
            object_company: object_home.company,
        });
    }
    let same_domain_only = match kind {
        ObjectKind::PhoneQueue => Some("7.4.5"),
        ObjectKind::CallLog => Some("7.4.6"),
        // Directories (7.4.2), calendars (7.4.3) and intercom groups (7.4.4)
        // may be shared between domains; the guide says nothing about
        // statistics and records, so they follow the company boundary only.
        _ => None,
    };
    match same_domain_only {
        Some(chapter) if subject_home.domain != object_home.domain => {
            Err(GrantError::CrossDomain {
                kind,
                chapter,
                subject: subject.to_string(),
                object: object.to_string(),
                subject_domain: subject_home.domain,
                object_domain: object_home.domain,
            })
        }
        _ => Ok(()),
    }
}
