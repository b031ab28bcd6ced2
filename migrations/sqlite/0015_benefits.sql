-- What each sponsorship level buys (SQLite; the twin has the same stem), with an optional post template (checked
-- against a sample sponsor when saved) that /benefit confirm renders for one sponsor.
CREATE TABLE benefits (
    id             INTEGER PRIMARY KEY,
    conference_id  INTEGER NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    level          TEXT NOT NULL,
    name           TEXT NOT NULL,
    template       TEXT,
    created_at     TEXT NOT NULL,
    UNIQUE (conference_id, level, name)
);
