-- Calendar invitations (iTIP over e-mail, RFC 5546 / RFC 6047): one row per (session or shift, person).
-- The row is what makes an invitation update itself: its UID never changes, its SEQUENCE rises with each
-- update or cancellation mailed, and the event as last mailed (times, room, title) is kept so the next
-- schedule import can tell whether the person's calendar is out of date.
CREATE TABLE calendar_invitations (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id  BIGINT NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    person_id      BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- 'session' (a talk one speaks in, or one asked for) or 'shift' (a volunteer slot).
    subject        TEXT NOT NULL,
    -- The session's or the volunteer slot's id.
    subject_id     BIGINT NOT NULL,
    -- 'speaker', 'volunteer' or 'asked': why the person has it. An asked-for invitation stays while the
    -- session does; the others stay while the person speaks in it or holds the shift.
    origin         TEXT NOT NULL,
    -- The address it was mailed to: updates and cancellations go where the invitation went.
    address        TEXT NOT NULL,
    uid            TEXT NOT NULL UNIQUE,
    sequence       BIGINT NOT NULL DEFAULT 0,
    -- 'active' or 'cancelled' (a METHOD:CANCEL was mailed).
    state          TEXT NOT NULL DEFAULT 'active',
    title          TEXT NOT NULL,
    location       TEXT,
    starts_at      TIMESTAMPTZ NOT NULL,
    ends_at        TIMESTAMPTZ NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (subject, subject_id, person_id)
);
CREATE INDEX calendar_invitations_conference ON calendar_invitations (conference_id, person_id);
