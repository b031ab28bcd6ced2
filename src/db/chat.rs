//! Queries for per-chat state: the conference a chat is about and its pending action. All run inside
//! the caller's transaction.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

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
