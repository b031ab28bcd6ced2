-- Jobs that must run in one process at a time (polling Telegram, the listeners, the schedule sync, the
-- news reader, pruning): the process named in a job's row runs it and renews `expires_at` every few seconds;
-- when that process dies, its lease runs out and another process takes the job over. Portable: the same
-- table serves two processes on one SQLite file and many on PostgreSQL, through any pooler.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
