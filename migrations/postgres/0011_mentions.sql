-- Mentions of a conference's accounts on Mastodon and Bluesky, heard by the listeners (PostgreSQL; the twin has the same
-- stem). One row per (provider, platform id), however often a notification is seen. A mention belongs to the
-- conference its provider routes incoming messages to (providers.incoming_conference_id, set by
-- `/switch <provider> moderation on`).
CREATE TABLE mentions (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id       BIGINT NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    provider_id         BIGINT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    -- Mastodon: the status id; Bluesky: the post's at:// URI.
    platform_id         TEXT NOT NULL,
    -- Bluesky: the post's CID, and the thread root it replies in (for a reply's root reference).
    platform_cid        TEXT,
    root_id             TEXT,
    root_cid            TEXT,
    -- mention, reply or quote.
    kind                TEXT NOT NULL,
    visibility          TEXT,
    author_platform_id  TEXT NOT NULL,
    author_handle       TEXT NOT NULL,
    author_name         TEXT NOT NULL,
    text                TEXT NOT NULL,
    url                 TEXT,
    state               TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'replied', 'discarded', 'boosted')),
    acted_by            BIGINT REFERENCES people (id) ON DELETE SET NULL,
    acted_at            TIMESTAMPTZ,
    written_at          TIMESTAMPTZ NOT NULL,
    received_at         TIMESTAMPTZ NOT NULL,
    UNIQUE (provider_id, platform_id)
);
CREATE INDEX mentions_by_state ON mentions (conference_id, state, id);

-- What each listener has stored so far and how it is doing: Mastodon's newest notification id, Bluesky's newest
-- indexedAt. Written in the transaction that stores the notifications, so a restart resumes where it stopped.
CREATE TABLE listener_checkpoints (
    provider_id        BIGINT PRIMARY KEY REFERENCES providers (id) ON DELETE CASCADE,
    cursor             TEXT,
    -- connected, catching_up, failing
    state              TEXT NOT NULL,
    last_error         TEXT,
    last_event_at      TIMESTAMPTZ,
    failing_since      TIMESTAMPTZ,
    -- Whether the organisers were told about the current failure (one notice, and one on recovery).
    failure_notified   BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at         TIMESTAMPTZ NOT NULL
);

-- A post answering a mention goes to the mention's network only, as a reply to it.
ALTER TABLE posts ADD COLUMN reply_to_mention_id BIGINT REFERENCES mentions (id) ON DELETE SET NULL;
