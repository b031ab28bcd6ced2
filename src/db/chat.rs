//! Queries for the conversation: conferences, people and roles, one-time links, subscriptions,
//! channel bindings, per-chat state and small system settings. All run inside the caller's transaction.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Conference {
    pub id: i64,
    pub series_id: i64,
    pub slug: String,
    pub name: String,
    pub time_zone: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub posting_window_start: Option<NaiveTime>,
    pub posting_window_end: Option<NaiveTime>,
    pub posting_policy: i64,
}

macro_rules! conference_columns {
    () => {
        "id, series_id, slug, name, time_zone, starts_on, ends_on, posting_window_start, posting_window_end, posting_policy"
    };
}

#[derive(Debug, Clone)]
pub struct NewConference<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub time_zone: &'a str,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// The series a conference slug belongs to: the slug without a trailing year ("fosdem-2027" → "fosdem").
pub fn series_slug(conference_slug: &str) -> &str {
    let trimmed = conference_slug
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .trim_end_matches('-');
    if trimmed.is_empty() {
        conference_slug
    } else {
        trimmed
    }
}

/// Creates a conference (and its series if new). `None` if the slug is taken.
pub async fn create_conference(
    tx: &mut Tx,
    now: DateTime<Utc>,
    c: &NewConference<'_>,
) -> anyhow::Result<Option<i64>> {
    let series = series_slug(c.slug);
    on_tx!(tx, |conn| {
        sqlx::query("INSERT INTO series (slug, name, created_at) VALUES ($1, $1, $2) ON CONFLICT (slug) DO NOTHING")
            .bind(series)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO conferences (series_id, slug, name, time_zone, starts_on, ends_on, posting_policy, created_at, updated_at) \
             SELECT id, $1, $2, $3, $4, $5, 0, $6, $6 FROM series WHERE slug = $7 \
             ON CONFLICT (slug) DO NOTHING RETURNING id",
        )
        .bind(c.slug)
        .bind(c.name)
        .bind(c.time_zone)
        .bind(c.starts_on)
        .bind(c.ends_on)
        .bind(now)
        .bind(series)
        .fetch_optional(conn)
        .await
    })?;
    Ok(id)
}

pub async fn conference_by_slug(tx: &mut Tx, slug: &str) -> anyhow::Result<Option<Conference>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            conference_columns!(),
            " FROM conferences WHERE slug = $1"
        ))
        .bind(slug)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

pub async fn conference_by_id(tx: &mut Tx, id: i64) -> anyhow::Result<Option<Conference>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            conference_columns!(),
            " FROM conferences WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

pub async fn conferences(tx: &mut Tx) -> anyhow::Result<Vec<Conference>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            conference_columns!(),
            " FROM conferences ORDER BY starts_on, slug"
        ))
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

pub async fn set_policy(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    policy: i64,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE conferences SET posting_policy = $1, updated_at = $2 WHERE id = $3")
            .bind(policy)
            .bind(now)
            .bind(conference)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn set_window(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    window: Option<(NaiveTime, NaiveTime)>,
) -> anyhow::Result<()> {
    let (start, end) = window.map_or((None, None), |(s, e)| (Some(s), Some(e)));
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE conferences SET posting_window_start = $1, posting_window_end = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(start)
        .bind(end)
        .bind(now)
        .bind(conference)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn set_conference_fields(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    name: Option<&str>,
    time_zone: Option<&str>,
    dates: Option<(NaiveDate, NaiveDate)>,
) -> anyhow::Result<()> {
    let (starts, ends) = dates.map_or((None, None), |(s, e)| (Some(s), Some(e)));
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE conferences SET name = COALESCE($1, name), time_zone = COALESCE($2, time_zone), \
             starts_on = COALESCE($3, starts_on), ends_on = COALESCE($4, ends_on), updated_at = $5 WHERE id = $6",
        )
        .bind(name)
        .bind(time_zone)
        .bind(starts)
        .bind(ends)
        .bind(now)
        .bind(conference)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// People, accounts, roles

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Person {
    pub id: i64,
    pub display_name: String,
    pub username: Option<String>,
    pub platform_user_id: String,
}

/// A person's display name.
pub async fn person_name(tx: &mut Tx, person: i64) -> anyhow::Result<Option<String>> {
    let name = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT display_name FROM people WHERE id = $1")
            .bind(person)
            .fetch_optional(conn)
            .await
    })?;
    Ok(name)
}

