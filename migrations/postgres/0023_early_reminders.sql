-- A second, earlier reminder of the sessions a person follows (`/settings early 60`): how many minutes
-- before a start it goes out, besides the conference's own session reminder; NULL for none. Kept per
-- subscription, since what counts as early depends on the conference's lead time. It is only written
-- while it comes before the usual reminder, so a conference that later reminds earlier than this simply
-- makes it unnecessary.
ALTER TABLE subscriptions ADD COLUMN early_reminder_minutes BIGINT;
