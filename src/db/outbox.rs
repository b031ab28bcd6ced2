//! Outbox queries: enqueue, claim with a lease, record outcomes.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Backend, Db, Tx, on_db, on_tx};

/// The lifecycle of an outbox row. See the `outbox` table in the migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    Pending,
    Sending,
    Sent,
    GivenUp,
    Expired,
    Cancelled,
}

impl OutboxState {
    pub const ALL: [Self; 6] = [
        Self::Pending,
        Self::Sending,
        Self::Sent,
        Self::GivenUp,
        Self::Expired,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::GivenUp => "given_up",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }
}

impl TryFrom<String> for OutboxState {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| format!("unknown outbox state {value:?}"))
    }
}

/// The kind of rows whose body holds a secret (an invite link): blanked once the row is sent.
pub const SECRET_KIND: &str = "secret";

/// Which queue a row waits in: lower lanes are claimed first, so a fan-out never holds up a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lane {
    /// Someone is waiting: replies to commands, button answers, edits, organiser notices.
    Interactive = 0,
    /// Personal and timed: reminders, direct messages.
    Timely = 1,
    /// Fan-out: announcements, public posts, boosts.
    Bulk = 2,
}

impl Lane {
    pub const ALL: [Self; 3] = [Self::Interactive, Self::Timely, Self::Bulk];

    /// The lane of a row kind (see the delivery layer's notice kinds and the senders' row kinds).
    pub fn of_kind(kind: &str) -> Self {
        match kind {
            "announcement" | "post" | "boost" => Self::Bulk,
            "reminder" | "dm" => Self::Timely,
            _ => Self::Interactive,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Interactive => "interactive",
            Self::Timely => "timely",
            Self::Bulk => "bulk",
        }
    }
}

/// A message to be written to the outbox.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub provider: String,
    pub platform: String,
    pub target: String,
    pub kind: String,
    pub idempotency_key: String,
    pub body: String,
    pub due_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub provider: String,
    pub platform: String,
    pub target: String,
    pub kind: String,
    pub idempotency_key: String,
    pub body: String,
    #[sqlx(try_from = "String")]
    pub state: OutboxState,
    pub due_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_owner: Option<String>,
    pub platform_message_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

macro_rules! columns {
    () => {
        "id, provider, platform, target, kind, idempotency_key, body, state, due_at, expires_at, attempts, \
         next_attempt_at, lease_owner, platform_message_id, last_error, created_at, updated_at, finished_at"
    };
}

/// Whether [`enqueue`] wrote a new row or found one with the same idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    New(i64),
    Existing(i64),
}

impl Enqueued {
    pub fn id(self) -> i64 {
        match self {
            Self::New(id) | Self::Existing(id) => id,
        }
    }
}

/// Writes a message in the caller's transaction. A second message with the same idempotency key is not
/// written again: the existing row's id is returned instead.
pub async fn enqueue(tx: &mut Tx, now: DateTime<Utc>, m: &NewMessage) -> anyhow::Result<Enqueued> {
    let inserted: Option<i64> = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO outbox (provider, platform, target, kind, idempotency_key, body, state, due_at, \
             expires_at, attempts, next_attempt_at, created_at, updated_at, lane) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, 0, $7, $9, $9, $10) \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        )
        .bind(&m.provider)
        .bind(&m.platform)
        .bind(&m.target)
        .bind(&m.kind)
        .bind(&m.idempotency_key)
        .bind(&m.body)
        .bind(m.due_at)
        .bind(m.expires_at)
        .bind(now)
        .bind(Lane::of_kind(&m.kind) as i16)
        .fetch_optional(conn)
        .await
    })?;
    if let Some(id) = inserted {
        tx.mark_outbox_written();
        return Ok(Enqueued::New(id));
    }
    let id: i64 = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT id FROM outbox WHERE idempotency_key = $1")
            .bind(&m.idempotency_key)
            .fetch_one(conn)
            .await
    })?;
    Ok(Enqueued::Existing(id))
}

