DROP TABLE setting_changes;