/// The person behind a platform account, created on first contact; the username and display name are
/// refreshed, since people change them.
pub async fn person_for_account(
    tx: &mut Tx,
    now: DateTime<Utc>,
    platform: &str,
    user_id: &str,
    username: Option<&str>,
    display_name: &str,
) -> anyhow::Result<i64> {
    let existing: Option<i64> = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT person_id FROM person_accounts WHERE platform = $1 AND platform_user_id = $2",
        )
        .bind(platform)
        .bind(user_id)
        .fetch_optional(conn)
        .await
    })?;
    if let Some(id) = existing {
        on_tx!(tx, |conn| {
            sqlx::query("UPDATE person_accounts SET username = $1 WHERE platform = $2 AND platform_user_id = $3")
                .bind(username)
                .bind(platform)
                .bind(user_id)
                .execute(&mut *conn)
                .await
                .map(|r| r.rows_affected())
        })?;
        on_tx!(tx, |conn| {
            sqlx::query("UPDATE people SET display_name = $1 WHERE id = $2")
                .bind(display_name)
                .bind(id)
                .execute(conn)
                .await
                .map(|r| r.rows_affected())
        })?;
        return Ok(id);
    }
    let id: i64 = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO people (display_name, created_at) VALUES ($1, $2) RETURNING id",
        )
        .bind(display_name)
        .bind(now)
        .fetch_one(conn)
        .await
    })?;
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO person_accounts (person_id, platform, platform_user_id, username, linked_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(platform)
        .bind(user_id)
        .bind(username)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(id)
}

macro_rules! person_select {
    () => {
        "SELECT p.id, p.display_name, a.username, a.platform_user_id FROM people p \
         JOIN person_accounts a ON a.person_id = p.id AND a.platform = $1 "
    };
}

/// People whose account currently has `username` (normally one; more only if stale rows linger).
pub async fn people_by_username(
    tx: &mut Tx,
    platform: &str,
    username: &str,
) -> anyhow::Result<Vec<Person>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            person_select!(),
            "WHERE LOWER(a.username) = LOWER($2) ORDER BY p.id"
        ))
        .bind(platform)
        .bind(username)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// People whose account on another platform than `platform` has `username` (a Mastodon `acct` named
/// from Telegram).
pub async fn people_by_username_elsewhere(
    tx: &mut Tx,
    platform: &str,
    username: &str,
) -> anyhow::Result<Vec<Person>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT p.id, p.display_name, a.username, a.platform_user_id FROM people p \
             JOIN person_accounts a ON a.person_id = p.id AND a.platform <> $1 \
             WHERE LOWER(a.username) = LOWER($2) ORDER BY p.id",
        )
        .bind(platform)
        .bind(username)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Keeps an account's username and name current. A platform username belongs to one account at a time,
/// so another account still holding it (its owner renamed since) lets go of it.
pub async fn refresh_account(
    tx: &mut Tx,
    platform: &str,
    user_id: &str,
    username: Option<&str>,
    display_name: &str,
) -> anyhow::Result<()> {
    let Some(current) = person_by_user_id(tx, platform, user_id).await? else {
        return Ok(());
    };
    if current.username.as_deref() == username && current.display_name == display_name {
        return Ok(());
    }
    if let Some(name) = username {
        on_tx!(tx, |conn| {
            sqlx::query(
                "UPDATE person_accounts SET username = NULL WHERE platform = $1 AND LOWER(username) = LOWER($2) \
                 AND platform_user_id <> $3",
            )
            .bind(platform)
            .bind(name)
            .bind(user_id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
        })?;
    }
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE person_accounts SET username = $1 WHERE platform = $2 AND platform_user_id = $3")
            .bind(username)
            .bind(platform)
            .bind(user_id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE people SET display_name = $1 WHERE id = $2")
            .bind(display_name)
            .bind(current.id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn person_by_user_id(
    tx: &mut Tx,
    platform: &str,
    user_id: &str,
) -> anyhow::Result<Option<Person>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(person_select!(), "WHERE a.platform_user_id = $2"))
            .bind(platform)
            .bind(user_id)
            .fetch_optional(conn)
            .await
    })?;
    Ok(row)
}

pub async fn owner_exists(tx: &mut Tx) -> anyhow::Result<bool> {
    let n: i64 = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT COUNT(*) FROM roles WHERE role = 'owner'")
            .fetch_one(conn)
            .await
    })?;
    Ok(n > 0)
}

/// The roles a person holds: `owner` (no conference) and those for `conference`.
pub async fn roles_of(
    tx: &mut Tx,
    person: i64,
    conference: Option<i64>,
) -> anyhow::Result<Vec<String>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT role FROM roles WHERE person_id = $1 AND (conference_id IS NULL OR conference_id = $2)",
        )
        .bind(person)
        .bind(conference)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Grants a role; `false` if the person already had it.
