//! Inbox queries: store once, claim with a lease, mark done or failed.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Backend, Db, Tx, on_db, on_tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InboxState {
    Pending,
    Processing,
    Done,
    Failed,
}

impl InboxState {
    pub const ALL: [Self; 4] = [Self::Pending, Self::Processing, Self::Done, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }
}

impl TryFrom<String> for InboxState {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| format!("unknown inbox state {value:?}"))
    }
}

/// An inbound event as it arrived.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Who delivered it: `telegram`, `mastodon:3`, `notify`.
    pub provider: String,
    /// The platform's own id for it (Telegram's `update_id`, a Mastodon notification id).
    pub event_id: String,
    /// What it is, which picks the handler: `telegram.update`, `mastodon.notification`.
    pub kind: String,
    /// The raw body.
    pub payload: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct InboxEvent {
    pub id: i64,
    pub provider: String,
    pub event_id: String,
    pub kind: String,
    pub payload: String,
    #[sqlx(try_from = "String")]
    pub state: InboxState,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

macro_rules! columns {
    () => {
        "id, provider, event_id, kind, payload, state, attempts, last_error, received_at, processed_at"
    };
}

/// Stores an event unless one with the same (provider, event id) is already stored. Returns the new
/// row's id, or `None` for a duplicate.
pub async fn insert(tx: &mut Tx, now: DateTime<Utc>, e: &NewEvent) -> anyhow::Result<Option<i64>> {
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO inbox (provider, event_id, kind, payload, state, attempts, next_attempt_at, received_at) \
             VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) ON CONFLICT (provider, event_id) DO NOTHING RETURNING id",
        )
        .bind(&e.provider)
        .bind(&e.event_id)
        .bind(&e.kind)
        .bind(&e.payload)
        .bind(now)
        .fetch_optional(conn)
        .await
    })?;
    if id.is_some() {
        tx.mark_inbox_written();
    }
    Ok(id)
}

