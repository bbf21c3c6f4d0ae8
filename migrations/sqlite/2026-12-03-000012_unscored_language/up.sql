-- What a site does with comments in a language its model does not score (German, Arabic, …):
-- `review` (hold, the default), `allow` (rules only) or `reject`.
ALTER TABLE sites ADD COLUMN unscored_language TEXT NOT NULL DEFAULT 'review';
