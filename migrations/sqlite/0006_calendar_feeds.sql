-- Personal calendar feeds (SQLite; the PostgreSQL twin has the same stem). The feed URL carries a random
-- token; only its SHA-256 is stored, so asking for the link again issues a new one and the old URL stops
-- working.
CREATE TABLE calendar_feeds (
    token_hash     TEXT PRIMARY KEY,
    person_id      INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    conference_id  INTEGER NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    created_at     TEXT NOT NULL,
    UNIQUE (person_id, conference_id)
);
