//! Herald: chat-bot-first conference messaging.
//!
//! Modules in reading order:

/// Building the application and running it until shutdown.
pub mod app;
/// The clock every timestamp comes from; tests control it.
pub mod clock;
/// Configuration: defaults, TOML file, `HERALD_*` environment; secrets redacted.
pub mod config;
/// The store: SQLite or PostgreSQL behind one type; every query lives here.
pub mod db;
/// Delivery: what to tell whom becomes outbox rows, one per way to reach each recipient.
pub mod delivery;
/// Health of every worker and listener, for `/healthz`.
pub mod health;
/// Inbound events: stored once, then handled once, in arrival order.
pub mod inbox;
/// Outbound messages: claimed, rate limited, sent, retried, expired, given up — visibly.
pub mod outbox;
/// Telegram as the application uses it (the outbox's sender for the bot).
pub mod telegram;
/// Random tokens, their stored digests, constant-time comparison.
pub mod token;
/// The web server.
pub mod web;

pub use app::{Application, Extras};
/// Command-line administration (`herald conference`, `herald invite`, `herald owner-link`).
pub mod admin;
/// Posts from conference data: the post template environment and campaigns.
pub mod campaign;
/// The chat core: events, the handler tree, replies; and its Telegram adapter.
pub mod chat;
/// One-time links: owner, invites, channel binding, web sign-in.
pub mod links;
/// Listeners: Mastodon's streaming API and Bluesky's notifications, heard as they happen.
pub mod listen;
/// Mentions of the conference on the networks: one inbox, answered from Telegram.
pub mod mentions;
/// News: /news and a polled RSS/Atom feed, one post per item, once.
pub mod news;
/// Public posts: policy, moderation, fan-out.
pub mod posts;
/// Schedules from frab/Pentabarf XML and pretalx/frab JSON.
pub mod schedule;
/// Social networks: the outbox's senders for provider accounts.
pub mod social;
/// The words users read, from `templates/`.
pub mod templates;