pub async fn grant(
    tx: &mut Tx,
    now: DateTime<Utc>,
    person: i64,
    conference: Option<i64>,
    role: &str,
    by: Option<i64>,
) -> anyhow::Result<bool> {
    let exists: i64 = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM roles WHERE person_id = $1 AND role = $2 AND \
             ((conference_id IS NULL AND $3 IS NULL) OR conference_id = $3)",
        )
        .bind(person)
        .bind(role)
        .bind(conference)
        .fetch_one(conn)
        .await
    })?;
    if exists > 0 {
        return Ok(false);
    }
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO roles (person_id, conference_id, role, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(person)
        .bind(conference)
        .bind(role)
        .bind(by)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(true)
}

/// Revokes a role; `false` if the person did not have it.
pub async fn revoke(tx: &mut Tx, person: i64, conference: i64, role: &str) -> anyhow::Result<bool> {
    let n = on_tx!(tx, |conn| {
        sqlx::query("DELETE FROM roles WHERE person_id = $1 AND conference_id = $2 AND role = $3")
            .bind(person)
            .bind(conference)
            .bind(role)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct RoleHolder {
    pub person_id: i64,
    pub display_name: String,
    pub username: Option<String>,
    pub role: String,
}

/// Owners and the conference's admins, for `/admins`.
pub async fn admins(
    tx: &mut Tx,
    platform: &str,
    conference: i64,
) -> anyhow::Result<Vec<RoleHolder>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT p.id AS person_id, p.display_name, a.username, r.role FROM roles r \
             JOIN people p ON p.id = r.person_id \
             LEFT JOIN person_accounts a ON a.person_id = p.id AND a.platform = $1 \
             WHERE r.role = 'owner' OR (r.role = 'admin' AND r.conference_id = $2) \
             ORDER BY r.role DESC, p.display_name",
        )
        .bind(platform)
        .bind(conference)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------------
// One-time links

#[derive(Debug, Clone, FromRow)]
pub struct LinkToken {
    pub id: i64,
    pub token_hash: String,
    pub purpose: String,
    pub conference_id: Option<i64>,
    pub role: Option<String>,
    pub slot: Option<String>,
    pub label: Option<String>,
    pub created_by: Option<i64>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewLinkToken<'a> {
    pub purpose: &'a str,
    pub token_hash: &'a str,
    pub conference_id: Option<i64>,
    pub role: Option<&'a str>,
    pub slot: Option<&'a str>,
    pub label: Option<&'a str>,
    pub created_by: Option<i64>,
    pub expires_at: DateTime<Utc>,
}

pub async fn create_link_token(
    tx: &mut Tx,
    now: DateTime<Utc>,
    t: &NewLinkToken<'_>,
) -> anyhow::Result<i64> {
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO link_tokens (purpose, token_hash, conference_id, role, slot, label, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(t.purpose)
        .bind(t.token_hash)
        .bind(t.conference_id)
        .bind(t.role)
        .bind(t.slot)
        .bind(t.label)
        .bind(t.created_by)
        .bind(now)
        .bind(t.expires_at)
        .fetch_one(conn)
        .await
    })?;
    Ok(id)
}

pub async fn link_token_by_hash(
    tx: &mut Tx,
    token_hash: &str,
) -> anyhow::Result<Option<LinkToken>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, token_hash, purpose, conference_id, role, slot, label, created_by, expires_at, used_at \
             FROM link_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// Who used the token with this digest, once used.
pub async fn link_used_by(tx: &mut Tx, token_hash: &str) -> anyhow::Result<Option<i64>> {
    let row: Option<Option<i64>> = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT used_by FROM link_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(conn)
            .await
    })?;
    Ok(row.flatten())
}

