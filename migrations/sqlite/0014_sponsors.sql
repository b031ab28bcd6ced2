-- Sponsors of a conference (SQLite; the twin has the same stem): name, level, address, and a handle per network
-- (JSON {"mastodon": "@x@y", "bluesky": "@x.bsky.social"}), for thank-you campaigns and benefit posts.
CREATE TABLE sponsors (
    id             INTEGER PRIMARY KEY,
    conference_id  INTEGER NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    level          TEXT NOT NULL,
    url            TEXT,
    handles        TEXT NOT NULL DEFAULT '{}',
    created_at     TEXT NOT NULL,
    UNIQUE (conference_id, name)
);