/// Claims up to `limit` due rows for `owner` until `lease_until`: pending rows whose time has come, and
/// rows in `sending` whose previous lease ran out, lane by lane (interactive first). Claiming counts an
/// attempt.
///
/// PostgreSQL skips rows another process holds locked (`FOR UPDATE SKIP LOCKED`), so several Herald
/// processes share the queue without waiting on each other; SQLite has one writer at a time, and the
/// lease column alone keeps claims apart.
pub async fn claim(
    db: &Db,
    now: DateTime<Utc>,
    owner: &str,
    lease_until: DateTime<Utc>,
    limit: u32,
    lanes: &[Lane],
) -> anyhow::Result<Vec<OutboxRow>> {
    const SQLITE: &str = concat!(
        "UPDATE outbox SET state = 'sending', lease_owner = $1, next_attempt_at = $2, attempts = attempts + 1, \
         updated_at = $3 WHERE id IN (SELECT id FROM outbox WHERE state IN ('pending', 'sending') \
         AND lane = $5 AND next_attempt_at <= $3 ORDER BY next_attempt_at, id LIMIT $4) RETURNING ",
        columns!()
    );
    const POSTGRES: &str = concat!(
        "UPDATE outbox SET state = 'sending', lease_owner = $1, next_attempt_at = $2, attempts = attempts + 1, \
         updated_at = $3 WHERE id IN (SELECT id FROM outbox WHERE state IN ('pending', 'sending') \
         AND lane = $5 AND next_attempt_at <= $3 ORDER BY next_attempt_at, id LIMIT $4 \
         FOR UPDATE SKIP LOCKED) RETURNING ",
        columns!()
    );
    let sql = match db.backend() {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    let mut rows: Vec<OutboxRow> = Vec::new();
    for &lane in lanes {
        let left = i64::from(limit) - rows.len() as i64;
        if left <= 0 {
            break;
        }
        let _turn = db.write_turn().await;
        let mut claimed: Vec<OutboxRow> = on_db!(db, |pool| {
            sqlx::query_as(sql)
                .bind(owner)
                .bind(lease_until)
                .bind(now)
                .bind(left)
                .bind(lane as i16)
                .fetch_all(pool)
                .await
        })?;
        // RETURNING gives no order; send in the order messages were meant to go.
        claimed.sort_by_key(|r| (r.due_at, r.id));
        rows.extend(claimed);
    }
    Ok(rows)
}

/// What became of one claimed row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        platform_message_id: String,
    },
    /// Failed for now; try again at `at`.
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// Not attempted (rate limit, or an earlier message to the same chat failed): try at `at`, and the
    /// claim does not count as an attempt.
    Deferred {
        at: DateTime<Utc>,
    },
    /// The platform asked to slow down (HTTP 429): try at `at`; not a failed attempt.
    Throttled {
        at: DateTime<Utc>,
        error: String,
    },
    /// The chat moved (Telegram group → supergroup): send to `target` instead, not counted as an attempt.
    Retarget {
        target: String,
    },
    GivenUp {
        error: String,
    },
    /// The recipient is gone for good (blocked the bot, deactivated): given up, and the contact point is
    /// marked unreachable.
    Gone {
        error: String,
    },
    Expired {
        reason: String,
    },
}

impl Outcome {
    /// Whether the row reached an end (sent, given up, expired).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Sent { .. } | Self::GivenUp { .. } | Self::Gone { .. } | Self::Expired { .. }
        )
    }

    /// Whether the chat's later messages must wait behind this one (to keep their order).
    pub fn holds_the_chat(&self) -> bool {
        matches!(
            self,
            Self::Retry { .. } | Self::Throttled { .. } | Self::Retarget { .. }
        )
    }
}

