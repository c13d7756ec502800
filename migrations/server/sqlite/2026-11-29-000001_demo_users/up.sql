-- The demo app's users (jwt-server). Not part of the registry's tables.
CREATE TABLE demo_user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT 1,
    last_login TEXT NULL,
    tokens_valid_since TEXT NULL,
    created_at TEXT NOT NULL
);
