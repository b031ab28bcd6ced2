-- The schedule (PostgreSQL; the SQLite twin has the same stem).
--
-- Sessions are imported from the conference's own schedule tool and matched on the source's stable id
-- (frab/pretalx guid, an ICS UID), so a re-import can tell what was added, moved, changed, cancelled and
-- removed. A session that disappears from the source is kept as `removed`, not deleted: reminders and
-- follows point at it, and the organisers may want to know it existed.
CREATE TABLE sessions (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id  BIGINT NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    source_id      TEXT NOT NULL,
    title          TEXT NOT NULL,
    track          TEXT,
    room           TEXT,
    starts_at      TIMESTAMPTZ NOT NULL,
    ends_at        TIMESTAMPTZ NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled', 'removed')),
    url            TEXT,
    -- The speakers as the source lists them: [{"source_id", "name", "handles": {network: handle}}].
    speakers       TEXT NOT NULL DEFAULT '[]',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (conference_id, source_id)
);
CREATE INDEX sessions_by_start ON sessions (conference_id, starts_at);

-- How far ahead reminders go out, per conference (minutes before the start).
ALTER TABLE conferences ADD COLUMN session_reminder_minutes BIGINT NOT NULL DEFAULT 10;
ALTER TABLE conferences ADD COLUMN speaker_reminder_minutes BIGINT NOT NULL DEFAULT 15;
