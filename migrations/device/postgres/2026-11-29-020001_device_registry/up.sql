-- The device registry (docs/registry.md). Shared rows (app, OS, device,
-- interlocutor, network) are found again by the SHA-256 digest of their
-- normalised key fields; their ids are derived from it.
CREATE TABLE jwt_app (
    id UUID PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    family TEXT NULL,
    version TEXT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE jwt_os (
    id UUID PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    family TEXT NULL,
    version TEXT NULL,
    arch TEXT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE jwt_device (
    id UUID PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    family TEXT NULL,
    brand TEXT NULL,
    model TEXT NULL,
    bitness TEXT NULL,
    memory DOUBLE PRECISION NULL,
    dpr DOUBLE PRECISION NULL,
    viewport_width INTEGER NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE jwt_interlocutor (
    id UUID PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    os_id UUID NULL REFERENCES jwt_os (id) ON DELETE SET NULL,
    app_id UUID NULL REFERENCES jwt_app (id) ON DELETE SET NULL,
    device_id UUID NULL REFERENCES jwt_device (id) ON DELETE SET NULL,
    outer_id TEXT NULL,
    user_agent TEXT NOT NULL,
    client_hints JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE jwt_interlocutor_network (
    id UUID PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    interlocutor_id UUID NOT NULL REFERENCES jwt_interlocutor (id) ON DELETE CASCADE,
    ip TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX jwt_interlocutor_network_interlocutor_id ON jwt_interlocutor_network (interlocutor_id);

CREATE TABLE jwt_token_interlocutor_connection (
    id UUID PRIMARY KEY,
    interlocutor_id UUID NOT NULL REFERENCES jwt_interlocutor (id) ON DELETE CASCADE,
    network_id UUID NULL REFERENCES jwt_interlocutor_network (id) ON DELETE SET NULL,
    token_id UUID NOT NULL UNIQUE REFERENCES jwt_token (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX jwt_token_interlocutor_connection_interlocutor_id ON jwt_token_interlocutor_connection (interlocutor_id);
CREATE INDEX jwt_token_interlocutor_connection_network_id ON jwt_token_interlocutor_connection (network_id);

-- One row inserted here per token connects it: the trigger gets or creates
-- the app, OS, device, interlocutor and network rows and the connection, in
-- one statement of the registration's transaction.
CREATE VIEW jwt_interlocutor_intake AS SELECT
    NULL::uuid AS token_id, NULL::uuid AS connection_id, NULL::timestamptz AS now,
    NULL::uuid AS app_id, NULL::text AS app_digest, NULL::text AS app_family, NULL::text AS app_version,
    NULL::uuid AS os_id, NULL::text AS os_digest, NULL::text AS os_family, NULL::text AS os_version, NULL::text AS os_arch,
    NULL::uuid AS device_id, NULL::text AS device_digest, NULL::text AS device_family, NULL::text AS device_brand,
    NULL::text AS device_model, NULL::text AS device_bitness, NULL::double precision AS device_memory,
    NULL::double precision AS device_dpr, NULL::integer AS device_viewport_width,
    NULL::uuid AS interlocutor_id, NULL::text AS interlocutor_digest, NULL::text AS outer_id, NULL::text AS user_agent,
    NULL::jsonb AS client_hints,
    NULL::uuid AS network_id, NULL::text AS network_digest, NULL::text AS ip
WHERE false;

CREATE FUNCTION jwt_interlocutor_intake_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A token already connected keeps its connection, and nothing is
    -- stored for the new request (no address without a token).
    IF EXISTS (SELECT 1 FROM jwt_token_interlocutor_connection WHERE token_id = NEW.token_id) THEN
        RETURN NEW;
    END IF;
    -- A known interlocutor (the usual case) has its app, OS and device. It
    -- is locked until commit, so the archiver's cleanup cannot remove it
    -- under this connection (the cleanup skips locked rows); one the
    -- cleanup is removing is waited for and then made again. ON CONFLICT:
    -- another transaction may be creating the same rows.
    PERFORM 1 FROM jwt_interlocutor WHERE id = NEW.interlocutor_id FOR KEY SHARE;
    IF NOT FOUND THEN
        IF NEW.app_id IS NOT NULL THEN
            INSERT INTO jwt_app (id, digest, family, version, created_at, updated_at)
            VALUES (NEW.app_id, NEW.app_digest, NEW.app_family, NEW.app_version, NEW.now, NEW.now)
            ON CONFLICT DO NOTHING;
        END IF;
        IF NEW.os_id IS NOT NULL THEN
            INSERT INTO jwt_os (id, digest, family, version, arch, created_at, updated_at)
            VALUES (NEW.os_id, NEW.os_digest, NEW.os_family, NEW.os_version, NEW.os_arch, NEW.now, NEW.now)
            ON CONFLICT DO NOTHING;
        END IF;
        IF NEW.device_id IS NOT NULL THEN
            INSERT INTO jwt_device (id, digest, family, brand, model, bitness, memory, dpr, viewport_width, created_at, updated_at)
            VALUES (NEW.device_id, NEW.device_digest, NEW.device_family, NEW.device_brand, NEW.device_model,
                    NEW.device_bitness, NEW.device_memory, NEW.device_dpr, NEW.device_viewport_width, NEW.now, NEW.now)
            ON CONFLICT DO NOTHING;
        END IF;
        INSERT INTO jwt_interlocutor (id, digest, os_id, app_id, device_id, outer_id, user_agent, client_hints, created_at, updated_at)
        VALUES (NEW.interlocutor_id, NEW.interlocutor_digest, NEW.os_id, NEW.app_id, NEW.device_id,
                NEW.outer_id, NEW.user_agent, NEW.client_hints, NEW.now, NEW.now)
        ON CONFLICT DO NOTHING;
    END IF;
    IF NEW.network_id IS NOT NULL THEN
        PERFORM 1 FROM jwt_interlocutor_network WHERE id = NEW.network_id FOR KEY SHARE;
        IF NOT FOUND THEN
            INSERT INTO jwt_interlocutor_network (id, digest, interlocutor_id, ip, created_at, updated_at)
            VALUES (NEW.network_id, NEW.network_digest, NEW.interlocutor_id, NEW.ip, NEW.now, NEW.now)
            ON CONFLICT DO NOTHING;
        END IF;
    END IF;
    INSERT INTO jwt_token_interlocutor_connection (id, interlocutor_id, network_id, token_id, created_at, updated_at)
    VALUES (NEW.connection_id, NEW.interlocutor_id, NEW.network_id, NEW.token_id, NEW.now, NEW.now)
    ON CONFLICT DO NOTHING;
    RETURN NEW;
END
$$;

CREATE TRIGGER jwt_interlocutor_intake_insert INSTEAD OF INSERT ON jwt_interlocutor_intake
FOR EACH ROW EXECUTE FUNCTION jwt_interlocutor_intake_insert();
