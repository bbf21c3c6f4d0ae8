DROP TABLE decisions;
DROP TABLE comments;
DROP TABLE authors;
DROP TABLE threads;
DROP TABLE api_keys;
DROP TABLE sites;
DROP TABLE instance_settings;
