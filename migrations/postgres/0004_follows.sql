-- Personal reminders (PostgreSQL; the SQLite twin has the same stem).
--
-- An attendee follows a session (by its number) or a pattern (a regular expression over titles, so
-- sessions added by later imports are followed too). Speakers are tied to the schedule by the identity
-- their invite named (the speaker's id or name in the schedule), so their reminders reach the right chat.
CREATE TABLE follows (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id      BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    conference_id  BIGINT NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    session_id     BIGINT REFERENCES sessions (id) ON DELETE CASCADE,
    pattern        TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    CHECK ((session_id IS NULL) <> (pattern IS NULL))
);
CREATE UNIQUE INDEX follows_session ON follows (person_id, session_id) WHERE session_id IS NOT NULL;
CREATE UNIQUE INDEX follows_pattern ON follows (person_id, conference_id, pattern) WHERE pattern IS NOT NULL;

CREATE TABLE speaker_links (
    person_id      BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    conference_id  BIGINT NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    -- The speaker's source id or name as the schedule has it, lowercased.
    speaker_key    TEXT NOT NULL,
    linked_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (conference_id, speaker_key)
);