/// Records outcomes for rows this `owner` holds. A row whose lease was lost to another worker is left
/// alone (the other worker's outcome wins).
pub async fn record(
    tx: &mut Tx,
    now: DateTime<Utc>,
    owner: &str,
    outcomes: &[(i64, Outcome)],
) -> anyhow::Result<()> {
    let sent: Vec<(i64, &str)> = outcomes
        .iter()
        .filter_map(|(id, o)| match o {
            Outcome::Sent {
                platform_message_id,
            } => Some((*id, platform_message_id.as_str())),
            _ => None,
        })
        .collect();
    record_sent(tx, now, owner, &sent).await?;
    for (id, outcome) in outcomes {
        match outcome {
            Outcome::Sent { .. } => 0,
            // A retry counts the attempt; being asked to wait (429) does not.
            Outcome::Retry { at, error } | Outcome::Throttled { at, error } => {
                on_tx!(tx, |conn| {
                    sqlx::query(
                    "UPDATE outbox SET state = 'pending', next_attempt_at = $1, last_error = $2, lease_owner = NULL, \
                     attempts = attempts - $6, updated_at = $3 WHERE id = $4 AND lease_owner = $5 AND state = 'sending'",
                )
                .bind(at)
                .bind(error)
                .bind(now)
                .bind(id)
                .bind(owner)
                .bind(i64::from(matches!(outcome, Outcome::Throttled { .. })))
                .execute(conn)
                .await
                .map(|r| r.rows_affected())
                })?
            }
            Outcome::Deferred { at } => on_tx!(tx, |conn| {
                sqlx::query(
                    "UPDATE outbox SET state = 'pending', next_attempt_at = $1, attempts = attempts - 1, \
                     lease_owner = NULL, updated_at = $2 WHERE id = $3 AND lease_owner = $4 AND state = 'sending'",
                )
                .bind(at)
                .bind(now)
                .bind(id)
                .bind(owner)
                .execute(conn)
                .await
                .map(|r| r.rows_affected())
            })?,
            Outcome::Retarget { target } => on_tx!(tx, |conn| {
                sqlx::query(
                    "UPDATE outbox SET state = 'pending', target = $1, next_attempt_at = $2, attempts = attempts - 1, \
                     lease_owner = NULL, updated_at = $2 WHERE id = $3 AND lease_owner = $4 AND state = 'sending'",
                )
                .bind(target)
                .bind(now)
                .bind(id)
                .bind(owner)
                .execute(conn)
                .await
                .map(|r| r.rows_affected())
            })?,
            Outcome::GivenUp { error } | Outcome::Gone { error } => on_tx!(tx, |conn| {
                sqlx::query(
                    "UPDATE outbox SET state = 'given_up', last_error = $1, lease_owner = NULL, updated_at = $2, \
                     finished_at = $2 WHERE id = $3 AND lease_owner = $4 AND state = 'sending'",
                )
                .bind(error)
                .bind(now)
                .bind(id)
                .bind(owner)
                .execute(conn)
                .await
                .map(|r| r.rows_affected())
            })?,
            Outcome::Expired { reason } => on_tx!(tx, |conn| {
                sqlx::query(
                    "UPDATE outbox SET state = 'expired', last_error = $1, lease_owner = NULL, updated_at = $2, \
                     finished_at = $2 WHERE id = $3 AND lease_owner = $4 AND state = 'sending'",
                )
                .bind(reason)
                .bind(now)
                .bind(id)
                .bind(owner)
                .execute(conn)
                .await
                .map(|r| r.rows_affected())
            })?,
        };
    }
    Ok(())
}

