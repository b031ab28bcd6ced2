-- Files people send the bot to be read as text (a campaign or benefit template), waiting for the worker that
-- downloads them (PostgreSQL; the twin has the same stem). The text then enters the inbox as the sender's message.
CREATE TABLE document_reads (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    user_name   TEXT NOT NULL,
    file_id     TEXT NOT NULL,
    -- pending, done or failed
    state       TEXT NOT NULL DEFAULT 'pending',
    error       TEXT,
    created_at  TIMESTAMPTZ NOT NULL
);
