-- Herald's core schema (PostgreSQL). The SQLite twin lives in ../sqlite/0001_core.sql under the same
-- stem; the two say the same thing in each backend's own dialect, and a test keeps the stems in step.
--
-- Conventions, on both backends:
--   * ids are 64-bit integers (BIGINT identity here; SQLite uses its INTEGER PRIMARY KEY rowid);
--   * timestamps are written by the application from its Clock, never by SQL `now()`: SQLite stores sqlx's
--     RFC 3339 text (always UTC, so text order is time order), PostgreSQL stores timestamptz;
--   * states are short lowercase words guarded by CHECK constraints, so a typo fails loudly;
--   * secrets (provider credentials) live only in `providers.credentials` and are never selected for logs.

-- A series is the organisation behind a run of conferences ("FOSDEM", "PGConf.EU"). Providers (social
-- accounts, bots) belong to the series, because the same Mastodon account serves every year's edition.
CREATE TABLE series (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

-- One edition of a series. Everything people see is shown in the conference's own time zone (an IANA name
-- such as "Europe/Brussels"), because that is the time on the wall clocks in the rooms.
--
-- The posting window limits when automatic posts go out (local times; a window that ends before it starts
-- wraps past midnight). The posting policy says who may post and who must approve:
--   0 nobody posts · 1 admins post without approval · 2 volunteers post, admins approve ·
--   3 volunteers post, volunteers or admins approve · 4 everyone posts without approval.
CREATE TABLE conferences (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series_id             BIGINT NOT NULL REFERENCES series (id) ON DELETE RESTRICT,
    slug                  TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    time_zone             TEXT NOT NULL,
    starts_on             DATE,
    ends_on               DATE,
    posting_window_start  TIME,
    posting_window_end    TIME,
    posting_policy        BIGINT NOT NULL DEFAULT 0 CHECK (posting_policy BETWEEN 0 AND 4),
    organiser_email       TEXT,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);

-- A provider is one configured account or bot of a platform ("kind": telegram, mastodon, bluesky, x,
-- linkedin, email). `base_url` exists because Mastodon instances differ. `credentials` is a JSON object
-- whose shape depends on the kind; it is a secret. Incoming mentions of this account are routed to
-- `incoming_conference_id`, since one account can only sensibly feed one conference's inbox at a time.
CREATE TABLE providers (
    id                      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series_id               BIGINT NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    kind                    TEXT NOT NULL,
    internal_name           TEXT NOT NULL,
    public_name             TEXT NOT NULL,
    base_url                TEXT,
    active                  BOOLEAN NOT NULL DEFAULT FALSE,
    credentials             TEXT NOT NULL DEFAULT '{}',
    incoming_conference_id  BIGINT REFERENCES conferences (id) ON DELETE SET NULL,
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL,
    UNIQUE (series_id, internal_name)
);

-- What each provider does for each conference. A switch the platform cannot do is refused by the
-- application before it reaches this table (a Bluesky account has no "attendee-only broadcast").
CREATE TABLE conference_provider_switches (
    conference_id            BIGINT NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    provider_id              BIGINT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    public_broadcast         BOOLEAN NOT NULL DEFAULT FALSE,
    attendee_broadcast       BOOLEAN NOT NULL DEFAULT FALSE,
    private_notifications    BOOLEAN NOT NULL DEFAULT FALSE,
    organiser_notifications  BOOLEAN NOT NULL DEFAULT FALSE,
    social_management        BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (conference_id, provider_id)
);

-- A person, independent of any platform. People reach Herald through accounts (below) and act through
-- roles (below); the same person may be a speaker at one conference and an admin at the next.
CREATE TABLE people (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    display_name  TEXT NOT NULL,
    email         TEXT,
    created_at    TIMESTAMPTZ NOT NULL
);

-- The chat identities Herald talks to: a Telegram user id, a Mastodon account id. `platform_user_id` is
-- the platform's stable id (never the changeable @username), so a rename does not lose the link.
CREATE TABLE person_accounts (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id         BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    platform          TEXT NOT NULL,
    platform_user_id  TEXT NOT NULL,
    username          TEXT,
    linked_at         TIMESTAMPTZ NOT NULL,
    UNIQUE (platform, platform_user_id)
);

-- Public handles per network, for mentioning speakers and sponsors in posts ("@alice@fosstodon.org" on
-- Mastodon, "alice.bsky.social" on Bluesky). Separate from accounts: a speaker may never talk to the bot.
CREATE TABLE person_handles (
    person_id  BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    network    TEXT NOT NULL,
    handle     TEXT NOT NULL,
    PRIMARY KEY (person_id, network)
);

-- Roles. The owner runs the whole installation and has no conference; every other role is held per
-- conference. A NULL conference_id is only valid for the owner, which the CHECK enforces.
CREATE TABLE roles (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id      BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    conference_id  BIGINT REFERENCES conferences (id) ON DELETE CASCADE,
    role           TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'volunteer', 'speaker', 'attendee')),
    granted_by     BIGINT REFERENCES people (id) ON DELETE SET NULL,
    granted_at     TIMESTAMPTZ NOT NULL,
    CHECK ((role = 'owner') = (conference_id IS NULL)),
    UNIQUE (person_id, conference_id, role)
);

