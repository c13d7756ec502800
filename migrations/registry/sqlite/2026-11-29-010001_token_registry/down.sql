DROP TABLE jwt_token_user_connection;
DROP TABLE jwt_token;
