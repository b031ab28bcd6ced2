//! Leases on jobs that must run in one process at a time; see `crate::singleton`.

use chrono::{DateTime, Utc};

use super::{Db, on_db};

/// Takes the lease `name` for `holder` until `until`, or renews it if `holder` has it: one statement, so
/// two processes asking at once cannot both get it. Returns whether `holder` now has it (false while
/// another holder's lease is still running).
pub async fn acquire(
    db: &Db,
    now: DateTime<Utc>,
    name: &str,
    holder: &str,
    until: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let _turn = db.write_turn().await;
    let got: Option<String> = on_db!(db, |pool| {
        sqlx::query_scalar(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at < $4 \
             RETURNING holder",
        )
        .bind(name)
        .bind(holder)
        .bind(until)
        .bind(now)
        .fetch_optional(pool)
        .await
    })?;
    Ok(got.is_some())
}

/// Gives the lease up at once, so another process can take the job without waiting for it to run out.
pub async fn release(db: &Db, name: &str, holder: &str) -> anyhow::Result<()> {
    let _turn = db.write_turn().await;
    on_db!(db, |pool| {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(pool)
            .await
            .map(drop)
    })?;
    Ok(())
}

/// A queue whose rows workers hold under a lease while they handle them.
#[derive(Debug, Clone, Copy)]
pub enum Queue {
    Inbox,
    Outbox,
}

/// Makes the rows of `queue` held by workers whose heartbeat stopped (a process that died; see
/// `crate::singleton::heartbeat`) due at once, as if their lease had run out. `me` is never one of them.
pub async fn reclaim_orphans(
    db: &Db,
    now: DateTime<Utc>,
    me: &str,
    queue: Queue,
) -> anyhow::Result<u64> {
    // The first term names the partial index of unfinished rows, so both databases read only those.
    let sql = match queue {
        Queue::Inbox => {
            "UPDATE inbox SET next_attempt_at = $1 \
             WHERE state IN ('pending', 'processing') AND state = 'processing' AND next_attempt_at > $1 \
             AND lease_owner IS NOT NULL AND lease_owner <> $2 \
             AND lease_owner NOT IN (SELECT name FROM leases WHERE expires_at > $1)"
        }
        Queue::Outbox => {
            "UPDATE outbox SET next_attempt_at = $1, updated_at = $1 \
             WHERE state IN ('pending', 'sending') AND state = 'sending' AND next_attempt_at > $1 \
             AND lease_owner IS NOT NULL AND lease_owner <> $2 \
             AND lease_owner NOT IN (SELECT name FROM leases WHERE expires_at > $1)"
        }
    };
    let _turn = db.write_turn().await;
    let done = on_db!(db, |pool| {
        sqlx::query(sql)
            .bind(now)
            .bind(me)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done)
}

impl Queue {
    /// How its workers' names (and so their heartbeats' lease names) begin.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Inbox => "inbox-",
            Self::Outbox => "outbox-",
        }
    }
}

/// How many workers of `queue` have a live heartbeat at `now`.
pub async fn live_workers(db: &Db, now: DateTime<Utc>, queue: Queue) -> anyhow::Result<i64> {
    let n = on_db!(db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM leases WHERE name LIKE $1 AND expires_at > $2")
            .bind(format!("{}%", queue.prefix()))
            .bind(now)
            .fetch_one(pool)
            .await
    })?;
    Ok(n)
}

/// Forgets leases that ran out before `before` (heartbeats of processes long gone).
pub async fn forget_expired(db: &Db, before: DateTime<Utc>) -> anyhow::Result<u64> {
    let _turn = db.write_turn().await;
    let done = on_db!(db, |pool| {
        sqlx::query("DELETE FROM leases WHERE expires_at < $1")
            .bind(before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done)
}

/// Who holds the lease `name` at `now`, if anyone does.
pub async fn holder(db: &Db, now: DateTime<Utc>, name: &str) -> anyhow::Result<Option<String>> {
    let holder = on_db!(db, |pool| {
        sqlx::query_scalar("SELECT holder FROM leases WHERE name = $1 AND expires_at > $2")
            .bind(name)
            .bind(now)
            .fetch_optional(pool)
            .await
    })?;
    Ok(holder)
}

/// Who holds each lease and until when, by name: for `/healthz` and tests.
pub async fn list(db: &Db) -> anyhow::Result<Vec<(String, String, DateTime<Utc>)>> {
    let rows = on_db!(db, |pool| {
        sqlx::query_as("SELECT name, holder, expires_at FROM leases ORDER BY name")
            .fetch_all(pool)
            .await
    })?;
    Ok(rows)
}
