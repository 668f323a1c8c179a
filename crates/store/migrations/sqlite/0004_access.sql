-- Access (guide 3.3.1-3.3.2, 7.4, 9, 10.2): authorizations, parameter
-- values per level, the installation seed and the loaded license.

-- One authorization: a user or group (subject) may use or see an object.
-- Subjects and user/group objects are foreign keys, so deleting a user or
-- group deletes its grants. `subject_key`/`object_key` are canonical texts
-- ('user:5', 'application:caller', 'calendar:group:3') for uniqueness.
-- Directories, intercom groups and phone queues (object_ref) have no table
-- yet: the API refuses them until they do.
CREATE TABLE grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id BIGINT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    subject_domain_id BIGINT NOT NULL,
    subject_user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    subject_group_id BIGINT REFERENCES user_groups (id) ON DELETE CASCADE,
    object_type TEXT NOT NULL,
    application TEXT,
    object_user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    object_group_id BIGINT REFERENCES user_groups (id) ON DELETE CASCADE,
    object_ref BIGINT,
    object_domain_id BIGINT,
    subject_key TEXT NOT NULL,
    object_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT uq_grants_pair UNIQUE (subject_key, object_key),
    CONSTRAINT ck_grants_subject CHECK ((subject_user_id IS NULL) <> (subject_group_id IS NULL)),
    CONSTRAINT ck_grants_object_type CHECK (object_type IN ('application', 'directory', 'calendar',
        'intercom_group', 'phone_queue', 'call_log', 'statistics', 'records'))
);
CREATE INDEX ix_grants_company ON grants (company_id, id);
CREATE INDEX ix_grants_subject_user ON grants (subject_user_id);
CREATE INDEX ix_grants_subject_group ON grants (subject_group_id);
CREATE INDEX ix_grants_object ON grants (object_key);
CREATE INDEX ix_grants_object_user ON grants (object_user_id);
CREATE INDEX ix_grants_object_group ON grants (object_group_id);

-- A value set for a parameter at one level. `scope_key` is 'default',
-- 'domain:ID', 'group:ID' or 'user:ID'; the level's row cascades with it.
CREATE TABLE parameter_values (
    param_key TEXT NOT NULL,
    scope_key TEXT NOT NULL,
    level TEXT NOT NULL,
    company_id BIGINT REFERENCES companies (id) ON DELETE CASCADE,
    domain_id BIGINT REFERENCES domains (id) ON DELETE CASCADE,
    group_id BIGINT REFERENCES user_groups (id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (param_key, scope_key),
    CONSTRAINT ck_parameter_values_level CHECK (level IN ('default', 'domain', 'group', 'user'))
);
CREATE INDEX ix_parameter_values_company ON parameter_values (company_id);

-- The rank of a group for parameters when a user is in several (1 first).
CREATE TABLE group_parameter_ranks (
    group_id BIGINT PRIMARY KEY REFERENCES user_groups (id) ON DELETE CASCADE,
    company_id BIGINT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    param_rank BIGINT NOT NULL
);

-- The installation: one row, created at first start. The id printed for
-- licenses derives from `seed`. `grant_version` is bumped by every grant
-- write so that concurrent writers queue on this row (seat counting).
CREATE TABLE installation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seed TEXT NOT NULL,
    grant_version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- Every license file loaded; the newest one is in force.
CREATE TABLE licenses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    customer TEXT NOT NULL,
    expires TEXT NOT NULL,
    loaded_at BIGINT NOT NULL,
    loaded_by TEXT NOT NULL
);
