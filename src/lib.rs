//! Herald: chat-bot-first conference messaging.
//!
//! A guided tour, bottom-up in layer order: each module uses its own layer and the ones above it in this
//! list, never one below (`tests/layers.rs` checks). Platforms reach the surfaces; the surfaces run the chat
//! core and the domain; the domain says what to tell whom; delivery turns that into outbox rows; the
//! queues send and receive; the store keeps everything.

// Base: what everything else stands on.

/// Configuration: defaults, TOML file, `HERALD_*` environment; secrets redacted.
pub mod config;

/// The clock every timestamp comes from; tests control it.
pub mod clock;

/// Random tokens, their stored digests, constant-time comparison.
pub mod token;

/// The words users read, from `templates/`.
pub mod templates;

/// Health of every worker and listener, for `/healthz`.
pub mod health;

/// The numbers an operator watches, for `/metrics`: counters, histograms, the queues' gauges.
pub mod metrics;

/// Picture bytes: their type, and scaling down to a network's limit.
pub mod images;

// The store.

/// SQLite or PostgreSQL behind one type; every query lives here.
pub mod db;

// The queues.

/// Inbound events: stored once, then handled once, in arrival order.
pub mod inbox;

/// Outbound messages: claimed, rate limited, sent, retried, expired, given up — visibly.
pub mod outbox;

/// Jobs that run in one process at a time, taken over by another when that process dies.
pub mod singleton;

// Delivery.

/// What to tell whom becomes outbox rows, one per way to reach each recipient: Telegram chats, web chats,
/// Mastodon direct statuses, e-mail; the rows of the social networks' senders and their length rules.
pub mod delivery;

// The domain.

/// One-time links: owner, invites, channel binding, web sign-in.
pub mod links;

/// Public posts: policy, moderation, fan-out.
pub mod posts;

/// Mentions of the conference on the networks: stored once, shown to the moderators.
pub mod mentions;

/// Schedules from frab/Pentabarf XML, pretalx/frab JSON and iCalendar; reminders; personal feeds.
pub mod schedule;

/// Posts from conference data: the post template environment and campaigns.
pub mod campaign;

/// News: /news and a polled RSS/Atom feed, one post per item, once.
pub mod news;

// The surfaces: where people and platforms meet Herald.

/// The chat core: events, the handler tree, replies; its Telegram, Mastodon and web chat adapters.
pub mod chat;

/// Telegram as the application uses it: the outbox's sender for the bot, updates, files.
pub mod telegram;

/// E-mail as the application uses it: the outbox's sender for the mail server or the `.eml` folder.
pub mod email;

/// Social networks: the outbox's senders for provider accounts.
pub mod social;

/// Listeners: Mastodon's streaming API and Bluesky's notifications, heard as they happen.
pub mod listen;

/// The web server: webhooks, the pages, the web chat.
pub mod web;

// The top.

/// Building the application and running it until shutdown: the only place everything is wired.
pub mod app;

/// The command line: `herald run`, `herald conference`, `herald invite`, `herald import`, … one module per
/// verb family.
pub mod cli;

pub use app::{Application, Extras};
