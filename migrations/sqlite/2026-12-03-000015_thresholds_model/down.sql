ALTER TABLE sites DROP COLUMN thresholds_model;
