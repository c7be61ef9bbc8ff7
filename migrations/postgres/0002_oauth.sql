-- Provider accounts linked to users, and OAuth flows in progress.

-- One row per provider account linked to a user. Users are matched by the provider's
-- stable id (Google's `sub`, GitHub's numeric id), never by email or login, which
-- can change hands. No provider token is stored: the profile is read once, at sign-in.
CREATE TABLE accounts (
    id                  TEXT    PRIMARY KEY,
    user_id             TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider            TEXT    NOT NULL,
    provider_account_id TEXT    NOT NULL,
    -- what the account page shows: the provider's email and login at the last sign-in
    email               TEXT    NOT NULL DEFAULT '',
    label               TEXT    NOT NULL DEFAULT '',
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);
CREATE UNIQUE INDEX accounts_provider_account_key ON accounts (provider, provider_account_id);
CREATE UNIQUE INDEX accounts_user_provider_key ON accounts (user_id, provider);

-- An OAuth flow between its start and the provider's callback: single use (the
-- callback deletes the row it reads), ten minutes at most, and bound to the browser
-- that started it by a random value in its flow cookie, kept here only as a hash.
CREATE TABLE oauth_flows (
    -- SHA-256 of the `state` parameter sent to the provider
    state_hash    TEXT    PRIMARY KEY,
    -- SHA-256 of the browser's flow cookie
    binding_hash  TEXT    NOT NULL,
    provider      TEXT    NOT NULL,
    -- PKCE (S256): useless without the authorization code, which only our callback gets
    pkce_verifier TEXT    NOT NULL,
    callback_url  TEXT    NOT NULL,
    -- the signed-in user connecting a provider from the account page; '' for a sign-in
    link_user_id  TEXT    NOT NULL DEFAULT '',
    expires_at    BIGINT  NOT NULL
);
CREATE INDEX oauth_flows_expires_at_idx ON oauth_flows (expires_at);
