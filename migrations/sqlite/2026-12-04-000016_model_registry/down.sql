DROP TABLE shadow_scores;
DROP TABLE model_events;
DROP TABLE models;
