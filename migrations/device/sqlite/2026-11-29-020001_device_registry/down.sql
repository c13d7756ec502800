DROP TRIGGER jwt_interlocutor_intake_insert;
DROP VIEW jwt_interlocutor_intake;
DROP TABLE jwt_token_interlocutor_connection;
DROP TABLE jwt_interlocutor_network;
DROP TABLE jwt_interlocutor;
DROP TABLE jwt_device;
DROP TABLE jwt_os;
DROP TABLE jwt_app;