/// Claims up to `limit` events in arrival order: pending ones, and ones whose processor died mid-way
/// (lease ran out).
pub async fn claim(
    db: &Db,
    now: DateTime<Utc>,
    owner: &str,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> anyhow::Result<Vec<InboxEvent>> {
    const SQLITE: &str = concat!(
        "UPDATE inbox SET state = 'processing', lease_owner = $1, next_attempt_at = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM inbox WHERE state IN ('pending', 'processing') AND next_attempt_at <= $3 \
         ORDER BY id LIMIT $4) RETURNING ",
        columns!()
    );
    const POSTGRES: &str = concat!(
        "UPDATE inbox SET state = 'processing', lease_owner = $1, next_attempt_at = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM inbox WHERE state IN ('pending', 'processing') AND next_attempt_at <= $3 \
         ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING ",
        columns!()
    );
    let sql = match db.backend() {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    let _turn = db.write_turn().await;
    let mut events: Vec<InboxEvent> = on_db!(db, |pool| {
        sqlx::query_as(sql)
            .bind(owner)
            .bind(lease_until)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
    })?;
    events.sort_by_key(|e| e.id);
    Ok(events)
}

/// Marks an event handled, inside the handler's transaction, so its effects and the mark commit together.
/// Replaces an event's stored body once it has been handled, for a message that held a secret.
pub async fn redact(tx: &mut Tx, id: i64) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE inbox SET payload = '{\"redacted\":true}' WHERE id = $1")
            .bind(id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn mark_done(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: i64,
    owner: &str,
) -> anyhow::Result<bool> {
    let done = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE inbox SET state = 'done', processed_at = $1, last_error = NULL, lease_owner = NULL \
             WHERE id = $2 AND lease_owner = $3 AND state = 'processing'",
        )
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// Marks `ids`, handled together in `tx`, done; returns how many were still leased to `owner` (fewer
/// than `ids` means a lease ran out and another worker took an event: the caller rolls back). One
/// statement for a whole group, where each event's own would cost a round trip.
pub async fn mark_all_done(
    tx: &mut Tx,
    now: DateTime<Utc>,
    ids: &[i64],
    owner: &str,
) -> anyhow::Result<u64> {
    let done = match tx.inner_mut() {
        super::TxInner::Sqlite(t) => sqlx::query(
            "UPDATE inbox SET state = 'done', processed_at = $1, last_error = NULL, lease_owner = NULL \
             WHERE id IN (SELECT value FROM json_each($2)) AND lease_owner = $3 AND state = 'processing'",
        )
        .bind(now)
        .bind(serde_json::to_string(ids)?)
        .bind(owner)
        .execute(&mut **t)
        .await?
        .rows_affected(),
        super::TxInner::Postgres(t) => sqlx::query(
            "UPDATE inbox SET state = 'done', processed_at = $1, last_error = NULL, lease_owner = NULL \
             WHERE id = ANY($2) AND lease_owner = $3 AND state = 'processing'",
        )
        .bind(now)
        .bind(ids)
        .bind(owner)
        .execute(&mut **t)
        .await?
        .rows_affected(),
    };
    Ok(done)
}

pub async fn mark_failed(
    db: &Db,
    now: DateTime<Utc>,
    id: i64,
    owner: &str,
    error: &str,
) -> anyhow::Result<()> {
    let _turn = db.write_turn().await;
    on_db!(db, |pool| {
        sqlx::query(
            "UPDATE inbox SET state = 'failed', processed_at = $1, last_error = $2, lease_owner = NULL \
             WHERE id = $3 AND lease_owner = $4 AND state = 'processing'",
        )
        .bind(now)
        .bind(error)
        .bind(id)
        .bind(owner)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn next_wake(db: &Db) -> anyhow::Result<Option<DateTime<Utc>>> {
    let next = on_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM inbox WHERE state IN ('pending', 'processing')",
        )
        .fetch_one(pool)
        .await
    })?;
    Ok(next)
}

pub async fn list(db: &Db) -> anyhow::Result<Vec<InboxEvent>> {
    let rows = on_db!(db, |pool| {
        sqlx::query_as(concat!("SELECT ", columns!(), " FROM inbox ORDER BY id"))
            .fetch_all(pool)
            .await
    })?;
    Ok(rows)
}

/// Unfinished events per state (`pending`, `processing`), counted up to [`super::BACKLOG_CAP`]: what
/// `/healthz` shows, in bounded time however many handled events the table holds.
pub async fn backlog(db: &Db) -> anyhow::Result<Vec<(String, i64)>> {
    let rows = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT state, COUNT(*) FROM (SELECT state FROM inbox WHERE state IN ('pending', 'processing') \
             LIMIT $1) AS unfinished GROUP BY state ORDER BY state",
        )
        .bind(super::BACKLOG_CAP)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows)
}

/// Events due to be handled at `now` (counted up to [`super::BACKLOG_CAP`]) and the earliest due time of
/// any unhandled event, both through the claim index: what `/metrics` shows, in bounded time.
pub async fn due(db: &Db, now: DateTime<Utc>) -> anyhow::Result<(i64, Option<DateTime<Utc>>)> {
    let due = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM inbox WHERE state IN ('pending', 'processing')              AND next_attempt_at <= $1 LIMIT $2) AS due),              (SELECT MIN(next_attempt_at) FROM inbox WHERE state IN ('pending', 'processing'))",
        )
        .bind(now)
        .bind(super::BACKLOG_CAP)
        .fetch_one(pool)
        .await
    })?;
    Ok(due)
}

/// Event counts per state, every row counted.
pub async fn counts(db: &Db) -> anyhow::Result<Vec<(String, i64)>> {
    let rows = on_db!(db, |pool| {
        sqlx::query_as("SELECT state, COUNT(*) FROM inbox GROUP BY state ORDER BY state")
            .fetch_all(pool)
            .await
    })?;
    Ok(rows)
}

/// Deletes up to `limit` handled events (`done`) handled before `before`; returns how many.
pub async fn prune(db: &Db, before: DateTime<Utc>, limit: i64) -> anyhow::Result<u64> {
    let _turn = db.write_turn().await;
    let done = on_db!(db, |pool| {
        sqlx::query(
            "DELETE FROM inbox WHERE id IN (SELECT id FROM inbox \
             WHERE state = 'done' AND processed_at < $1 LIMIT $2)",
        )
        .bind(before)
        .bind(limit)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(done)
}
