-- Lanes: the outbox sends interactive replies and organiser notices (0) before personal, timed messages
-- such as reminders and direct messages (1), and those before bulk fan-out: announcements, posts (2).
-- Each lane is claimed by its own range of the index, so future rows of one lane never slow another.
ALTER TABLE outbox ADD COLUMN lane SMALLINT NOT NULL DEFAULT 1;
DROP INDEX outbox_claimable;
CREATE INDEX outbox_claimable ON outbox (lane, next_attempt_at, id) WHERE state IN ('pending', 'sending');

-- A contact point the platform said is gone for good (blocked the bot, deactivated, chat not found):
-- nothing more is written to it until the person writes from it again.
ALTER TABLE person_accounts ADD COLUMN unreachable_at TEXT;
ALTER TABLE person_accounts ADD COLUMN unreachable_reason TEXT;
