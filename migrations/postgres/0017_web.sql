-- The web side (PostgreSQL; the SQLite twin has the same stem): one-time sign-in links handed out by /web,
-- /mobile and `herald web-link`, the sessions they open, and the notify hook's secret per conference.
-- Tokens and secrets are stored as SHA-256 digests only.
CREATE TABLE web_logins (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    person_id   BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- Where the link leads once signed in: /config or /m.
    next_path   TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);

CREATE TABLE web_sessions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    person_id   BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- Every form carries this; a form without it (or with another session's) changes nothing.
    csrf_token  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    ended_at    TIMESTAMPTZ,
    -- What the last form did, shown once on the next page (post/redirect/get).
    flash       TEXT
);
CREATE INDEX web_sessions_person ON web_sessions (person_id);

CREATE TABLE notify_hooks (
    conference_id  BIGINT PRIMARY KEY REFERENCES conferences (id) ON DELETE CASCADE,
    secret_hash    TEXT NOT NULL,
    created_by     BIGINT REFERENCES people (id) ON DELETE SET NULL,
    created_at     TIMESTAMPTZ NOT NULL
);

-- When a provider's credentials were last set: the config page shows this instead of the credentials.
ALTER TABLE providers ADD COLUMN credentials_set_at TIMESTAMPTZ;
