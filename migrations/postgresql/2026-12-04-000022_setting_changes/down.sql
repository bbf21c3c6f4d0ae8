DROP TABLE setting_changes;
DROP FUNCTION setting_changes_append_only();
