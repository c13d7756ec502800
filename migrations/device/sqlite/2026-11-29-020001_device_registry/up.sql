-- The device registry (docs/registry.md). Shared rows (app, OS, device,
-- interlocutor, network) are found again by the SHA-256 digest of their
-- normalised key fields; their ids are derived from it.
CREATE TABLE jwt_app (
    id TEXT PRIMARY KEY NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    family TEXT NULL,
    version TEXT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE jwt_os (
    id TEXT PRIMARY KEY NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    family TEXT NULL,
    version TEXT NULL,
    arch TEXT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE jwt_device (
    id TEXT PRIMARY KEY NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    family TEXT NULL,
    brand TEXT NULL,
    model TEXT NULL,
    bitness TEXT NULL,
    memory REAL NULL,
    dpr REAL NULL,
    viewport_width INTEGER NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE jwt_interlocutor (
    id TEXT PRIMARY KEY NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    os_id TEXT NULL REFERENCES jwt_os (id) ON DELETE SET NULL,
    app_id TEXT NULL REFERENCES jwt_app (id) ON DELETE SET NULL,
    device_id TEXT NULL REFERENCES jwt_device (id) ON DELETE SET NULL,
    outer_id TEXT NULL,
    user_agent TEXT NOT NULL,
    client_hints TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE jwt_interlocutor_network (
    id TEXT PRIMARY KEY NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    interlocutor_id TEXT NOT NULL REFERENCES jwt_interlocutor (id) ON DELETE CASCADE,
    ip TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX jwt_interlocutor_network_interlocutor_id ON jwt_interlocutor_network (interlocutor_id);

CREATE TABLE jwt_token_interlocutor_connection (
    id TEXT PRIMARY KEY NOT NULL,
    interlocutor_id TEXT NOT NULL REFERENCES jwt_interlocutor (id) ON DELETE CASCADE,
    network_id TEXT NULL REFERENCES jwt_interlocutor_network (id) ON DELETE SET NULL,
    token_id TEXT NOT NULL UNIQUE REFERENCES jwt_token (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX jwt_token_interlocutor_connection_interlocutor_id ON jwt_token_interlocutor_connection (interlocutor_id);
CREATE INDEX jwt_token_interlocutor_connection_network_id ON jwt_token_interlocutor_connection (network_id);

-- One row inserted here per token connects it: the trigger gets or creates
-- the app, OS, device, interlocutor and network rows and the connection, in
-- one statement of the registration's transaction.
CREATE VIEW jwt_interlocutor_intake AS SELECT
    NULL AS token_id, NULL AS connection_id, NULL AS now,
    NULL AS app_id, NULL AS app_digest, NULL AS app_family, NULL AS app_version,
    NULL AS os_id, NULL AS os_digest, NULL AS os_family, NULL AS os_version, NULL AS os_arch,
    NULL AS device_id, NULL AS device_digest, NULL AS device_family, NULL AS device_brand,
    NULL AS device_model, NULL AS device_bitness, NULL AS device_memory, NULL AS device_dpr,
    NULL AS device_viewport_width,
    NULL AS interlocutor_id, NULL AS interlocutor_digest, NULL AS outer_id, NULL AS user_agent,
    NULL AS client_hints,
    NULL AS network_id, NULL AS network_digest, NULL AS ip
WHERE 0;

CREATE TRIGGER jwt_interlocutor_intake_insert INSTEAD OF INSERT ON jwt_interlocutor_intake
FOR EACH ROW
-- A token already connected keeps its connection, and nothing is stored
-- for the new request (no address without a token).
WHEN NOT EXISTS (SELECT 1 FROM jwt_token_interlocutor_connection WHERE token_id = NEW.token_id)
BEGIN
    -- A known interlocutor (the usual case) has its app, OS and device.
    INSERT INTO jwt_app (id, digest, family, version, created_at, updated_at)
        SELECT NEW.app_id, NEW.app_digest, NEW.app_family, NEW.app_version, NEW.now, NEW.now
        WHERE NEW.app_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM jwt_interlocutor WHERE id = NEW.interlocutor_id)
        ON CONFLICT DO NOTHING;
    INSERT INTO jwt_os (id, digest, family, version, arch, created_at, updated_at)
        SELECT NEW.os_id, NEW.os_digest, NEW.os_family, NEW.os_version, NEW.os_arch, NEW.now, NEW.now
        WHERE NEW.os_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM jwt_interlocutor WHERE id = NEW.interlocutor_id)
        ON CONFLICT DO NOTHING;
    INSERT INTO jwt_device (id, digest, family, brand, model, bitness, memory, dpr, viewport_width, created_at, updated_at)
        SELECT NEW.device_id, NEW.device_digest, NEW.device_family, NEW.device_brand, NEW.device_model,
               NEW.device_bitness, NEW.device_memory, NEW.device_dpr, NEW.device_viewport_width, NEW.now, NEW.now
        WHERE NEW.device_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM jwt_interlocutor WHERE id = NEW.interlocutor_id)
        ON CONFLICT DO NOTHING;
    INSERT INTO jwt_interlocutor (id, digest, os_id, app_id, device_id, outer_id, user_agent, client_hints, created_at, updated_at)
        SELECT NEW.interlocutor_id, NEW.interlocutor_digest, NEW.os_id, NEW.app_id, NEW.device_id,
               NEW.outer_id, NEW.user_agent, NEW.client_hints, NEW.now, NEW.now
        WHERE NOT EXISTS (SELECT 1 FROM jwt_interlocutor WHERE id = NEW.interlocutor_id)
        ON CONFLICT DO NOTHING;
    INSERT INTO jwt_interlocutor_network (id, digest, interlocutor_id, ip, created_at, updated_at)
        SELECT NEW.network_id, NEW.network_digest, NEW.interlocutor_id, NEW.ip, NEW.now, NEW.now
        WHERE NEW.network_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM jwt_interlocutor_network WHERE id = NEW.network_id)
        ON CONFLICT DO NOTHING;
    INSERT INTO jwt_token_interlocutor_connection (id, interlocutor_id, network_id, token_id, created_at, updated_at)
        VALUES (NEW.connection_id, NEW.interlocutor_id, NEW.network_id, NEW.token_id, NEW.now, NEW.now)
        ON CONFLICT DO NOTHING;
END;
