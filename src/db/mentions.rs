//! Queries for mentions heard on the networks and the listeners' checkpoints.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

/// A mention as the listeners found it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewMention {
    pub platform_id: String,
    pub platform_cid: Option<String>,
    pub root_id: Option<String>,
    pub root_cid: Option<String>,
    /// `mention`, `reply` or `quote`.
    pub kind: String,
    pub visibility: Option<String>,
    pub author_platform_id: String,
    pub author_handle: String,
    pub author_name: String,
    pub text: String,
    pub url: Option<String>,
    pub written_at: DateTime<Utc>,
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Mention {
    pub id: i64,
    pub conference_id: i64,
    pub provider_id: i64,
    pub platform_id: String,
    pub platform_cid: Option<String>,
    pub root_id: Option<String>,
    pub root_cid: Option<String>,
    pub kind: String,
    pub visibility: Option<String>,
    pub author_platform_id: String,
    pub author_handle: String,
    pub author_name: String,
    pub text: String,
    pub url: Option<String>,
    pub state: String,
    pub acted_by: Option<i64>,
    pub acted_at: Option<DateTime<Utc>>,
    pub written_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

macro_rules! mention_columns {
    () => {
        "id, conference_id, provider_id, platform_id, platform_cid, root_id, root_cid, kind, visibility, \
         author_platform_id, author_handle, author_name, text, url, state, acted_by, acted_at, written_at, received_at"
    };
}

/// Stores a mention for `conference`; `None` when the provider already has it.
pub async fn insert(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    provider: i64,
    m: &NewMention,
) -> anyhow::Result<Option<i64>> {
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO mentions (conference_id, provider_id, platform_id, platform_cid, root_id, root_cid, kind, \
             visibility, author_platform_id, author_handle, author_name, text, url, written_at, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (provider_id, platform_id) DO NOTHING RETURNING id",
        )
        .bind(conference)
        .bind(provider)
        .bind(&m.platform_id)
        .bind(&m.platform_cid)
        .bind(&m.root_id)
        .bind(&m.root_cid)
        .bind(&m.kind)
        .bind(&m.visibility)
        .bind(&m.author_platform_id)
        .bind(&m.author_handle)
        .bind(&m.author_name)
        .bind(&m.text)
        .bind(&m.url)
        .bind(m.written_at)
        .bind(now)
        .fetch_optional(conn)
        .await
    })?;
    Ok(id)
}

pub async fn mention(tx: &mut Tx, id: i64) -> anyhow::Result<Option<Mention>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            mention_columns!(),
            " FROM mentions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// Open mentions of a conference, oldest first: `limit` of them after skipping `offset`, and how many
/// are open in all.
pub async fn open(
    tx: &mut Tx,
    conference: i64,
    limit: i64,
    offset: i64,
) -> anyhow::Result<(Vec<Mention>, i64)> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            mention_columns!(),
            " FROM mentions WHERE conference_id = $1 AND state = 'open' ORDER BY id LIMIT $2 OFFSET $3"
        ))
        .bind(conference)
        .bind(limit)
        .bind(offset)
        .fetch_all(conn)
        .await
    })?;
    let total = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM mentions WHERE conference_id = $1 AND state = 'open'",
        )
        .bind(conference)
        .fetch_one(conn)
        .await
    })?;
    Ok((rows, total))
}

/// Moves an open mention to `state` (replied, discarded, boosted); false when it was not open any more.
/// Opens a mention again whose answer was rejected: it waits for another answer.
pub async fn reopen(tx: &mut Tx, id: i64) -> anyhow::Result<bool> {
    let changed = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE mentions SET state = 'open', acted_by = NULL, acted_at = NULL \
             WHERE id = $1 AND state = 'replied'",
        )
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(changed == 1)
}

pub async fn close(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: i64,
    state: &str,
    by: Option<i64>,
) -> anyhow::Result<bool> {
    let changed = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE mentions SET state = $2, acted_by = $3, acted_at = $4 WHERE id = $1 AND state = 'open'",
        )
        .bind(id)
        .bind(state)
        .bind(by)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(changed == 1)
}

/// The mention whose moderation-chat message is `message_id` in `chat` (outbox keys `mention:<id>/…`).
pub async fn by_chat_message(
    tx: &mut Tx,
    chat: &str,
    message_id: &str,
) -> anyhow::Result<Option<i64>> {
    let key: Option<String> = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT idempotency_key FROM outbox WHERE target = $1 AND platform_message_id = $2 \
             AND idempotency_key LIKE 'mention:%' ORDER BY id DESC LIMIT 1",
        )
        .bind(chat)
        .bind(message_id)
        .fetch_optional(conn)
        .await
    })?;
    Ok(key.and_then(|k| {
        k.strip_prefix("mention:")?
            .split(['/', ':'])
            .next()?
            .parse()
            .ok()
    }))
}

/// Where a mention's moderation-chat messages went (platform, chat, message id), once sent.
pub async fn chat_messages(
    tx: &mut Tx,
    mention: i64,
) -> anyhow::Result<Vec<(String, String, String)>> {
    super::outbox::sent_messages(tx, &format!("mention:{mention}")).await
}

