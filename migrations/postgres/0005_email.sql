-- Email: the outbox, and the tokens links and codes carry.

-- A message waits here from the transaction of the change that causes it until a
-- worker on some instance sends it. A worker claims a message under a lease (at most
-- a minute), so a killed instance's claims pass to another; a failed send is retried
-- with backoff for about a day, then abandoned. Once sent or abandoned the message
-- itself is cleared (it holds a raw link): recipient, kind and times stay.
CREATE TABLE outbox (
    id              TEXT   PRIMARY KEY,
    -- what it is: signin, reset, verify, email_change, or a notice
    kind            TEXT   NOT NULL,
    recipient       TEXT   NOT NULL,
    -- the whole message (RFC 5322, its parts already encoded); '' once finished
    message         TEXT   NOT NULL DEFAULT '',
    -- queued, sent or abandoned
    status          TEXT   NOT NULL DEFAULT 'queued',
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    -- until when the instance that claimed it may send it
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT   NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    finished_at     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);
CREATE INDEX outbox_recipient_idx ON outbox (recipient);

-- A link's token (and, for sign-in, a 6-digit code) sent by email, kept only as
-- hashes: single use (consumed by one DELETE ... RETURNING), bound to its purpose and
-- to the address it was sent to, dead after its lifetime, a newer use of its kind, or
-- a change of the password or email.
CREATE TABLE email_tokens (
    -- SHA-256 of the link's token
    token_hash   TEXT   PRIMARY KEY,
    -- HMAC-SHA256 (under AUTH_SECRET) of the 6-digit code; '' when there is none
    code_hash    TEXT   NOT NULL DEFAULT '',
    -- signin, reset, verify or email_change
    purpose      TEXT   NOT NULL,
    -- the address it was sent to (for email_change, the new address)
    email        TEXT   NOT NULL,
    -- the account it is for; '' for a sign-in of an address with no account yet
    user_id      TEXT   NOT NULL DEFAULT '',
    callback_url TEXT   NOT NULL DEFAULT '',
    -- wrong codes tried; at 5 the code dies
    attempts     BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX email_tokens_email_idx ON email_tokens (purpose, email);
CREATE INDEX email_tokens_user_idx ON email_tokens (user_id);
CREATE INDEX email_tokens_expires_at_idx ON email_tokens (expires_at);
