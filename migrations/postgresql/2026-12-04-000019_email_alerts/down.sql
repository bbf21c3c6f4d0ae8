DROP TABLE mail_outbox;
DROP TABLE alert_preferences;
