//! Queries for channel bindings: which chat serves a conference's slot on each platform. All run inside
//! the caller's transaction.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

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
