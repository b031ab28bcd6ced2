-- A person's answer to a calendar invitation, given with the Accept / Decline links in its mail and shown
-- to organisers with the session. Each mail of an invitation carries a new token (only its SHA-256 is kept),
-- so the links of the latest mail answer; an update that moves the event asks again (the answer is
-- cleared, as iTIP resets PARTSTAT to NEEDS-ACTION on a significant change).
ALTER TABLE calendar_invitations ADD COLUMN answer TEXT;
ALTER TABLE calendar_invitations ADD COLUMN answered_at TIMESTAMPTZ;
ALTER TABLE calendar_invitations ADD COLUMN answer_token_hash TEXT;
CREATE UNIQUE INDEX calendar_invitations_answer_token ON calendar_invitations (answer_token_hash);
