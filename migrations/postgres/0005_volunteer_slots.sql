-- Volunteer shifts (PostgreSQL; the SQLite twin has the same stem): created by admins or imported from a
-- CSV, given to volunteers, who get a reminder before each one (deadline: the shift's start).
CREATE TABLE volunteer_slots (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id  BIGINT NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    title          TEXT NOT NULL,
    starts_at      TIMESTAMPTZ NOT NULL,
    ends_at        TIMESTAMPTZ NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX volunteer_slots_by_start ON volunteer_slots (conference_id, starts_at);

CREATE TABLE volunteer_assignments (
    slot_id      BIGINT NOT NULL REFERENCES volunteer_slots (id) ON DELETE CASCADE,
    person_id    BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    assigned_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (slot_id, person_id)
);

ALTER TABLE conferences ADD COLUMN volunteer_reminder_minutes BIGINT NOT NULL DEFAULT 15;
