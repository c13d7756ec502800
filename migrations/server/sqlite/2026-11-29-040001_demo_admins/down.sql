ALTER TABLE demo_user DROP COLUMN is_admin;
