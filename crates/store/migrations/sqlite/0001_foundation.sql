-- TWP foundation schema (SQLite). Released migrations are never edited:
-- add a new numbered file instead. Times are Unix epoch milliseconds (UTC).
-- Booleans are INTEGER 0/1: sqlx's Any driver cannot decode SQLite's bool type.

CREATE TABLE companies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_companies_name_key UNIQUE (name_key)
);

CREATE TABLE domains (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id BIGINT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    numbering_plan_length BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_domains_name_key UNIQUE (company_id, name_key),
    CONSTRAINT uq_domains_id_company UNIQUE (id, company_id)
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id BIGINT NOT NULL,
    domain_id BIGINT NOT NULL,
    user_name TEXT NOT NULL,
    user_name_key TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    gsm TEXT,
    email TEXT,
    ip TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    password_hash TEXT,
    culture TEXT,
    vm_password_enc TEXT,
    external_key TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT fk_users_domain FOREIGN KEY (domain_id, company_id)
        REFERENCES domains (id, company_id) ON DELETE CASCADE,
    CONSTRAINT uq_users_user_name_key UNIQUE (domain_id, user_name_key),
    CONSTRAINT uq_users_id_domain UNIQUE (id, domain_id, company_id)
);
CREATE UNIQUE INDEX uq_users_external_key ON users (domain_id, external_key)
    WHERE external_key IS NOT NULL;
CREATE INDEX ix_users_company ON users (company_id, id);
CREATE INDEX ix_users_domain ON users (domain_id, id);

CREATE TABLE devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL,
    domain_id BIGINT NOT NULL,
    company_id BIGINT NOT NULL,
    number TEXT NOT NULL,
    protocol TEXT NOT NULL,
    password_enc TEXT,
    ip TEXT,
    video INTEGER NOT NULL DEFAULT 0,
    one_number INTEGER NOT NULL DEFAULT 0,
    ccos BIGINT,
    sip_user_name TEXT,
    sip_password_enc TEXT,
    sip_proxy TEXT,
    sip_port BIGINT,
    stun TEXT,
    realm TEXT,
    dtmf_method TEXT,
    g729 INTEGER NOT NULL DEFAULT 0,
    tls INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT fk_devices_user FOREIGN KEY (user_id, domain_id, company_id)
        REFERENCES users (id, domain_id, company_id) ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT uq_devices_number UNIQUE (domain_id, number)
);
CREATE INDEX ix_devices_user ON devices (user_id);

CREATE TABLE user_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id BIGINT NOT NULL,
    domain_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT fk_groups_domain FOREIGN KEY (domain_id, company_id)
        REFERENCES domains (id, company_id) ON DELETE CASCADE,
    CONSTRAINT uq_groups_name_key UNIQUE (domain_id, name_key),
    CONSTRAINT uq_groups_id_domain UNIQUE (id, domain_id)
);
CREATE INDEX ix_groups_company ON user_groups (company_id, id);

CREATE TABLE group_members (
    group_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    domain_id BIGINT NOT NULL,
    company_id BIGINT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id),
    CONSTRAINT fk_members_group FOREIGN KEY (group_id, domain_id)
        REFERENCES user_groups (id, domain_id) ON DELETE CASCADE,
    CONSTRAINT fk_members_user FOREIGN KEY (user_id, domain_id, company_id)
        REFERENCES users (id, domain_id, company_id) ON DELETE CASCADE
);
CREATE INDEX ix_group_members_user ON group_members (user_id);

CREATE TABLE administrators (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    super_user INTEGER NOT NULL DEFAULT 0,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_administrators_name_key UNIQUE (name_key)
);

CREATE TABLE administrator_companies (
    admin_id BIGINT NOT NULL REFERENCES administrators (id) ON DELETE CASCADE,
    company_id BIGINT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    PRIMARY KEY (admin_id, company_id)
);
CREATE INDEX ix_administrator_companies_company ON administrator_companies (company_id);

CREATE TABLE admin_sessions (
    token_hash TEXT PRIMARY KEY,
    admin_id BIGINT NOT NULL REFERENCES administrators (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    client TEXT
);
CREATE INDEX ix_admin_sessions_admin ON admin_sessions (admin_id);

-- History outlives what it describes: no foreign keys here.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    admin_id BIGINT,
    admin_name TEXT NOT NULL,
    company_id BIGINT,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT,
    object_name TEXT,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX ix_audit_company ON audit_log (company_id, id);
CREATE INDEX ix_audit_at ON audit_log (at);