-- A chat bound to a purpose for a conference: where attendee broadcasts go, where organisers are told
-- things, where posts are moderated. One chat per (conference, slot, platform).
CREATE TABLE channel_bindings (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id  BIGINT NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    slot           TEXT NOT NULL CHECK (slot IN ('attendees', 'organisers', 'moderation')),
    platform       TEXT NOT NULL,
    chat_id        TEXT NOT NULL,
    title          TEXT,
    bound_by       BIGINT REFERENCES people (id) ON DELETE SET NULL,
    bound_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (conference_id, slot, platform)
);

-- Public posts. The life of a post:
--   draft → pending (awaiting approval) → approved (scheduled_at set) → sending → sent | partial | failed,
--   or rejected / cancelled along the way. The delivery of each network's copy is an outbox row; the post's
--   state summarises them.
CREATE TABLE posts (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id   BIGINT NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    author_id       BIGINT REFERENCES people (id) ON DELETE SET NULL,
    source          TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('draft', 'pending', 'approved', 'sending', 'sent',
                                                   'partial', 'failed', 'rejected', 'cancelled')),
    text            TEXT NOT NULL,
    scheduled_at    TIMESTAMPTZ,
    allow_split     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

-- Text that differs per provider (a shorter Bluesky version, a thread for X).
CREATE TABLE post_variants (
    post_id      BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    provider_id  BIGINT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    text         TEXT NOT NULL,
    PRIMARY KEY (post_id, provider_id)
);

-- Images, in order, each with the alt text every network wants (and people who use screen readers need).
CREATE TABLE post_images (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id       BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    position      BIGINT NOT NULL,
    content_type  TEXT NOT NULL,
    data          BYTEA NOT NULL,
    alt_text      TEXT NOT NULL,
    UNIQUE (post_id, position)
);

-- The audit trail: who did what to a post, when, and from where (telegram, web, cli, mastodon, ...).
CREATE TABLE post_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id    BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    actor_id   BIGINT REFERENCES people (id) ON DELETE SET NULL,
    action     TEXT NOT NULL,
    surface    TEXT NOT NULL,
    detail     TEXT,
    at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX post_events_by_post ON post_events (post_id, at);

-- The inbox: every inbound event (a Telegram update, a Mastodon notification, a webhook call) is written
-- here before anything acts on it, so a crash never loses one and a redelivery never doubles one: the pair
-- (provider, event_id) is unique, and a second arrival is recognised and dropped.
--
-- `payload` is the raw body as text, not parsed JSON: a body we cannot parse must still be kept, so that
-- the failure can be seen and the event replayed after a fix.
--
-- Processing: pending → processing (leased until `next_attempt_at`) → done | failed. A failed event keeps
-- its error and does not hold up the events behind it.
CREATE TABLE inbox (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider         TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    kind             TEXT NOT NULL,
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'processing', 'done', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    lease_owner      TEXT,
    last_error       TEXT,
    received_at      TIMESTAMPTZ NOT NULL,
    processed_at     TIMESTAMPTZ,
    UNIQUE (provider, event_id)
);
CREATE INDEX inbox_claimable ON inbox (next_attempt_at, id) WHERE state IN ('pending', 'processing');

-- The outbox: every outgoing message of every kind (a DM, a channel message, a public post on one network,
-- an e-mail) is a row here, written in the same transaction as the change that caused it.
--
-- * `provider` names the sending account ("telegram" for the configured bot, "mastodon:3" for a provider
--   row) and is the unit of the per-account rate limit; `platform` picks the driver; `target` is the chat,
--   account or address on that platform, and the unit of the per-chat rate limit.
-- * `idempotency_key` is unique: one key per (message, target), so enqueuing twice writes one row, and the
--   same key is handed to platforms that accept one (Mastodon's Idempotency-Key), so a retry after a crash
--   mid-send does not post twice there.
-- * `body` is the driver's typed input as JSON, rendered before it is written: the worker never renders.
-- * `due_at` is when it should go; `expires_at` the deadline after which it must not go at all (a
--   reminder for a talk that has started). A row that misses its deadline becomes `expired`, visibly.
-- * States: pending → sending → sent, or given_up (permanent error, or out of attempts), expired, or
--   cancelled. For a row in `sending`, `next_attempt_at` is the end of the worker's lease: a row whose
--   lease ran out (its worker died mid-send) is claimed again. For a `pending` row it is the earliest time
--   of the next attempt (due time, backoff, or the platform's retry_after). One index serves both.
CREATE TABLE outbox (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider             TEXT NOT NULL,
    platform             TEXT NOT NULL,
    target               TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    idempotency_key      TEXT NOT NULL UNIQUE,
    body                 TEXT NOT NULL,
    state                TEXT NOT NULL DEFAULT 'pending'
                         CHECK (state IN ('pending', 'sending', 'sent', 'given_up', 'expired', 'cancelled')),
    due_at               TIMESTAMPTZ NOT NULL,
    expires_at           TIMESTAMPTZ,
    attempts             BIGINT NOT NULL DEFAULT 0,
    next_attempt_at      TIMESTAMPTZ NOT NULL,
    lease_owner          TEXT,
    platform_message_id  TEXT,
    last_error           TEXT,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    finished_at          TIMESTAMPTZ
);
CREATE INDEX outbox_claimable ON outbox (next_attempt_at, id) WHERE state IN ('pending', 'sending');
CREATE INDEX outbox_by_target ON outbox (platform, target) WHERE state IN ('pending', 'sending');
