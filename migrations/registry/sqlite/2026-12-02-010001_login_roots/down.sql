DROP TABLE jwt_revocation_log;
DROP TABLE jwt_user_cutoff;
DROP INDEX jwt_token_user_alive;
DROP INDEX jwt_token_root_alive;
DROP INDEX jwt_token_root;
ALTER TABLE jwt_token DROP COLUMN login_cut_at;
ALTER TABLE jwt_token DROP COLUMN user_id;
ALTER TABLE jwt_token DROP COLUMN root_id;
