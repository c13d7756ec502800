-- Refresh-token reuse detection ([auth] reuse_detection): when a refresh
-- token was used (one conditional update claims it), and when its one
-- retry within reuse_grace_seconds was spent.
ALTER TABLE jwt_token ADD COLUMN consumed_at TEXT NULL;
ALTER TABLE jwt_token ADD COLUMN grace_used_at TEXT NULL;
