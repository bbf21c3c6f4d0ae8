DROP INDEX comments_connection_data;
ALTER TABLE sites DROP COLUMN coral_secrets;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
