-- The web side (SQLite; the PostgreSQL twin has the same stem): one-time sign-in links handed out by /web,
-- /mobile and `herald web-link`, the sessions they open, and the notify hook's secret per conference.
-- Tokens and secrets are stored as SHA-256 digests only.
CREATE TABLE web_logins (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    person_id   INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- Where the link leads once signed in: /config or /m.
    next_path   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);

CREATE TABLE web_sessions (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    person_id   INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- Every form carries this; a form without it (or with another session's) changes nothing.
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    ended_at    TEXT,
    -- What the last form did, shown once on the next page (post/redirect/get).
    flash       TEXT
);
CREATE INDEX web_sessions_person ON web_sessions (person_id);

CREATE TABLE notify_hooks (
    conference_id  INTEGER PRIMARY KEY REFERENCES conferences (id) ON DELETE CASCADE,
    secret_hash    TEXT NOT NULL,
    created_by     INTEGER REFERENCES people (id) ON DELETE SET NULL,
    created_at     TEXT NOT NULL
);

-- When a provider's credentials were last set: the config page shows this instead of the credentials.
ALTER TABLE providers ADD COLUMN credentials_set_at TEXT;
