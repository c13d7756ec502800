-- The demo app's users (jwt-server). Not part of the registry's tables.
CREATE TABLE demo_user (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    last_login TIMESTAMPTZ NULL,
    tokens_valid_since TIMESTAMPTZ NULL,
    created_at TIMESTAMPTZ NOT NULL
);
