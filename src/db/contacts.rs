//! Queries for reaching people: the accounts a person linked (each one a way to reach them), filtered by
//! what they chose to receive, and the provider accounts that carry private messages for a conference.

use sqlx::FromRow;

use super::{Tx, on_tx, providers::Provider};

/// One linked account of a person: on Telegram the user id is also their private chat; on Mastodon
/// `username` is the `acct` a direct status names.
#[derive(Debug, Clone, FromRow)]
pub struct Account {
    pub person_id: i64,
    pub platform: String,
    pub platform_user_id: String,
    pub username: Option<String>,
    /// The language the person reads Herald in (`None`: English).
    pub language: Option<String>,
}

/// What a message to people is about: each kind is switched on or off by the person in `/settings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wants {
    Announcements,
    Reminders,
}

/// The accounts of people subscribed to `conference` (not stopped) who want `wants`, leaving out those
/// marked unreachable; of one person when `only` is given.
pub async fn subscribed(
    tx: &mut Tx,
    conference: i64,
    wants: Wants,
    only: Option<i64>,
) -> anyhow::Result<Vec<Account>> {
    let sql = match wants {
        Wants::Announcements => {
            "SELECT a.person_id, a.platform, a.platform_user_id, a.username, p.language FROM subscriptions s \
             JOIN person_accounts a ON a.person_id = s.person_id \
             JOIN people p ON p.id = s.person_id \
             WHERE s.conference_id = $1 AND s.active AND s.announcements AND a.announcements \
             AND a.unreachable_at IS NULL \
             AND ($2 IS NULL OR s.person_id = $2) \
             ORDER BY a.person_id, a.id"
        }
        Wants::Reminders => {
            "SELECT a.person_id, a.platform, a.platform_user_id, a.username, p.language FROM subscriptions s \
             JOIN person_accounts a ON a.person_id = s.person_id \
             JOIN people p ON p.id = s.person_id \
             WHERE s.conference_id = $1 AND s.active AND s.reminders AND a.reminders \
             AND a.unreachable_at IS NULL \
             AND ($2 IS NULL OR s.person_id = $2) \
             ORDER BY a.person_id, a.id"
        }
    };
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(sql)
            .bind(conference)
            .bind(only)
            .fetch_all(conn)
            .await
    })?;
    Ok(rows)
}

/// The accounts of one person that take direct messages, for a message addressed to them alone (`/dm`).
pub async fn of_person(tx: &mut Tx, person: i64) -> anyhow::Result<Vec<Account>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT a.person_id, a.platform, a.platform_user_id, a.username, p.language \
             FROM person_accounts a JOIN people p ON p.id = a.person_id \
             WHERE a.person_id = $1 AND a.direct AND a.unreachable_at IS NULL ORDER BY a.id",
        )
        .bind(person)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Every account of one person, whatever they chose to receive.
pub async fn all_of_person(tx: &mut Tx, person: i64) -> anyhow::Result<Vec<Account>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT a.person_id, a.platform, a.platform_user_id, a.username, p.language \
             FROM person_accounts a JOIN people p ON p.id = a.person_id \
             WHERE a.person_id = $1 ORDER BY a.id",
        )
        .bind(person)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// The active provider of network `kind` whose private messages are switched on for `conference`: the
/// account that writes to people there. The first by name when there are several.
pub async fn private_provider(
    tx: &mut Tx,
    conference: i64,
    kind: &str,
) -> anyhow::Result<Option<Provider>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT p.id, p.series_id, p.kind, p.internal_name, p.public_name, p.base_url, p.active, p.max_characters \
             FROM providers p JOIN conference_provider_switches s ON s.provider_id = p.id \
             WHERE s.conference_id = $1 AND p.kind = $2 AND s.private_notifications AND p.active \
             ORDER BY p.internal_name LIMIT 1",
        )
        .bind(conference)
        .bind(kind)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// A person's channel and what it receives, as `/settings` shows it.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Channel {
    pub platform: String,
    pub username: Option<String>,
    pub announcements: bool,
    pub reminders: bool,
    pub direct: bool,
}

/// The channels a person linked, in the order they linked them.
pub async fn channels(tx: &mut Tx, person: i64) -> anyhow::Result<Vec<Channel>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT platform, username, announcements, reminders, direct FROM person_accounts \
             WHERE person_id = $1 ORDER BY id",
        )
        .bind(person)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// What a channel receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Announcements,
    Reminders,
    Direct,
}

/// Switches what a person's accounts on `platform` (all of them when `None`) receive; returns how many
/// accounts changed.
pub async fn set_channel(
    tx: &mut Tx,
    person: i64,
    platform: Option<&str>,
    kind: Kind,
    on: bool,
) -> anyhow::Result<u64> {
    let sql = match kind {
        Kind::Announcements => {
            "UPDATE person_accounts SET announcements = $1 WHERE person_id = $2 AND ($3 IS NULL OR platform = $3)"
        }
        Kind::Reminders => {
            "UPDATE person_accounts SET reminders = $1 WHERE person_id = $2 AND ($3 IS NULL OR platform = $3)"
        }
        Kind::Direct => {
            "UPDATE person_accounts SET direct = $1 WHERE person_id = $2 AND ($3 IS NULL OR platform = $3)"
        }
    };
    let n = on_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(on)
            .bind(person)
            .bind(platform)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n)
}

/// The platform said the account behind `target` is gone (blocked the bot, deactivated): nothing more is
/// written to it until its owner writes from it again ([`reachable_again`]). `target` is the outbox
/// target, which is the account's id where the account is its own private chat (Telegram, web).
pub async fn mark_unreachable(
    tx: &mut Tx,
    now: chrono::DateTime<chrono::Utc>,
    platform: &str,
    target: &str,
    reason: &str,
) -> anyhow::Result<u64> {
    let marked = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE person_accounts SET unreachable_at = $1, unreachable_reason = $2 \
             WHERE platform = $3 AND platform_user_id = $4 AND unreachable_at IS NULL",
        )
        .bind(now)
        .bind(reason)
        .bind(platform)
        .bind(target)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(marked)
}

/// Someone wrote from an account marked unreachable: it takes messages again.
pub async fn reachable_again(tx: &mut Tx, platform: &str, user_id: &str) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE person_accounts SET unreachable_at = NULL, unreachable_reason = NULL \
             WHERE platform = $1 AND platform_user_id = $2 AND unreachable_at IS NOT NULL",
        )
        .bind(platform)
        .bind(user_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// How many accounts of people subscribed to `conference` are marked unreachable.
pub async fn unreachable_count(tx: &mut Tx, conference: i64) -> anyhow::Result<i64> {
    let n = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM person_accounts a JOIN subscriptions s ON s.person_id = a.person_id \
             WHERE s.conference_id = $1 AND s.active AND a.unreachable_at IS NOT NULL",
        )
        .bind(conference)
        .fetch_one(conn)
        .await
    })?;
    Ok(n)
}

/// The language of the person whose private chat on `platform` is `chat` (`None` for a group chat, or a
/// person reading English).
pub async fn language_of_chat(
    tx: &mut Tx,
    platform: &str,
    chat: &str,
) -> anyhow::Result<Option<String>> {
    let language: Option<Option<String>> = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT p.language FROM person_accounts a JOIN people p ON p.id = a.person_id \
             WHERE a.platform = $1 AND a.platform_user_id = $2",
        )
        .bind(platform)
        .bind(chat)
        .fetch_optional(conn)
        .await
    })?;
    Ok(language.flatten())
}
