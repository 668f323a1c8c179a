-- Links to the PBX of each domain (guide 3.3.3, 4.1-4.3): at most one CSTA
-- link and any number of supervision links; and the Site.Cluster of each
-- device, which chooses its supervision link (4.2).
CREATE TABLE pbx_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id BIGINT NOT NULL,
    domain_id BIGINT NOT NULL,
    role TEXT NOT NULL,
    protocol TEXT NOT NULL,
    host TEXT NOT NULL,
    port BIGINT NOT NULL,
    capacity BIGINT NOT NULL,
    sites TEXT NOT NULL,
    session TEXT NOT NULL,
    pbx_type TEXT,
    user_name TEXT,
    password_enc TEXT,
    callback_device TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT fk_pbx_links_domain FOREIGN KEY (domain_id, company_id)
        REFERENCES domains (id, company_id) ON DELETE CASCADE,
    CONSTRAINT ck_pbx_links_role CHECK (role IN ('csta', 'supervision'))
);
CREATE INDEX ix_pbx_links_domain ON pbx_links (domain_id, id);
-- the guide's rule: one CSTA link per domain
CREATE UNIQUE INDEX uq_pbx_links_csta ON pbx_links (domain_id) WHERE role = 'csta';

ALTER TABLE devices ADD COLUMN site TEXT;
