-- `/status` counts the messages that failed in the last day: a small index over failed rows only.
CREATE INDEX outbox_failed ON outbox (finished_at) WHERE state IN ('given_up', 'expired');
