-- E-mail as a person's channel. A confirmed address is one more row of `person_accounts` with platform
-- 'email' and the address as its `platform_user_id`, so it is resolved, switched and marked unreachable
-- like any other channel. Until confirmed it is only an `email_confirmations` row: nothing but the
-- confirmation itself is sent there (double opt-in).

-- A confirmation mailed to an address a person gave (`/settings email <address>`): opening its one-time
-- link (only the SHA-256 of the token is kept) links the address to the person.
CREATE TABLE email_confirmations (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id     BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    address       TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    confirmed_at  TIMESTAMPTZ
);
CREATE INDEX email_confirmations_person ON email_confirmations (person_id);

-- The address an invitation was mailed to: whoever opens it proves they read that mailbox, so the
-- address is linked to them as confirmed. Also what makes `herald invite --send` idempotent: an address
-- already invited to a conference's role is not mailed again.
ALTER TABLE link_tokens ADD COLUMN email TEXT;
CREATE INDEX link_tokens_invited ON link_tokens (conference_id, role, email) WHERE email IS NOT NULL;

-- The token in every mail's one-click unsubscribe link (RFC 8058). Kept in clear, unlike the one-time
-- links: every mail must carry it, and all it can do is switch mail off for that address.
ALTER TABLE person_accounts ADD COLUMN unsubscribe_token TEXT;
CREATE UNIQUE INDEX person_accounts_unsubscribe ON person_accounts (unsubscribe_token);
