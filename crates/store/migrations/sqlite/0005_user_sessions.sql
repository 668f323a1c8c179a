-- User authentication (guide 6): users' sessions (tokens for the web apps
-- and API clients, stored as SHA-256 hashes) and their login state
-- (consecutive failures and temporary lock-out), kept beside `users` so
-- the user rows are not widened.

CREATE TABLE user_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    domain_id BIGINT NOT NULL,
    company_id BIGINT NOT NULL,
    method TEXT NOT NULL,
    saved INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    client TEXT,
    CONSTRAINT uq_user_sessions_token UNIQUE (token_hash),
    CONSTRAINT fk_user_sessions_user FOREIGN KEY (user_id, domain_id, company_id)
        REFERENCES users (id, domain_id, company_id) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX ix_user_sessions_user ON user_sessions (user_id, id);

CREATE TABLE user_login_state (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    company_id BIGINT NOT NULL,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT
);
