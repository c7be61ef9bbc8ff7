-- Sign-in throttling counters and the per-user security log.

-- One fixed-window counter per throttled thing: a sign-in account, or a client IP for
-- sign-in, sign-up or OAuth starts. The key is an HMAC (under AUTH_SECRET) of what is
-- counted, so emails people mistype (or passwords typed into the email field) are not
-- stored. In the database so that every instance shares the counts.
CREATE TABLE throttle (
    key          TEXT PRIMARY KEY,
    hits         INTEGER NOT NULL,
    window_start INTEGER NOT NULL
);
CREATE INDEX throttle_window_start_idx ON throttle (window_start);

-- What happened to an account, shown on /account: sign-ins (and failed ones),
-- sign-outs, revoked sessions, password changes, providers linked and unlinked.
-- Never a secret: no password, token or code.
CREATE TABLE security_events (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX security_events_user_id_idx ON security_events (user_id, created_at);
