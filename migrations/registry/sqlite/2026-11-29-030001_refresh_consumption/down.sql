ALTER TABLE jwt_token DROP COLUMN grace_used_at;
ALTER TABLE jwt_token DROP COLUMN consumed_at;
