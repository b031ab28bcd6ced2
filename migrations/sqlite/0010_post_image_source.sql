-- Where a post's image came from (SQLite; the PostgreSQL twin has the same stem). A picture sent to the bot
-- is stored by its Telegram file id with no bytes yet (`data` empty): it is downloaded once, on the first
-- delivery that needs the bytes (Mastodon, Bluesky), and kept. Telegram targets reuse the file id.
ALTER TABLE post_images ADD COLUMN telegram_file_id TEXT;
-- The size Telegram reported, when it did: shown to moderators and checked against network limits.
ALTER TABLE post_images ADD COLUMN byte_size INTEGER;
