-- Demo users the admin API is open to (jwt-server user create --admin, user set-admin).
ALTER TABLE demo_user ADD COLUMN is_admin BOOLEAN NOT NULL DEFAULT FALSE;
