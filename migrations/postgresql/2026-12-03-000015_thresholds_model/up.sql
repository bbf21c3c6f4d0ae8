-- The model version a site's own thresholds were saved for: when the default model changes,
-- GET /v1/site flags them instead of silently reusing them on a new score scale. NULL: no
-- thresholds of its own, or saved before Vigie recorded the version.
ALTER TABLE sites ADD COLUMN thresholds_model TEXT;
