-- A second factor (TOTP, recovery codes), pending sign-ins, and sudo mode.

-- When the session last proved who its user is: the sign-in, or a re-authentication
-- at /reauth. Sudo actions need this within AUTH_REAUTH_MAX_AGE seconds. Sessions from
-- before this was recorded (0) confirm again before their first sudo action.
ALTER TABLE sessions ADD COLUMN authenticated_at BIGINT NOT NULL DEFAULT 0;

-- A user's TOTP (RFC 6238: SHA-1, 6 digits, 30 s). The 160-bit secret is sealed with
-- AES-256-GCM under a key derived from AUTH_SECRET (AUTH_SECRET_1..3 still open it).
-- A code is accepted once: its time step must be newer than last_step.
CREATE TABLE totp_credentials (
    user_id    TEXT   PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret     TEXT   NOT NULL,
    last_step  BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- A TOTP enrolment shown but not yet confirmed with a first code: its secret, sealed
-- as a confirmed one is, for the session that started it, for ten minutes.
CREATE TABLE totp_enrolments (
    user_id    TEXT   PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT   NOT NULL,
    secret     TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX totp_enrolments_expires_at_idx ON totp_enrolments (expires_at);

-- Recovery codes: ten per set, shown once, kept as SHA-256 hashes; a used code's row
-- is deleted, so what is left is what can still be used.
CREATE TABLE recovery_codes (
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- A first step done (a password, a provider, an emailed link or code, a reset) for a
-- user with a second factor: no session yet. Bound to the browser by a cookie whose
-- token is kept here only as a SHA-256 hash; five minutes, five wrong codes.
CREATE TABLE pending_signins (
    token_hash   TEXT   PRIMARY KEY,
    user_id      TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- the session's method once signed in ('password', 'email', a provider's id) and
    -- how the security log says it
    method       TEXT   NOT NULL,
    how          TEXT   NOT NULL,
    callback_url TEXT   NOT NULL,
    failures     BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX pending_signins_user_id_idx ON pending_signins (user_id);
CREATE INDEX pending_signins_expires_at_idx ON pending_signins (expires_at);
