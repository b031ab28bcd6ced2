//! Schedule queries: sessions of a conference.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct StoredSession {
    pub id: i64,
    pub source_id: String,
    pub title: String,
    pub track: Option<String>,
    pub room: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: String,
    pub url: Option<String>,
    pub speakers: String,
}

/// A session's fields as written.
#[derive(Debug, Clone)]
pub struct SessionFields<'a> {
    pub source_id: &'a str,
    pub title: &'a str,
    pub track: Option<&'a str>,
    pub room: Option<&'a str>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: &'a str,
    pub url: Option<&'a str>,
    pub speakers: &'a str,
}

pub async fn sessions(tx: &mut Tx, conference: i64) -> anyhow::Result<Vec<StoredSession>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, source_id, title, track, room, starts_at, ends_at, status, url, speakers FROM sessions \
             WHERE conference_id = $1 ORDER BY starts_at, room, title",
        )
        .bind(conference)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

pub async fn insert_session(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    s: &SessionFields<'_>,
) -> anyhow::Result<i64> {
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO sessions (conference_id, source_id, title, track, room, starts_at, ends_at, status, url, speakers, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        )
        .bind(conference)
        .bind(s.source_id)
        .bind(s.title)
        .bind(s.track)
        .bind(s.room)
        .bind(s.starts_at)
        .bind(s.ends_at)
        .bind(s.status)
        .bind(s.url)
        .bind(s.speakers)
        .bind(now)
        .fetch_one(conn)
        .await
    })?;
    Ok(id)
}

pub async fn update_session(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: i64,
    s: &SessionFields<'_>,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE sessions SET title = $1, track = $2, room = $3, starts_at = $4, ends_at = $5, status = $6, url = $7, \
             speakers = $8, updated_at = $9 WHERE id = $10",
        )
        .bind(s.title)
        .bind(s.track)
        .bind(s.room)
        .bind(s.starts_at)
        .bind(s.ends_at)
        .bind(s.status)
        .bind(s.url)
        .bind(s.speakers)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn set_status(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: i64,
    status: &str,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE sessions SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(now)
            .bind(id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn reminder_minutes(tx: &mut Tx, conference: i64) -> anyhow::Result<(i64, i64)> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as("SELECT session_reminder_minutes, speaker_reminder_minutes FROM conferences WHERE id = $1")
            .bind(conference)
            .fetch_one(conn)
            .await
    })?;
    Ok(row)
}
