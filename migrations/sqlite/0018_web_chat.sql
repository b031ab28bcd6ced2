-- The web chat (SQLite; the PostgreSQL twin has the same stem): Herald's own chat surface, for people without
-- Telegram and for those who prefer a browser. A person's private chat there has the id of their web account
-- (person_accounts with platform 'web'); a room is a group chat ('room-<id>') that can be bound to a
-- conference like a Telegram group (the moderation room, the organisers' room).
CREATE TABLE web_rooms (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    created_by  INTEGER REFERENCES people (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL
);

-- What a web chat shows, in order: what people wrote (author set) and Herald's messages (author NULL),
-- which the outbox delivers here like any other platform. Buttons are kept with their labels as rendered;
-- an edit replaces the text and the buttons in place.
CREATE TABLE web_messages (
    id          INTEGER PRIMARY KEY,
    chat_id     TEXT NOT NULL,
    author      TEXT,
    html        TEXT NOT NULL,
    actions     TEXT NOT NULL DEFAULT '[]',
    created_at  TEXT NOT NULL,
    edited_at   TEXT,
    -- Herald's messages: the outbox row's idempotency key, so a delivery retried after a crash shows once.
    delivery_key TEXT UNIQUE
);
CREATE INDEX web_messages_chat ON web_messages (chat_id, id);
