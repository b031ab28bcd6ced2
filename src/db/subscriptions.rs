//! Queries for subscriptions: who wants announcements and reminders of which conference. All run
//! inside the caller's transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Subscription {
    pub person_id: i64,
    pub conference_id: i64,
    pub announcements: bool,
    pub reminders: bool,
    pub active: bool,
    /// Minutes before a followed session's start of a second, earlier reminder; `None` for none.
    pub early_reminder_minutes: Option<i64>,
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
            "SELECT person_id, conference_id, announcements, reminders, active, early_reminder_minutes \
             FROM subscriptions WHERE person_id = $1 ORDER BY conference_id",
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

/// Sets (or with `None`, clears) the earlier reminder `person` wants before the sessions they follow in
/// `conference`.
pub async fn set_early_reminder(
    tx: &mut Tx,
    now: DateTime<Utc>,
    person: i64,
    conference: i64,
    minutes: Option<i64>,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE subscriptions SET early_reminder_minutes = $1, updated_at = $2 \
             WHERE person_id = $3 AND conference_id = $4",
        )
        .bind(minutes)
        .bind(now)
        .bind(person)
        .bind(conference)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Who of `conference` (only `only`, when given) wants an earlier reminder, and how many minutes before.
pub async fn early_reminders(
    tx: &mut Tx,
    conference: i64,
    only: Option<i64>,
) -> anyhow::Result<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT person_id, early_reminder_minutes FROM subscriptions \
             WHERE conference_id = $1 AND early_reminder_minutes IS NOT NULL AND ($2 IS NULL OR person_id = $2)",
        )
        .bind(conference)
        .bind(only)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows.into_iter().collect())
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

/// Takes up every subscription `person` stopped; returns how many.
pub async fn resume_all(tx: &mut Tx, now: DateTime<Utc>, person: i64) -> anyhow::Result<u64> {
    let n = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE subscriptions SET active = TRUE, updated_at = $1 WHERE person_id = $2 AND NOT active",
        )
        .bind(now)
        .bind(person)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n)
}
