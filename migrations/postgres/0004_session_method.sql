-- How each session was signed in: 'password', or the provider's id ('google',
-- 'github'). Unlinking a provider ends the sessions signed in through it. '' for
-- sessions from before this was recorded.
ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT '';
