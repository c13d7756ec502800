DROP TABLE demo_user;
