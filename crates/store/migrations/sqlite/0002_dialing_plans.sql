-- The dialing plan of each domain (guide chapter 5), as its JSON plan
-- document. A domain without a row uses the default plan.
CREATE TABLE dialing_plans (
    domain_id BIGINT PRIMARY KEY,
    company_id BIGINT NOT NULL,
    document TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT fk_dialing_plans_domain FOREIGN KEY (domain_id, company_id)
        REFERENCES domains (id, company_id) ON DELETE CASCADE
);
