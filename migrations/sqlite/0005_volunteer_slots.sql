-- Volunteer shifts (SQLite; the PostgreSQL twin has the same stem): created by admins or imported from a
-- CSV, given to volunteers, who get a reminder before each one (deadline: the shift's start).
CREATE TABLE volunteer_slots (
    id             INTEGER PRIMARY KEY,
    conference_id  INTEGER NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    title          TEXT NOT NULL,
    starts_at      TEXT NOT NULL,
    ends_at        TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX volunteer_slots_by_start ON volunteer_slots (conference_id, starts_at);

CREATE TABLE volunteer_assignments (
    slot_id      INTEGER NOT NULL REFERENCES volunteer_slots (id) ON DELETE CASCADE,
    person_id    INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    assigned_at  TEXT NOT NULL,
    PRIMARY KEY (slot_id, person_id)
);

ALTER TABLE conferences ADD COLUMN volunteer_reminder_minutes INTEGER NOT NULL DEFAULT 15;
