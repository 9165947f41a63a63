-- Accounts an administrator can manage (issue 12): a forced password change after a
-- reset, and sessions that can be listed and revoked by a non-secret id and that end
-- after an idle time as well as at their absolute expiry. Portable SQL, as 0001.

ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;

-- Sessions get a public id and a last-seen time. Sessions open at upgrade time are
-- dropped (everyone logs in again once): they had neither.
DROP TABLE sessions;

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id, created_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_last_seen ON sessions (last_seen_at);