/// Marks a token used; `false` if someone else used it first.
pub async fn use_link_token(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: i64,
    by: Option<i64>,
) -> anyhow::Result<bool> {
    let n = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE link_tokens SET used_at = $1, used_by = $2 WHERE id = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Retires unused owner links, so only the newest one works.
pub async fn retire_owner_links(tx: &mut Tx, now: DateTime<Utc>) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE link_tokens SET expires_at = $1 WHERE purpose = 'owner' AND used_at IS NULL AND expires_at > $1")
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Subscriptions

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Subscription {
    pub person_id: i64,
    pub conference_id: i64,
    pub announcements: bool,
    pub reminders: bool,
    pub active: bool,
}

pub async fn subscribe(
    tx: &mut Tx,
    now: DateTime<Utc>,
    person: i64,
    conference: i64,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO subscriptions (person_id, conference_id, announcements, reminders, active, updated_at) \
             VALUES ($1, $2, TRUE, TRUE, TRUE, $3) \
             ON CONFLICT (person_id, conference_id) DO UPDATE SET active = TRUE, updated_at = $3",
        )
        .bind(person)
        .bind(conference)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn subscriptions_of(tx: &mut Tx, person: i64) -> anyhow::Result<Vec<Subscription>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT person_id, conference_id, announcements, reminders, active FROM subscriptions \
             WHERE person_id = $1 ORDER BY conference_id",
        )
        .bind(person)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

pub async fn set_subscription_flag(
    tx: &mut Tx,
    now: DateTime<Utc>,
    person: i64,
    conference: i64,
    announcements: Option<bool>,
    reminders: Option<bool>,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE subscriptions SET announcements = COALESCE($1, announcements), reminders = COALESCE($2, reminders), \
             updated_at = $3 WHERE person_id = $4 AND conference_id = $5",
        )
        .bind(announcements)
        .bind(reminders)
        .bind(now)
        .bind(person)
        .bind(conference)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// `/stop`: every subscription of the person goes quiet.
pub async fn unsubscribe_all(tx: &mut Tx, now: DateTime<Utc>, person: i64) -> anyhow::Result<u64> {
    let n = on_tx!(tx, |conn| {
        sqlx::query("UPDATE subscriptions SET active = FALSE, updated_at = $1 WHERE person_id = $2 AND active")
            .bind(now)
            .bind(person)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n)
}

/// Telegram chat ids of people who want announcements for `conference`.
pub async fn announcement_recipients(
    tx: &mut Tx,
    platform: &str,
    conference: i64,
) -> anyhow::Result<Vec<String>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT a.platform_user_id FROM subscriptions s JOIN person_accounts a ON a.person_id = s.person_id \
             AND a.platform = $1 WHERE s.conference_id = $2 AND s.active AND s.announcements ORDER BY s.person_id",
        )
        .bind(platform)
        .bind(conference)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------------
// Channel bindings

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Binding {
    pub conference_id: i64,
    pub slot: String,
    pub platform: String,
    pub chat_id: String,
    pub title: Option<String>,
}

#[allow(clippy::too_many_arguments)]
pub async fn bind(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    slot: &str,
    platform: &str,
    chat_id: &str,
    title: Option<&str>,
    by: Option<i64>,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO channel_bindings (conference_id, slot, platform, chat_id, title, bound_by, bound_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (conference_id, slot, platform) DO UPDATE \
             SET chat_id = $4, title = $5, bound_by = $6, bound_at = $7",
        )
        .bind(conference)
        .bind(slot)
        .bind(platform)
        .bind(chat_id)
        .bind(title)
        .bind(by)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn binding(
    tx: &mut Tx,
    conference: i64,
    slot: &str,
    platform: &str,
) -> anyhow::Result<Option<Binding>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT conference_id, slot, platform, chat_id, title FROM channel_bindings \
             WHERE conference_id = $1 AND slot = $2 AND platform = $3",
        )
        .bind(conference)
        .bind(slot)
        .bind(platform)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// The chats bound to a conference's slot, one per platform.
pub async fn bindings_of_slot(
    tx: &mut Tx,
    conference: i64,
    slot: &str,
) -> anyhow::Result<Vec<Binding>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT conference_id, slot, platform, chat_id, title FROM channel_bindings \
             WHERE conference_id = $1 AND slot = $2 ORDER BY platform",
        )
        .bind(conference)
        .bind(slot)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

pub async fn bindings_of_chat(
    tx: &mut Tx,
    platform: &str,
    chat_id: &str,
) -> anyhow::Result<Vec<Binding>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT conference_id, slot, platform, chat_id, title FROM channel_bindings \
             WHERE platform = $1 AND chat_id = $2 ORDER BY conference_id, slot",
        )
        .bind(platform)
        .bind(chat_id)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Drops a conference's binding of `slot` on `platform` (on every platform when `None`); whether there
