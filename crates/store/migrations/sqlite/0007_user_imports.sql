-- Users import (guide 7.2): import links from LDAP, Active Directory or the
-- PBX's subscriber list into one domain, their runs with the report, and on
-- each user the import that created it (an import only ever deletes or
-- disables its own users; the directory of imported users filters on it).

CREATE TABLE user_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id BIGINT NOT NULL,
    domain_id BIGINT NOT NULL,
    -- checked to be a group of domain_id when written
    group_id BIGINT REFERENCES user_groups (id) ON DELETE SET NULL,
    description TEXT NOT NULL,
    import_type TEXT NOT NULL,
    host TEXT NOT NULL,
    port BIGINT NOT NULL,
    security TEXT NOT NULL,
    bind_name TEXT NOT NULL,
    -- sealed with the server's secret box, never returned
    password_enc TEXT,
    base_dn TEXT NOT NULL,
    filter TEXT NOT NULL,
    page_size BIGINT NOT NULL,
    -- [[TWP field, source attribute], ...]
    mapping_json TEXT NOT NULL,
    sync_type TEXT NOT NULL,
    schedule_kind TEXT NOT NULL,
    -- daily: minute of the day (UTC); interval: minutes between runs
    schedule_minutes BIGINT,
    delete_share_percent BIGINT NOT NULL,
    last_run_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT fk_user_imports_domain FOREIGN KEY (domain_id, company_id)
        REFERENCES domains (id, company_id) ON DELETE CASCADE,
    CONSTRAINT ck_user_imports_type CHECK (import_type IN ('ldap', 'active-directory', 'pbx')),
    CONSTRAINT ck_user_imports_sync CHECK (sync_type IN ('full', 'insert-update-disable', 'insert-update', 'update-only')),
    CONSTRAINT ck_user_imports_schedule CHECK (schedule_kind IN ('manual', 'daily', 'interval'))
);
CREATE INDEX ix_user_imports_company ON user_imports (company_id, id);

CREATE TABLE user_import_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    import_id BIGINT NOT NULL REFERENCES user_imports (id) ON DELETE CASCADE,
    company_id BIGINT NOT NULL,
    trigger_kind TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT NOT NULL,
    entries_read BIGINT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    disabled BIGINT NOT NULL,
    deleted BIGINT NOT NULL,
    ignored BIGINT NOT NULL,
    message TEXT,
    -- the report's details as JSON (written by twp-import)
    details_json TEXT NOT NULL
);
CREATE INDEX ix_user_import_runs_import ON user_import_runs (import_id, id);

ALTER TABLE users ADD COLUMN import_id BIGINT REFERENCES user_imports (id) ON DELETE SET NULL;
CREATE INDEX ix_users_import ON users (import_id);
