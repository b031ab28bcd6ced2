//! Queries for the web chat: rooms, the messages each chat shows, and people's web accounts.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

/// The platform name of web chat accounts, chats and outbox rows.
pub const PLATFORM: &str = "web";

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Room {
    pub id: i64,
    pub title: String,
    pub created_by: Option<i64>,
}

impl Room {
    /// The room's chat id.
    pub fn chat_id(&self) -> String {
        format!("room-{}", self.id)
    }
}

/// A room's number from its chat id.
pub fn room_number(chat_id: &str) -> Option<i64> {
    chat_id.strip_prefix("room-")?.parse().ok()
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct WebMessage {
    pub id: i64,
    pub chat_id: String,
    /// Who wrote it; `None` for Herald.
    pub author: Option<String>,
    pub html: String,
    /// Buttons as JSON: rows of `{label, data}`.
    pub actions: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

impl WebMessage {
    /// Its buttons, rows of (label, data).
    pub fn buttons(&self) -> Vec<Vec<(String, String)>> {
        serde_json::from_str::<Vec<Vec<serde_json::Value>>>(&self.actions)
            .unwrap_or_default()
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|b| {
                        let text = |k: &str| b[k].as_str().unwrap_or_default().to_owned();
                        (text("label"), text("data"))
                    })
                    .collect()
            })
            .collect()
    }
}

/// A person's web account id (their private web chat), made on first use. Someone already reached on
/// another channel who opens the web chat gets only direct messages there until they choose more with
/// `/settings`, so a look at the page does not double every announcement and reminder.
pub async fn account(tx: &mut Tx, now: DateTime<Utc>, person: i64) -> anyhow::Result<String> {
    let existing: Option<String> = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT platform_user_id FROM person_accounts WHERE person_id = $1 AND platform = $2 \
             ORDER BY id LIMIT 1",
        )
        .bind(person)
        .bind(PLATFORM)
        .fetch_optional(conn)
        .await
    })?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id = new_account_id();
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO person_accounts \
             (person_id, platform, platform_user_id, username, linked_at, announcements, reminders) \
             SELECT $1, $2, $3, NULL, $4, c.n = 0, c.n = 0 \
             FROM (SELECT COUNT(*) AS n FROM person_accounts WHERE person_id = $1) c",
        )
        .bind(person)
        .bind(PLATFORM)
        .bind(&id)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(id)
}

/// A fresh web account id: `w` and 16 hex digits, random, so one cannot guess another's chat.
pub fn new_account_id() -> String {
    let bytes: [u8; 8] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("w{hex}")
}

pub async fn create_room(
    tx: &mut Tx,
    now: DateTime<Utc>,
    title: &str,
    person: i64,
) -> anyhow::Result<i64> {
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO web_rooms (title, created_by, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(title)
        .bind(person)
        .bind(now)
        .fetch_one(conn)
        .await
    })?;
    Ok(id)
}

pub async fn room(tx: &mut Tx, id: i64) -> anyhow::Result<Option<Room>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as("SELECT id, title, created_by FROM web_rooms WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await
    })?;
    Ok(row)
}

/// The rooms `person` may read and write: those they made until they are bound, those bound to a
/// conference where they help organise (volunteer and up) and attendee rooms of conferences they belong
/// to. An owner sees every room. (A bound room follows the roles: one who loses theirs loses it.)
pub async fn rooms_of(tx: &mut Tx, person: i64) -> anyhow::Result<Vec<Room>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT r.id, r.title, r.created_by FROM web_rooms r WHERE (r.created_by = $1 \
             AND NOT EXISTS (SELECT 1 FROM channel_bindings u \
                             WHERE u.platform = $2 AND u.chat_id = 'room-' || CAST(r.id AS TEXT))) \
             OR EXISTS (SELECT 1 FROM roles o WHERE o.person_id = $1 AND o.role = 'owner') \
             OR EXISTS (SELECT 1 FROM channel_bindings b JOIN roles g ON g.conference_id = b.conference_id \
                        WHERE b.platform = $2 AND b.chat_id = 'room-' || CAST(r.id AS TEXT) AND g.person_id = $1 \
                        AND (g.role IN ('admin', 'volunteer') OR b.slot = 'attendees')) \
             ORDER BY r.id",
        )
        .bind(person)
        .bind(PLATFORM)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Shows a message in `chat` — what someone wrote (`author`), or Herald's (`author` `None`, once per
/// delivery `key`: a retried delivery finds the message it made) — and returns its id.
pub async fn add_message(
    tx: &mut Tx,
    now: DateTime<Utc>,
    chat: &str,
    author: Option<&str>,
    html: &str,
    actions: &str,
    key: Option<&str>,
) -> anyhow::Result<i64> {
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO web_messages (chat_id, author, html, actions, created_at, delivery_key) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (delivery_key) DO UPDATE SET delivery_key = excluded.delivery_key RETURNING id",
        )
        .bind(chat)
        .bind(author)
        .bind(html)
        .bind(actions)
        .bind(now)
        .bind(key)
        .fetch_one(conn)
        .await
    })?;
    Ok(id)
}

/// Replaces the text and buttons of Herald's message `id` in `chat`; `false` if there is no such message.
pub async fn edit_message(
    tx: &mut Tx,
    now: DateTime<Utc>,
    chat: &str,
    id: i64,
    html: &str,
    actions: &str,
) -> anyhow::Result<bool> {
    let n = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE web_messages SET html = $1, actions = $2, edited_at = $3 \
             WHERE id = $4 AND chat_id = $5 AND author IS NULL",
        )
        .bind(html)
        .bind(actions)
        .bind(now)
        .bind(id)
        .bind(chat)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}

/// The last `limit` messages of `chat`, oldest first.
pub async fn messages(tx: &mut Tx, chat: &str, limit: i64) -> anyhow::Result<Vec<WebMessage>> {
    let mut rows: Vec<WebMessage> = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, chat_id, author, html, actions, created_at, edited_at FROM web_messages \
             WHERE chat_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(chat)
        .bind(limit)
        .fetch_all(conn)
        .await
    })?;
    rows.reverse();
    Ok(rows)
}

/// Removes a message someone wrote (it held a secret, such as a binding code).
pub async fn delete_message(tx: &mut Tx, chat: &str, id: i64) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "DELETE FROM web_messages WHERE id = $1 AND chat_id = $2 AND author IS NOT NULL",
        )
        .bind(id)
        .bind(chat)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}
