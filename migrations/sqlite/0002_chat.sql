-- The chat side (SQLite; the PostgreSQL twin has the same stem): linking people to the bot, binding chats,
-- and the little state a conversation needs.

-- One-time links: an owner link (bootstraps the first owner), invites to a conference with a role, and
-- tokens that bind a group or channel to a slot. Only a SHA-256 of the token is stored, so a database
-- leak does not hand out working links; lookups are by that hash. Each is single-use (`used_at`) and
-- expires.
CREATE TABLE link_tokens (
    id             INTEGER PRIMARY KEY,
    purpose        TEXT NOT NULL CHECK (purpose IN ('owner', 'invite', 'bind')),
    token_hash     TEXT NOT NULL UNIQUE,
    conference_id  INTEGER REFERENCES conferences (id) ON DELETE CASCADE,
    role           TEXT CHECK (role IN ('admin', 'volunteer', 'speaker', 'attendee')),
    slot           TEXT CHECK (slot IN ('attendees', 'organisers', 'moderation')),
    -- For invites: who it is meant for, as the admin wrote it (a name, or a schedule identity later).
    label          TEXT,
    created_by     INTEGER REFERENCES people (id) ON DELETE SET NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    used_at        TEXT,
    used_by        INTEGER REFERENCES people (id) ON DELETE SET NULL
);

-- What a person wants to receive. One row per person and conference, created when they join.
-- `active` is false after /stop: nothing is sent to them until they join again.
CREATE TABLE subscriptions (
    person_id      INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    conference_id  INTEGER NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    announcements  BOOLEAN NOT NULL DEFAULT TRUE,
    reminders      BOOLEAN NOT NULL DEFAULT TRUE,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (person_id, conference_id)
);

-- Per chat: which conference commands in this chat are about (an organiser may run several), and a
-- pending confirmation ("really stop all messages?") with its expiry.
CREATE TABLE chat_state (
    platform        TEXT NOT NULL,
    chat_id         TEXT NOT NULL,
    conference_id   INTEGER REFERENCES conferences (id) ON DELETE SET NULL,
    pending_action  TEXT,
    pending_until   TEXT,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (platform, chat_id)
);

-- Small durable settings of the running system: the Telegram update offset for long polling (written only
-- after the updates are in the inbox), the webhook secret, the bot's username.
CREATE TABLE system_state (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
