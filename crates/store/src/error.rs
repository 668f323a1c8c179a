/// What can go wrong in the store, in terms the API can map to a status.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule was broken; `field` is the API name of the field.
    #[error("{message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    /// A reference to something that does not exist (or not in this scope).
    #[error("{message}")]
    InvalidReference {
        field: &'static str,
        message: String,
    },
    #[error("database migration {version} ({name}) {problem}")]
    Migration {
        version: i64,
        name: &'static str,
        problem: String,
    },
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A write script did not give back what its statements return.
    #[error("write script: {0}")]
    Script(String),
}

/// Maps a unique-constraint violation to the API field it concerns. Constraint
/// names (PostgreSQL) and column lists (SQLite) both contain the column.
const UNIQUE_FIELDS: &[(&str, &str, &str)] = &[
    (
        "user_name_key",
        "userName",
        "a user with this user name already exists in this domain",
    ),
    (
        "external_key",
        "externalKey",
        "a user with this external key already exists in this domain",
    ),
    (
        "devices",
        "number",
        "this device number is already used in this domain",
    ),
    (
        "uq_groups",
        "name",
        "a group with this name already exists in this domain",
    ),
    (
        "user_groups",
        "name",
        "a group with this name already exists in this domain",
    ),
    (
        "uq_domains",
        "name",
        "a domain with this name already exists in this company",
    ),
    (
        "domains.",
        "name",
        "a domain with this name already exists in this company",
    ),
    (
        "uq_companies",
        "name",
        "a company with this name already exists",
    ),
    (
        "companies.",
        "name",
        "a company with this name already exists",
    ),
    (
        "administrators",
        "name",
        "an administrator with this name already exists",
    ),
    (
        "uq_pbx_links_csta",
        "role",
        "this domain already has its CSTA link: a domain has one (guide 4.1); add supervision links instead",
    ),
    (
        "pbx_links.domain_id",
        "role",
        "this domain already has its CSTA link: a domain has one (guide 4.1); add supervision links instead",
    ),
    (
        "group_members",
        "userId",
        "this user is already a member of the group",
    ),
];

impl StoreError {
    /// Turns unique and foreign-key violations into typed errors.
    pub(crate) fn classify(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            let hint = format!("{} {}", db.constraint().unwrap_or(""), db.message());
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    if let Some((_, field, message)) =
                        UNIQUE_FIELDS.iter().find(|(k, _, _)| hint.contains(k))
                    {
                        return Self::Conflict {
                            field,
                            message: (*message).to_owned(),
                        };
                    }
                    return Self::Conflict {
                        field: "",
                        message: "this would duplicate an existing object".into(),
                    };
                }
                sqlx::error::ErrorKind::ForeignKeyViolation => {
                    return Self::InvalidReference {
                        field: "",
                        message: "a referenced object does not exist".into(),
                    };
                }
                _ => {}
            }
        }
        Self::Database(e)
    }
}
