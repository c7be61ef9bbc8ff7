-- Users and their server-side sessions. Times are Unix seconds, ids are text, so the
-- same portable queries run on SQLite and PostgreSQL.
--
-- No column is nullable: sqlx 0.7's Any driver can neither decode a NULL (its values
-- never report is_null) nor bind one on PostgreSQL (it binds an INT4 NULL). "Absent"
-- is '' for text and 0 for times; src/db maps those to None.
CREATE TABLE users (
    id             TEXT    PRIMARY KEY,
    name           TEXT    NOT NULL DEFAULT '',
    -- normalised in Rust (trimmed, Unicode-lowercased) before it reaches SQL
    email          TEXT    NOT NULL,
    -- when the address was verified (by a provider); 0 = never
    email_verified BIGINT  NOT NULL DEFAULT 0,
    image          TEXT    NOT NULL DEFAULT '',
    -- argon2id PHC string; '' for users who only sign in with a provider
    password_hash  TEXT    NOT NULL DEFAULT '',
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE sessions (
    -- public id: the first half of the cookie token, shown on the sessions page
    id             TEXT    PRIMARY KEY,
    -- SHA-256 of the secret half of the token; the token itself is never stored
    secret_hash    TEXT    NOT NULL,
    user_id        TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL,
    last_active_at BIGINT  NOT NULL,
    user_agent     TEXT    NOT NULL DEFAULT '',
    ip             TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
