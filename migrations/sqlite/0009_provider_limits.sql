-- The text limit a provider's network told us (SQLite; the PostgreSQL twin has the same stem): Mastodon
-- instances set their own (`configuration.statuses.max_characters`), read when the provider is tested, so a
-- post is measured and split against the real limit when it is written, not discovered at send time.
ALTER TABLE providers ADD COLUMN max_characters INTEGER;
