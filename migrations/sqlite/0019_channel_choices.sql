-- What each linked account (each channel a person is reached on) receives: a person linked on Telegram and on
-- Mastodon may want reminders on one and announcements on both. `/settings <kind> <channel> <on|off>` sets
-- these; the conference-wide switches in `subscriptions` still apply on top.
ALTER TABLE person_accounts ADD COLUMN announcements BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE person_accounts ADD COLUMN reminders BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE person_accounts ADD COLUMN direct BOOLEAN NOT NULL DEFAULT TRUE;
