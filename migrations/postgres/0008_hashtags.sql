-- Conference hashtags (PostgreSQL; the SQLite twin has the same stem). Those with `auto_add` are appended to
-- news posts after a blank line, in `sort_key` order; all of them are offered to people writing a post.
-- Campaign and sponsor-benefit posts never get them added (their templates decide).
CREATE TABLE hashtags (
    conference_id  BIGINT NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    tag            TEXT NOT NULL,
    auto_add       BOOLEAN NOT NULL DEFAULT FALSE,
    sort_key       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (conference_id, tag)
);