/// The active providers that route their incoming messages to a conference: (id, conference, kind).
pub async fn routed_providers(tx: &mut Tx) -> anyhow::Result<Vec<(i64, i64, String)>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, incoming_conference_id, kind FROM providers WHERE active \
             AND incoming_conference_id IS NOT NULL ORDER BY id",
        )
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// The conference a provider's incoming messages go to, if any.
pub async fn route_of(tx: &mut Tx, provider: i64) -> anyhow::Result<Option<i64>> {
    let route: Option<Option<i64>> = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT incoming_conference_id FROM providers WHERE id = $1")
            .bind(provider)
            .fetch_optional(conn)
            .await
    })?;
    Ok(route.flatten())
}

/// Routes a provider's incoming messages to `conference` (or nowhere).
pub async fn set_route(tx: &mut Tx, provider: i64, conference: Option<i64>) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE providers SET incoming_conference_id = $2 WHERE id = $1")
            .bind(provider)
            .bind(conference)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// A listener's checkpoint and health.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Checkpoint {
    pub provider_id: i64,
    pub cursor: Option<String>,
    pub state: String,
    pub last_error: Option<String>,
    pub last_event_at: Option<DateTime<Utc>>,
    pub failing_since: Option<DateTime<Utc>>,
    pub failure_notified: bool,
    pub updated_at: DateTime<Utc>,
}

pub async fn checkpoint(tx: &mut Tx, provider: i64) -> anyhow::Result<Option<Checkpoint>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT provider_id, cursor, state, last_error, last_event_at, failing_since, failure_notified, updated_at \
             FROM listener_checkpoints WHERE provider_id = $1",
        )
        .bind(provider)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// Every listener's checkpoint with its provider's name and conference, for `/status`.
pub async fn checkpoints_of(
    tx: &mut Tx,
    conference: i64,
) -> anyhow::Result<Vec<(String, String, Checkpoint)>> {
    #[derive(FromRow)]
    struct Row {
        name: String,
        kind: String,
        #[sqlx(flatten)]
        checkpoint: Checkpoint,
    }
    let rows: Vec<Row> = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT p.internal_name AS name, p.kind, c.provider_id, c.cursor, c.state, c.last_error, c.last_event_at, \
             c.failing_since, c.failure_notified, c.updated_at \
             FROM listener_checkpoints c JOIN providers p ON p.id = c.provider_id \
             WHERE p.incoming_conference_id = $1 AND p.active ORDER BY p.internal_name",
        )
        .bind(conference)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| (r.name, r.kind, r.checkpoint))
        .collect())
}

/// Writes a listener's checkpoint: the cursor (kept when `None`), its state, and the last event time
/// (kept when `None`).
pub async fn save_checkpoint(
    tx: &mut Tx,
    now: DateTime<Utc>,
    provider: i64,
    cursor: Option<&str>,
    state: &str,
    last_event_at: Option<DateTime<Utc>>,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO listener_checkpoints (provider_id, cursor, state, last_event_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (provider_id) DO UPDATE SET cursor = COALESCE(EXCLUDED.cursor, listener_checkpoints.cursor), \
             state = EXCLUDED.state, \
             last_event_at = COALESCE(EXCLUDED.last_event_at, listener_checkpoints.last_event_at), \
             updated_at = EXCLUDED.updated_at",
        )
        .bind(provider)
        .bind(cursor)
        .bind(state)
        .bind(last_event_at)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Records a failure: the state `failing`, the error, and since when (kept across repeated failures).
pub async fn record_failure(
    tx: &mut Tx,
    now: DateTime<Utc>,
    provider: i64,
    error: &str,
) -> anyhow::Result<Checkpoint> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(
            "INSERT INTO listener_checkpoints (provider_id, state, last_error, failing_since, updated_at) \
             VALUES ($1, 'failing', $2, $3, $3) \
             ON CONFLICT (provider_id) DO UPDATE SET state = 'failing', last_error = EXCLUDED.last_error, \
             failing_since = COALESCE(listener_checkpoints.failing_since, EXCLUDED.failing_since), \
             updated_at = EXCLUDED.updated_at \
             RETURNING provider_id, cursor, state, last_error, last_event_at, failing_since, failure_notified, updated_at",
        )
        .bind(provider)
        .bind(error)
        .bind(now)
        .fetch_one(conn)
        .await
    })?;
    Ok(row)
}

/// Clears a failure once the listener works again; returns whether the organisers had been told of it
/// (so they hear of the recovery too).
pub async fn clear_failure(tx: &mut Tx, provider: i64) -> anyhow::Result<bool> {
    let notified: Option<bool> = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT failure_notified FROM listener_checkpoints WHERE provider_id = $1 AND failing_since IS NOT NULL",
        )
        .bind(provider)
        .fetch_optional(conn)
        .await
    })?;
    if notified.is_some() {
        on_tx!(tx, |conn| {
            sqlx::query(
                "UPDATE listener_checkpoints SET failing_since = NULL, last_error = NULL, failure_notified = FALSE \
                 WHERE provider_id = $1",
            )
            .bind(provider)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
        })?;
    }
    Ok(notified.unwrap_or(false))
}

pub async fn mark_failure_notified(tx: &mut Tx, provider: i64) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE listener_checkpoints SET failure_notified = TRUE WHERE provider_id = $1",
        )
        .bind(provider)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}
