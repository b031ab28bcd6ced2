-- Schedules that live at a URL (PostgreSQL; the SQLite twin has the same stem): Herald fetches and
-- re-imports them every `schedule_sync_minutes`, and records when it last did and what went wrong.
ALTER TABLE conferences ADD COLUMN schedule_url TEXT;
ALTER TABLE conferences ADD COLUMN schedule_sync_minutes BIGINT NOT NULL DEFAULT 15;
ALTER TABLE conferences ADD COLUMN schedule_synced_at TIMESTAMPTZ;
ALTER TABLE conferences ADD COLUMN schedule_sync_error TEXT;
