-- The model registry (issue 17): model directories registered for a site, at most one active
-- and one shadow per site (a site with no active model scores with the shipped default), the
-- changes to it (who, when, from which version to which), and what a shadow model would have
-- decided for each comment it scored beside the active one.
CREATE TABLE models (
    id BIGSERIAL PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    version TEXT NOT NULL,
    -- Absolute path of the model directory on the server.
    path TEXT NOT NULL,
    -- SHA-256 of model.json, and of the weights as model.json records it.
    sha256 TEXT NOT NULL,
    weights_sha256 TEXT NOT NULL,
    -- registered | shadow | active | retired
    status TEXT NOT NULL,
    -- The model that was active when this one was activated (rollback returns to it; NULL:
    -- the shipped default).
    replaced_id BIGINT REFERENCES models (id),
    registered_by TEXT NOT NULL,
    registered_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (site_id, version)
);
-- At most one active and one shadow model per site.
CREATE UNIQUE INDEX models_in_use ON models (site_id, status) WHERE status IN ('active', 'shadow');

CREATE TABLE model_events (
    id BIGSERIAL PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    -- register | shadow | activate | rollback
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    -- The site's active (or, for shadow, shadow) version before and after; NULL: the default
    -- model (or no shadow).
    from_version TEXT,
    to_version TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX model_events_site ON model_events (site_id, id);

CREATE TABLE shadow_scores (
    comment_id BIGINT NOT NULL REFERENCES comments (id),
    model_id BIGINT NOT NULL REFERENCES models (id),
    toxicity DOUBLE PRECISION NOT NULL,
    spam DOUBLE PRECISION NOT NULL,
    -- allow | review | reject, as the shadow model would have advised
    decision TEXT NOT NULL,
    -- The active model's version and advice when the comment was taken in.
    active_version TEXT NOT NULL,
    active_decision TEXT NOT NULL,
    -- The shadow verdict's reasons (JSON array of strings).
    reasons TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (model_id, comment_id)
);
