-- Directories of each domain (guide 8.1-8.4): settings, the contacts of the
-- last completed synchronisation (packed in chunks, written in one
-- transaction), the derived keys that let a restart skip rebuilding the
-- indexes, the last synchronisation report; and each user's private
-- contacts (guide 9.1.1, 8.8).
CREATE TABLE directories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id BIGINT NOT NULL,
    domain_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    priority BIGINT NOT NULL,
    server_type TEXT NOT NULL,
    settings TEXT NOT NULL,
    password_enc TEXT,
    mapping TEXT NOT NULL,
    sync_mode TEXT NOT NULL,
    sync_every_minutes BIGINT,
    merge_contacts INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT fk_directories_domain FOREIGN KEY (domain_id, company_id)
        REFERENCES domains (id, company_id) ON DELETE CASCADE,
    CONSTRAINT uq_directories_name_key UNIQUE (domain_id, name_key),
    CONSTRAINT ck_directories_kind CHECK (kind IN ('draft', 'public', 'private')),
    CONSTRAINT ck_directories_sync CHECK (sync_mode IN ('manual', 'daily', 'every'))
);
CREATE INDEX ix_directories_company ON directories (company_id, domain_id);

CREATE TABLE directory_contacts (
    directory_id BIGINT NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    chunk BIGINT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (directory_id, chunk)
);

CREATE TABLE directory_derived (
    directory_id BIGINT PRIMARY KEY REFERENCES directories (id) ON DELETE CASCADE,
    data BLOB NOT NULL,
    contacts BIGINT NOT NULL,
    synced_at BIGINT NOT NULL
);

CREATE TABLE directory_reports (
    directory_id BIGINT PRIMARY KEY REFERENCES directories (id) ON DELETE CASCADE,
    outcome TEXT NOT NULL,
    report TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL
);

CREATE TABLE private_contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id BIGINT NOT NULL,
    domain_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    fields TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT fk_private_contacts_user FOREIGN KEY (user_id, domain_id, company_id)
        REFERENCES users (id, domain_id, company_id) ON DELETE CASCADE
);
CREATE INDEX ix_private_contacts_user ON private_contacts (user_id, id);
