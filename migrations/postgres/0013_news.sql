-- News (PostgreSQL; the twin has the same stem): a conference's news feed (RSS or Atom, polled) and every item ever
-- posted, so an item is posted once, ever, whether it came from the feed or from /news.
ALTER TABLE conferences ADD COLUMN news_feed_url TEXT;
ALTER TABLE conferences ADD COLUMN news_checked_at TIMESTAMPTZ;
ALTER TABLE conferences ADD COLUMN news_error TEXT;
-- The first read of a feed only learns what is already there (nothing is posted for the back catalogue).
ALTER TABLE conferences ADD COLUMN news_primed BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE news_items (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id  BIGINT NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    -- The feed entry's id, or the link of a /news item.
    guid           TEXT NOT NULL,
    title          TEXT NOT NULL,
    url            TEXT,
    post_id        BIGINT REFERENCES posts (id) ON DELETE SET NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (conference_id, guid)
);
