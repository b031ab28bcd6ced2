-- Campaigns: many posts from one template over conference data (PostgreSQL; the twin has the same stem). A draft
-- holds what the organiser chose and the template; its seed makes the jitter of the preview the jitter of the
-- posts. Confirming creates every post in one transaction, or none.
CREATE TABLE campaigns (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id  BIGINT NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    -- sessions or sponsors
    kind           TEXT NOT NULL,
    -- JSON: the tracks (or levels) chosen, and the options (start, every, jitter, providers, order).
    filters        TEXT NOT NULL,
    options        TEXT NOT NULL,
    template       TEXT,
    seed           BIGINT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('draft', 'created', 'cancelled')),
    created_by     BIGINT REFERENCES people (id) ON DELETE SET NULL,
    posts_created  BIGINT NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

-- The providers a post goes to (a JSON list of ids); NULL means every provider broadcasting for its conference.
ALTER TABLE posts ADD COLUMN provider_ids TEXT;
-- The campaign a post came from.
ALTER TABLE posts ADD COLUMN campaign_id BIGINT REFERENCES campaigns (id) ON DELETE SET NULL;
