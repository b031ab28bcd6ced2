//! Queries for system state: small key/value settings (the bot's username, the Telegram offset, the
//! webhook secret). All run inside the caller's transaction.

use chrono::{DateTime, Utc};

use super::{Tx, on_tx};

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

/// How the keys of connections started on the config page and not yet finished start (their values hold
/// tokens for a few minutes: deleted when spent, and by the hourly token job when abandoned).
pub const CONNECT_PENDING: &str = "connect:";

/// Takes the value under `key` away: deleted and returned in one statement, so of two takers racing for
/// it one gets it.
pub async fn take_system(tx: &mut Tx, key: &str) -> anyhow::Result<Option<String>> {
    let value = on_tx!(tx, |conn| {
        sqlx::query_scalar("DELETE FROM system_state WHERE key = $1 RETURNING value")
            .bind(key)
            .fetch_optional(conn)
            .await
    })?;
    Ok(value)
}

/// Deletes the values under keys starting with `prefix` last written before `before`; returns how many.
pub async fn forget_before(
    db: &super::Db,
    prefix: &str,
    before: DateTime<Utc>,
) -> anyhow::Result<u64> {
    let _turn = db.write_turn().await;
    let pattern = format!("{prefix}%");
    let n = super::on_db!(db, |pool| {
        sqlx::query("DELETE FROM system_state WHERE key LIKE $1 AND updated_at < $2")
            .bind(&pattern)
            .bind(before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n)
}

/// How the keys of a network's progress on one delivery start (a thread's parts already on X): kept as long
/// as the outbox keeps the delivery's row, then pruned with it ([`forget_progress_before`]).
pub const DELIVERY_PROGRESS: &str = "delivery-progress:";

/// Deletes the delivery progress last written before `before`; returns how many went.
pub async fn forget_progress_before(db: &super::Db, before: DateTime<Utc>) -> anyhow::Result<u64> {
    forget_before(db, DELIVERY_PROGRESS, before).await
}
