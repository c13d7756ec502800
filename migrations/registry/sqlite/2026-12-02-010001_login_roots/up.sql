-- Each token knows its login's root (the token its family grew from) and
-- its user, so that a user's live sessions, a login's live access tokens
-- and a whole family are found through an index, however many dead tokens
-- a user holds. Both are kept by registration (a late registration that
-- re-links a subtree moves its root too).
ALTER TABLE jwt_token ADD COLUMN root_id TEXT NULL;
ALTER TABLE jwt_token ADD COLUMN user_id TEXT NULL;
-- Set on a login's root when the whole login was cut off (logout, a
-- replayed refresh token, expire with affect_tree): a registration landing
-- later that links this root into a bigger login cuts that one too.
ALTER TABLE jwt_token ADD COLUMN login_cut_at TEXT NULL;
WITH RECURSIVE family(id, root_id) AS (
    SELECT id, id FROM jwt_token WHERE parent_id IS NULL
    UNION
    SELECT t.id, family.root_id FROM jwt_token t JOIN family ON t.parent_id = family.id
)
UPDATE jwt_token SET root_id = family.root_id FROM family WHERE family.id = jwt_token.id;
-- Rows in a parent cycle (only a hand edit makes one) are roots of their own.
UPDATE jwt_token SET root_id = id WHERE root_id IS NULL;
UPDATE jwt_token SET user_id = (
    SELECT MIN(c.user_id) FROM jwt_token_user_connection c WHERE c.token_id = jwt_token.id
);
CREATE INDEX jwt_token_root ON jwt_token (root_id, created_at);
-- Tokens not force-expired, by login and by user (naturally expired ones
-- stay until archived; range conditions on internal_expired_at skip them).
CREATE INDEX jwt_token_root_alive ON jwt_token (root_id, token_type, internal_expired_at)
    WHERE expired_at >= internal_expired_at;
CREATE INDEX jwt_token_user_alive ON jwt_token (user_id, token_type, internal_expired_at)
    WHERE expired_at >= internal_expired_at;

-- "Log out everywhere": tokens of the user issued (iat, Unix seconds) at or
-- before issued_until are refused, registered or not.
CREATE TABLE jwt_user_cutoff (
    user_id TEXT PRIMARY KEY NOT NULL,
    issued_until BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- SQLite only: every force-expiry and cut-off, in commit order (writers are
-- serialised), so that each process's cached revocation list reads what
-- changed instead of reloading. PostgreSQL carries the same in NOTIFY
-- payloads. Rows past `until` are deleted by the archiver (never the last).
CREATE TABLE jwt_revocation_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    jti TEXT NULL,
    user_id TEXT NULL,
    issued_until BIGINT NULL,
    until TEXT NOT NULL
);
CREATE INDEX jwt_revocation_log_until ON jwt_revocation_log (until);