/// Marks sent rows, many per statement: the common outcome, and the one the delivery rate depends on.
/// `VALUES` columns are called column1, column2 on both backends.
async fn record_sent(
    tx: &mut Tx,
    now: DateTime<Utc>,
    owner: &str,
    sent: &[(i64, &str)],
) -> anyhow::Result<()> {
    const HEAD: &str = "UPDATE outbox SET state = 'sent', platform_message_id = v.pid, last_error = NULL, \
                        body = CASE WHEN kind = 'secret' THEN '{\"redacted\":true}' ELSE body END, \
                        lease_owner = NULL, updated_at = ";
    for chunk in sent.chunks(500) {
        on_tx!(tx, |conn| {
            let mut qb = sqlx::QueryBuilder::new(HEAD);
            qb.push_bind(now).push(", finished_at = ").push_bind(now);
            qb.push(" FROM (SELECT column1 AS id, column2 AS pid FROM (");
            qb.push_values(chunk, |mut row, (id, pid)| {
                row.push_bind(*id).push_bind(*pid);
            });
            qb.push(") AS t) AS v WHERE outbox.id = v.id AND outbox.lease_owner = ")
                .push_bind(owner)
                .push(" AND outbox.state = 'sending'");
            qb.build().execute(conn).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Points every queued message for a chat that moved at its new id.
pub async fn retarget_pending(
    tx: &mut Tx,
    now: DateTime<Utc>,
    platform: &str,
    from: &str,
    to: &str,
) -> anyhow::Result<u64> {
    let done = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE outbox SET target = $1, updated_at = $2 WHERE platform = $3 AND target = $4 AND state = 'pending'",
        )
        .bind(to)
        .bind(now)
        .bind(platform)
        .bind(from)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(done)
}

/// Hands back every row `owner` still holds, so another worker (or this one after a restart) retries
/// them at once. Used when shutdown cannot wait for sends to finish; `reason` is recorded on each row.
pub async fn release(
    db: &Db,
    now: DateTime<Utc>,
    owner: &str,
    reason: &str,
) -> anyhow::Result<u64> {
    let _turn = db.write_turn().await;
    let done = on_db!(db, |pool| {
        sqlx::query(
            "UPDATE outbox SET state = 'pending', next_attempt_at = $1, lease_owner = NULL, last_error = $2, \
             updated_at = $1 WHERE lease_owner = $3 AND state = 'sending'",
        )
        .bind(now)
        .bind(reason)
        .bind(owner)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(done)
}

/// Hands back every row held by any worker, at once: on SQLite only one process runs, so at start every
/// held row belonged to a predecessor that died.
pub async fn release_all(db: &Db, now: DateTime<Utc>, reason: &str) -> anyhow::Result<u64> {
    let _turn = db.write_turn().await;
    let done = on_db!(db, |pool| {
        sqlx::query(
            "UPDATE outbox SET state = 'pending', next_attempt_at = $1, lease_owner = NULL, last_error = $2, \
             updated_at = $1 WHERE state = 'sending' AND lease_owner IS NOT NULL",
        )
        .bind(now)
        .bind(reason)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(done)
}

/// When the worker next has something to do: the earliest due time or lease end.
pub async fn next_wake(db: &Db) -> anyhow::Result<Option<DateTime<Utc>>> {
    let next = on_db!(db, |pool| {
        // One range of the claim index per lane.
        sqlx::query_scalar(
            "SELECT MIN(m) FROM ( \
             SELECT MIN(next_attempt_at) AS m FROM outbox WHERE state IN ('pending', 'sending') AND lane = 0 \
             UNION ALL SELECT MIN(next_attempt_at) FROM outbox WHERE state IN ('pending', 'sending') AND lane = 1 \
             UNION ALL SELECT MIN(next_attempt_at) FROM outbox WHERE state IN ('pending', 'sending') AND lane = 2 \
             ) AS lanes",
        )
        .fetch_one(pool)
        .await
    })?;
    Ok(next)
}

pub async fn get(db: &Db, id: i64) -> anyhow::Result<Option<OutboxRow>> {
    let row = on_db!(db, |pool| {
        sqlx::query_as(concat!("SELECT ", columns!(), " FROM outbox WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row)
}

/// All rows, oldest first; for tests and operators.
pub async fn list(db: &Db) -> anyhow::Result<Vec<OutboxRow>> {
    let rows = on_db!(db, |pool| {
        sqlx::query_as(concat!("SELECT ", columns!(), " FROM outbox ORDER BY id"))
            .fetch_all(pool)
            .await
    })?;
    Ok(rows)
}

/// Unfinished rows per state (`pending`, `sending`), counted up to [`super::BACKLOG_CAP`] through the
/// claim index: what `/healthz` shows, in bounded time however many finished rows the table holds.
pub async fn backlog(db: &Db) -> anyhow::Result<Vec<(String, i64)>> {
    let rows = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT state, COUNT(*) FROM (SELECT state FROM outbox WHERE state IN ('pending', 'sending') \
             LIMIT $1) AS unfinished GROUP BY state ORDER BY state",
        )
        .bind(super::BACKLOG_CAP)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows)
}

/// Row counts per state of the rows with these ids: how far a batch (`herald invite --send`) got.
pub async fn states_of(db: &Db, ids: &[i64]) -> anyhow::Result<Vec<(String, i64)>> {
    let mut counts: Vec<(String, i64)> = Vec::new();
    // A few hundred ids per statement: both backends take that many parameters.
    for chunk in ids.chunks(500) {
        let list = (1..=chunk.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT state, COUNT(*) FROM outbox WHERE id IN ({list}) GROUP BY state ORDER BY state"
        );
        let rows: Vec<(String, i64)> = on_db!(db, |pool| {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for id in chunk {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await
        })?;
        for (state, n) in rows {
            match counts.iter_mut().find(|(s, _)| *s == state) {
                Some((_, total)) => *total += n,
                None => counts.push((state, n)),
            }
        }
    }
    Ok(counts)
}

/// Per lane, the rows due to be sent at `now` (counted up to [`super::BACKLOG_CAP`]) and the earliest due
/// time of any unfinished row, both through the claim index: what `/metrics` shows, in bounded time
/// however many rows the table holds.
pub async fn due_by_lane(
    db: &Db,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<(Lane, i64, Option<DateTime<Utc>>)>> {
    let mut lanes = Vec::with_capacity(Lane::ALL.len());
    for lane in Lane::ALL {
        let (due, earliest): (i64, Option<DateTime<Utc>>) = on_db!(db, |pool| {
            sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE state IN ('pending', 'sending')                  AND lane = $1 AND next_attempt_at <= $2 LIMIT $3) AS due),                  (SELECT MIN(next_attempt_at) FROM outbox WHERE state IN ('pending', 'sending') AND lane = $1)",
            )
            .bind(lane as i16)
            .bind(now)
            .bind(super::BACKLOG_CAP)
            .fetch_one(pool)
            .await
        })?;
        lanes.push((lane, due, earliest));
    }
    Ok(lanes)
}

/// Row counts per state, every row counted: for tests, benchmarks and operators.
pub async fn counts(db: &Db) -> anyhow::Result<Vec<(String, i64)>> {
    let rows = on_db!(db, |pool| {
        sqlx::query_as("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")
            .fetch_all(pool)
            .await
    })?;
    Ok(rows)
}

/// Writes a scheduled message (a reminder) so that recomputing it is idempotent: a new key is inserted;
/// a pending or cancelled row with the key takes the new due time, deadline and body (a cancelled one is
/// revived); a row that was already sent, expired or given up is left alone. Returns whether anything
/// will (still) be sent.
pub async fn upsert_scheduled(
    tx: &mut Tx,
    now: DateTime<Utc>,
    m: &NewMessage,
) -> anyhow::Result<bool> {
    if let Enqueued::New(_) = enqueue(tx, now, m).await? {
        return Ok(true);
    }
    let updated = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE outbox SET body = $1, due_at = $2, next_attempt_at = $2, expires_at = $3, state = 'pending', \
             last_error = NULL, finished_at = NULL, updated_at = $4 \
             WHERE idempotency_key = $5 AND state IN ('pending', 'cancelled')",
        )
        .bind(&m.body)
        .bind(m.due_at)
        .bind(m.expires_at)
        .bind(now)
        .bind(&m.idempotency_key)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    if updated > 0 {
        tx.mark_outbox_written();
    }
    Ok(updated > 0)
}

/// Cancels pending messages whose key starts with `prefix` and is not in `keep`; returns their keys.
pub async fn cancel_pending_except(
    tx: &mut Tx,
    now: DateTime<Utc>,
    prefix: &str,
    keep: &std::collections::HashSet<String>,
) -> anyhow::Result<Vec<String>> {
    let pattern = format!("{}%", like_literal(prefix));
    let pending: Vec<(i64, String)> = on_tx!(tx, |conn| {
        sqlx::query_as("SELECT id, idempotency_key FROM outbox WHERE state = 'pending' AND idempotency_key LIKE $1 ESCAPE '\\'")
            .bind(&pattern)
            .fetch_all(conn)
            .await
    })?;
    let mut cancelled = Vec::new();
    for (id, key) in pending {
        if keep.contains(&key) {
            continue;
        }
        on_tx!(tx, |conn| {
            sqlx::query(
                "UPDATE outbox SET state = 'cancelled', last_error = 'no longer scheduled', updated_at = $1, \
                 finished_at = $1 WHERE id = $2 AND state = 'pending'",
            )
            .bind(now)
            .bind(id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
        })?;
        cancelled.push(key);
    }
    Ok(cancelled)
}

/// Deletes up to `limit` finished rows (sent, given up, expired, cancelled) that finished before `before`;
/// returns how many.
pub async fn prune(db: &Db, before: DateTime<Utc>, limit: i64) -> anyhow::Result<u64> {
    let _turn = db.write_turn().await;
    let done = on_db!(db, |pool| {
        sqlx::query(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
             WHERE state IN ('sent', 'given_up', 'expired', 'cancelled') AND finished_at < $1 LIMIT $2)",
        )
        .bind(before)
        .bind(limit)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(done)
}

/// Where the messages written under `key` went and the platform's ids for them (platform, chat, message
/// id), once sent: one per chat (the delivery layer keys each chat's row `<key>/<chat>`), to edit them.
pub async fn sent_messages(
    tx: &mut Tx,
    key: &str,
) -> anyhow::Result<Vec<(String, String, String)>> {
    let pattern = format!("{}/%", like_literal(key));
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT platform, target, platform_message_id FROM outbox WHERE idempotency_key LIKE $1 ESCAPE '\\' \
             AND platform_message_id IS NOT NULL ORDER BY id",
        )
        .bind(&pattern)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// A `LIKE` pattern matching `text` literally (with `ESCAPE '\'`).
fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Whose queued messages to cancel.
#[derive(Debug, Clone, Copy)]
pub enum Addressed<'a> {
    /// Everything for `target` on `platform` (a chat that is the person's own).
    Chat { platform: &'a str, target: &'a str },
    /// Messages whose key ends with this (where the target is the sending account, the key's end names
    /// the recipient).
    KeyEnding(&'a str),
}

/// Cancels the pending messages addressed `to` whose key starts with `prefix` (`""`: all): their
/// recipient stopped or switched them off. Returns how many.
pub async fn cancel_addressed(
    tx: &mut Tx,
    now: DateTime<Utc>,
    to: Addressed<'_>,
    prefix: &str,
    reason: &str,
) -> anyhow::Result<u64> {
    let (chat, ending) = match to {
        Addressed::Chat { platform, target } => (Some((platform, target)), ""),
        Addressed::KeyEnding(ending) => (None, ending),
    };
    let pattern = format!("{}%{}", like_literal(prefix), like_literal(ending));
    let n = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE outbox SET state = 'cancelled', last_error = $1, updated_at = $2, finished_at = $2 \
             WHERE state = 'pending' AND idempotency_key LIKE $3 ESCAPE '\\' \
             AND ($4 IS NULL OR (platform = $4 AND target = $5))",
        )
        .bind(reason)
        .bind(now)
        .bind(&pattern)
        .bind(chat.map(|(platform, _)| platform))
        .bind(chat.map(|(_, target)| target))
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n)
}

/// Cancels the pending messages of the given kinds for `target` on `platform` (a reader who stopped
/// one kind of mail). Returns how many.
pub async fn cancel_of_kinds(
    tx: &mut Tx,
    now: DateTime<Utc>,
    platform: &str,
    target: &str,
    kinds: &[&str],
    reason: &str,
) -> anyhow::Result<u64> {
    let mut cancelled = 0;
    for kind in kinds {
        cancelled += on_tx!(tx, |conn| {
            sqlx::query(
                "UPDATE outbox SET state = 'cancelled', last_error = $1, updated_at = $2, finished_at = $2 \
                 WHERE state = 'pending' AND platform = $3 AND target = $4 AND kind = $5",
            )
            .bind(reason)
            .bind(now)
            .bind(platform)
            .bind(target)
            .bind(kind)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
        })?;
    }
    Ok(cancelled)
}

/// Per platform, the messages waiting to be sent and those that failed (given up or expired) since
/// `since`, for `/status`: platforms with neither are left out.
pub async fn waiting_and_failed(
    tx: &mut Tx,
    since: DateTime<Utc>,
) -> anyhow::Result<Vec<(String, i64, i64)>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT platform, CAST(SUM(waiting) AS BIGINT), CAST(SUM(failed) AS BIGINT) FROM ( \
             SELECT platform, COUNT(*) AS waiting, 0 AS failed FROM outbox \
             WHERE state IN ('pending', 'sending') GROUP BY platform \
             UNION ALL SELECT platform, 0, COUNT(*) FROM outbox \
             WHERE state IN ('given_up', 'expired') AND finished_at >= $1 GROUP BY platform \
             ) AS counted GROUP BY platform ORDER BY platform",
        )
        .bind(since)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Sends again the rows whose key starts with `prefix` that were given up or expired: pending now, their
/// attempts counted afresh. Returns how many.
pub async fn retry_failed(tx: &mut Tx, now: DateTime<Utc>, prefix: &str) -> anyhow::Result<u64> {
    let pattern = format!("{}%", like_literal(prefix));
    let n = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, due_at = $1, \
             expires_at = NULL, finished_at = NULL, lease_owner = NULL, updated_at = $1 \
             WHERE idempotency_key LIKE $2 ESCAPE '\\' AND state IN ('given_up', 'expired')",
        )
        .bind(now)
        .bind(&pattern)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    if n > 0 {
        tx.mark_outbox_written();
    }
    Ok(n)
}
