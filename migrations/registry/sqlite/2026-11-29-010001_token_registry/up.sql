-- The token registry (docs/registry.md). Ids: lowercase hyphenated UUIDs.
-- Timestamps: 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, so text order is time order.
CREATE TABLE jwt_token (
    id TEXT PRIMARY KEY NOT NULL,
    jti TEXT NOT NULL,
    token_type TEXT NOT NULL,
    token_digest TEXT NOT NULL,
    payload TEXT NOT NULL,
    parent_id TEXT NULL REFERENCES jwt_token (id) ON DELETE SET NULL,
    expired_at TEXT NOT NULL,
    internal_expired_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX jwt_token_jti ON jwt_token (jti);
-- Tree walks go down through parent_id.
CREATE INDEX jwt_token_parent_id ON jwt_token (parent_id);
-- The archiver deletes by the token's own expiry.
CREATE INDEX jwt_token_internal_expired_at ON jwt_token (internal_expired_at);
-- The revocation list: force-expired tokens not yet past their own expiry.
CREATE INDEX jwt_token_force_expired ON jwt_token (internal_expired_at) WHERE expired_at < internal_expired_at;

CREATE TABLE jwt_token_user_connection (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL,
    token_id TEXT NOT NULL REFERENCES jwt_token (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (user_id, token_id)
);
CREATE INDEX jwt_token_user_connection_token_id ON jwt_token_user_connection (token_id);