/// was one.
pub async fn unbind(
    tx: &mut Tx,
    conference: i64,
    slot: &str,
    platform: Option<&str>,
) -> anyhow::Result<bool> {
    let n = on_tx!(tx, |conn| {
        sqlx::query(
            "DELETE FROM channel_bindings WHERE conference_id = $1 AND slot = $2 \
             AND ($3 IS NULL OR platform = $3)",
        )
        .bind(conference)
        .bind(slot)
        .bind(platform)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}

/// Drops every binding of a chat (the bot was removed from it); returns what was bound.
pub async fn unbind_chat(
    tx: &mut Tx,
    platform: &str,
    chat_id: &str,
) -> anyhow::Result<Vec<Binding>> {
    let bound = bindings_of_chat(tx, platform, chat_id).await?;
    on_tx!(tx, |conn| {
        sqlx::query("DELETE FROM channel_bindings WHERE platform = $1 AND chat_id = $2")
            .bind(platform)
            .bind(chat_id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(bound)
}

/// A group became a supergroup with a new id: bindings and chat state follow it.
pub async fn migrate_chat(tx: &mut Tx, platform: &str, from: &str, to: &str) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE channel_bindings SET chat_id = $1 WHERE platform = $2 AND chat_id = $3")
            .bind(to)
            .bind(platform)
            .bind(from)
            .execute(&mut *conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE chat_state SET chat_id = $1 WHERE platform = $2 AND chat_id = $3")
            .bind(to)
            .bind(platform)
            .bind(from)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Per-chat state

#[derive(Debug, Clone, Default, FromRow)]
pub struct ChatState {
    pub conference_id: Option<i64>,
    pub pending_action: Option<String>,
    pub pending_until: Option<DateTime<Utc>>,
}

pub async fn chat_state(tx: &mut Tx, platform: &str, chat_id: &str) -> anyhow::Result<ChatState> {
    let row: Option<ChatState> = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT conference_id, pending_action, pending_until FROM chat_state WHERE platform = $1 AND chat_id = $2",
        )
        .bind(platform)
        .bind(chat_id)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row.unwrap_or_default())
}

pub async fn set_chat_conference(
    tx: &mut Tx,
    now: DateTime<Utc>,
    platform: &str,
    chat_id: &str,
    conference: i64,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO chat_state (platform, chat_id, conference_id, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (platform, chat_id) DO UPDATE SET conference_id = $3, updated_at = $4",
        )
        .bind(platform)
        .bind(chat_id)
        .bind(conference)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The id in the chat's pending action `<prefix><id>`, unless it expired by `now`.
pub async fn pending_id(
    tx: &mut Tx,
    now: DateTime<Utc>,
    platform: &str,
    chat_id: &str,
    prefix: &str,
) -> anyhow::Result<Option<i64>> {
    let state = chat_state(tx, platform, chat_id).await?;
    Ok(state
        .pending_action
        .as_deref()
        .and_then(|a| a.strip_prefix(prefix))
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|_| state.pending_until.is_some_and(|t| t > now)))
}

pub async fn set_pending(
    tx: &mut Tx,
    now: DateTime<Utc>,
    platform: &str,
    chat_id: &str,
    action: Option<&str>,
    until: Option<DateTime<Utc>>,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO chat_state (platform, chat_id, pending_action, pending_until, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (platform, chat_id) DO UPDATE SET pending_action = $3, pending_until = $4, updated_at = $5",
        )
        .bind(platform)
        .bind(chat_id)
        .bind(action)
        .bind(until)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// System state

pub async fn get_system(tx: &mut Tx, key: &str) -> anyhow::Result<Option<String>> {
    let v = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT value FROM system_state WHERE key = $1")
            .bind(key)
            .fetch_optional(conn)
            .await
    })?;
    Ok(v)
}

pub async fn set_system(
    tx: &mut Tx,
    now: DateTime<Utc>,
    key: &str,
    value: &str,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO system_state (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = $3",
        )
        .bind(key)
        .bind(value)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Platform user ids of owners and admins, for their command menus.
pub async fn staff_user_ids(tx: &mut Tx, platform: &str) -> anyhow::Result<Vec<String>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT DISTINCT a.platform_user_id FROM roles r JOIN person_accounts a ON a.person_id = r.person_id \
             AND a.platform = $1 WHERE r.role IN ('owner', 'admin') ORDER BY a.platform_user_id",
        )
        .bind(platform)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Stores `value` under `key` unless a value is there already; returns the stored value. Two processes
/// racing to create a setting (the webhook secret) agree on one.
pub async fn set_system_if_absent(
    tx: &mut Tx,
    now: DateTime<Utc>,
    key: &str,
    value: &str,
) -> anyhow::Result<String> {
    on_tx!(tx, |conn| {
        sqlx::query("INSERT INTO system_state (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    get_system(tx, key)
        .await?
        .ok_or_else(|| anyhow::anyhow!("system setting {key} vanished"))
}
