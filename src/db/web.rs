//! Web sign-in links, sessions and notify hook secrets. Tokens are stored as digests only
//! ([`crate::token::hash`]); the plain token exists in the link or cookie alone.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

/// An unused, unexpired sign-in link.
#[derive(Debug, Clone, FromRow)]
pub struct Login {
    pub id: i64,
    pub person_id: i64,
    pub next_path: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

pub async fn create_login(
    tx: &mut Tx,
    now: DateTime<Utc>,
    person: i64,
    token_hash: &str,
    next_path: &str,
    expires_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO web_logins (token_hash, person_id, next_path, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(person)
        .bind(next_path)
        .bind(now)
        .bind(expires_at)
        .execute(conn)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

pub async fn login(tx: &mut Tx, token_hash: &str) -> anyhow::Result<Option<Login>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, person_id, next_path, expires_at, used_at FROM web_logins WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// Marks a link used; `false` when it was used (or had expired) already, so two tabs cannot both sign in.
pub async fn use_login(tx: &mut Tx, now: DateTime<Utc>, id: i64) -> anyhow::Result<bool> {
    let n = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE web_logins SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// A session that has not ended or expired.
#[derive(Debug, Clone, FromRow)]
pub struct Session {
    pub id: i64,
    pub person_id: i64,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub flash: Option<String>,
}

pub async fn create_session(
    tx: &mut Tx,
    now: DateTime<Utc>,
    person: i64,
    token_hash: &str,
    csrf_token: &str,
    expires_at: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO web_sessions (token_hash, person_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(token_hash)
        .bind(person)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .fetch_one(conn)
        .await
    })?;
    Ok(id)
}

pub async fn session(
    tx: &mut Tx,
    now: DateTime<Utc>,
    token_hash: &str,
) -> anyhow::Result<Option<Session>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, person_id, csrf_token, expires_at, flash FROM web_sessions \
             WHERE token_hash = $1 AND ended_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// Ends one session (sign out on the page).
pub async fn end_session(tx: &mut Tx, now: DateTime<Utc>, id: i64) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE web_sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

/// Ends every open session of a person (`/web logout`); how many were open.
pub async fn end_sessions_of(tx: &mut Tx, now: DateTime<Utc>, person: i64) -> anyhow::Result<u64> {
    let n = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE web_sessions SET ended_at = $1 \
             WHERE person_id = $2 AND ended_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(person)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n)
}

/// What the next page shows once (`None` clears it).
pub async fn set_flash(tx: &mut Tx, session: i64, flash: Option<&str>) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE web_sessions SET flash = $1 WHERE id = $2")
            .bind(flash)
            .bind(session)
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

/// Sets (or rotates) a conference's notify hook secret; the previous one stops working at once.
pub async fn set_hook_secret(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    secret_hash: &str,
    by: Option<i64>,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO notify_hooks (conference_id, secret_hash, created_by, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (conference_id) DO UPDATE SET secret_hash = excluded.secret_hash, \
             created_by = excluded.created_by, created_at = excluded.created_at",
        )
        .bind(conference)
        .bind(secret_hash)
        .bind(by)
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

/// The digest of a conference's notify hook secret, if it has one.
pub async fn hook_secret(tx: &mut Tx, conference: i64) -> anyhow::Result<Option<String>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT secret_hash FROM notify_hooks WHERE conference_id = $1")
            .bind(conference)
            .fetch_optional(conn)
            .await
    })?;
    Ok(row)
}

/// A person's account on `platform` (user id and username), the identity the web acts as.
pub async fn account_of(
    tx: &mut Tx,
    person: i64,
    platform: &str,
) -> anyhow::Result<Option<(String, Option<String>)>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT platform_user_id, username FROM person_accounts WHERE person_id = $1 AND platform = $2 \
             ORDER BY id LIMIT 1",
        )
        .bind(person)
        .bind(platform)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// A person's id for `herald web-link --user`: their user id on any channel (a Telegram id, a web chat
/// account id as `/whoami` shows it) or a username (`@ada`, a Mastodon handle).
pub async fn find_person(tx: &mut Tx, who: &str) -> anyhow::Result<Option<i64>> {
    let who = who.trim();
    let row: Option<i64> = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT person_id FROM person_accounts \
             WHERE platform_user_id = $1 OR LOWER(username) = LOWER($2) ORDER BY id LIMIT 1",
        )
        .bind(who)
        .bind(who.trim_start_matches('@'))
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// The owner (the first person holding the owner role), the default for `herald web-link`.
pub async fn owner(tx: &mut Tx) -> anyhow::Result<Option<i64>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT person_id FROM roles WHERE role = 'owner' ORDER BY person_id LIMIT 1",
        )
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// A chat bound to one of a conference's slots, for the config page.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct BoundChat {
    pub slot: String,
    pub platform: String,
    pub chat_id: String,
    pub title: Option<String>,
    pub bound_at: DateTime<Utc>,
    pub bound_by: Option<String>,
}

pub async fn bindings_of(tx: &mut Tx, conference: i64) -> anyhow::Result<Vec<BoundChat>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT b.slot, b.platform, b.chat_id, b.title, b.bound_at, p.display_name AS bound_by \
             FROM channel_bindings b LEFT JOIN people p ON p.id = b.bound_by \
             WHERE b.conference_id = $1 ORDER BY b.slot, b.platform",
        )
        .bind(conference)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// One provider's switches in one conference (all off when never set).
#[derive(Debug, Clone, Default, FromRow, serde::Serialize)]
pub struct Switches {
    pub provider_id: i64,
    pub public_broadcast: bool,
    pub attendee_broadcast: bool,
    pub private_notifications: bool,
    pub organiser_notifications: bool,
    pub social_management: bool,
}

pub async fn switches_of(tx: &mut Tx, conference: i64) -> anyhow::Result<Vec<Switches>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT provider_id, public_broadcast, attendee_broadcast, private_notifications, \
             organiser_notifications, social_management FROM conference_provider_switches WHERE conference_id = $1",
        )
        .bind(conference)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// When each provider of a series had its credentials set (`None`: never).
pub async fn credentials_set_at(
    tx: &mut Tx,
    series: i64,
) -> anyhow::Result<Vec<(i64, Option<DateTime<Utc>>)>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, credentials_set_at FROM providers WHERE series_id = $1 AND credentials <> '{}'",
        )
        .bind(series)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// The post a picture belongs to.
pub async fn post_of_image(tx: &mut Tx, image: i64) -> anyhow::Result<Option<i64>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT post_id FROM post_images WHERE id = $1")
            .bind(image)
            .fetch_optional(conn)
            .await
    })?;
    Ok(row)
}
