-- What each sponsorship level buys (PostgreSQL; the twin has the same stem), with an optional post template (checked
-- against a sample sponsor when saved) that /benefit confirm renders for one sponsor.
CREATE TABLE benefits (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id  BIGINT NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    level          TEXT NOT NULL,
    name           TEXT NOT NULL,
    template       TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (conference_id, level, name)
);
