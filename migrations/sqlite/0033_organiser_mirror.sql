-- The organisers' mirror: every organiser notice also goes to the conference's notification address
-- (`/conference email <address>`), at most one mail per kind of notice every ten minutes. A batch is one
-- such mail: the first notice of a kind goes at once as a batch of its own; the ones that follow within
-- ten minutes of the last batch are gathered into the next, due ten minutes after it.
ALTER TABLE conferences ADD COLUMN notify_email TEXT;

CREATE TABLE organiser_mail_batches (
    id             INTEGER PRIMARY KEY,
    conference_id  INTEGER NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    -- The notice's template (`notify_import`, …): the kind that is limited.
    kind           TEXT NOT NULL,
    due_at         TEXT NOT NULL,
    -- The notices gathered, as a JSON array of their HTML.
    items          TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX organiser_mail_batches_latest ON organiser_mail_batches (conference_id, kind, due_at);
