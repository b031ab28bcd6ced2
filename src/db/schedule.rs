//! Schedule queries: sessions of a conference.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Db, Tx, on_db, on_tx};

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

const SESSIONS: &str = "SELECT id, source_id, title, track, room, starts_at, ends_at, status, url, speakers \
     FROM sessions WHERE conference_id = $1 ORDER BY starts_at, room, title";

pub async fn sessions(tx: &mut Tx, conference: i64) -> anyhow::Result<Vec<StoredSession>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(SESSIONS)
            .bind(conference)
            .fetch_all(conn)
            .await
    })?;
    Ok(rows)
}

/// A conference's sessions read outside any write transaction (on SQLite the write lock stays free for
/// others while a large schedule is read).
pub async fn read_sessions(db: &Db, conference: i64) -> anyhow::Result<Vec<StoredSession>> {
    let rows = on_db!(db, |pool| {
        sqlx::query_as(SESSIONS)
            .bind(conference)
            .fetch_all(pool)
            .await
    })?;
    Ok(rows)
}

/// Rows per `INSERT` when sessions are added in bulk: 12 parameters each stays far below SQLite's 32,766
/// and PostgreSQL's 65,535.
const INSERT_BATCH: usize = 500;

/// Adds new sessions, many rows per statement: a schedule of 100,000 sessions writes in a fraction of
/// the time row-by-row inserts take, so the import holds the write lock briefly.
pub async fn insert_sessions(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    sessions: &[SessionFields<'_>],
) -> anyhow::Result<()> {
    for chunk in sessions.chunks(INSERT_BATCH) {
        on_tx!(tx, |conn| {
            sqlx::QueryBuilder::new(
                "INSERT INTO sessions (conference_id, source_id, title, track, room, starts_at, ends_at, status, url, \
                 speakers, created_at, updated_at) ",
            )
            .push_values(chunk, |mut row, s| {
                row.push_bind(conference)
                    .push_bind(s.source_id)
                    .push_bind(s.title)
                    .push_bind(s.track)
                    .push_bind(s.room)
                    .push_bind(s.starts_at)
                    .push_bind(s.ends_at)
                    .push_bind(s.status)
                    .push_bind(s.url)
                    .push_bind(s.speakers)
                    .push_bind(now)
                    .push_bind(now);
            })
            .build()
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
        })?;
    }
    Ok(())
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

/// Sets how many minutes before a start reminders go out: to followers and attendees, to speakers,
/// to volunteers before their shifts.
pub async fn set_reminder_minutes(
    tx: &mut Tx,
    conference: i64,
    (sessions, speakers, volunteers): (i64, i64, i64),
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE conferences SET session_reminder_minutes = $2, speaker_reminder_minutes = $3, \
             volunteer_reminder_minutes = $4 WHERE id = $1",
        )
        .bind(conference)
        .bind(sessions)
        .bind(speakers)
        .bind(volunteers)
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

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Follow {
    pub id: i64,
    pub person_id: i64,
    pub session_id: Option<i64>,
    pub pattern: Option<String>,
}

/// Adds a follow; `false` if the person already follows it.
pub async fn add_follow(
    tx: &mut Tx,
    now: DateTime<Utc>,
    person: i64,
    conference: i64,
    session: Option<i64>,
    pattern: Option<&str>,
) -> anyhow::Result<bool> {
    let n = on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO follows (person_id, conference_id, session_id, pattern, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING",
        )
        .bind(person)
        .bind(conference)
        .bind(session)
        .bind(pattern)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}

pub async fn remove_follow(
    tx: &mut Tx,
    person: i64,
    conference: i64,
    session: Option<i64>,
    pattern: Option<&str>,
) -> anyhow::Result<bool> {
    let n = on_tx!(tx, |conn| {
        sqlx::query(
            "DELETE FROM follows WHERE person_id = $1 AND conference_id = $2 AND \
             (session_id = $3 OR pattern = $4)",
        )
        .bind(person)
        .bind(conference)
        .bind(session)
        .bind(pattern)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}

/// Follows in a conference, of one person or of everyone.
pub async fn follows(
    tx: &mut Tx,
    conference: i64,
    person: Option<i64>,
) -> anyhow::Result<Vec<Follow>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, person_id, session_id, pattern FROM follows WHERE conference_id = $1 \
             AND ($2 IS NULL OR person_id = $2) ORDER BY person_id, id",
        )
        .bind(conference)
        .bind(person)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Ties a person to a speaker of the schedule (by the speaker's id or name, lowercased).
pub async fn link_speaker(
    tx: &mut Tx,
    now: DateTime<Utc>,
    person: i64,
    conference: i64,
    key: &str,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO speaker_links (person_id, conference_id, speaker_key, linked_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (conference_id, speaker_key) DO UPDATE SET person_id = $1, linked_at = $4",
        )
        .bind(person)
        .bind(conference)
        .bind(key)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn speaker_links(tx: &mut Tx, conference: i64) -> anyhow::Result<Vec<(String, i64)>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as("SELECT speaker_key, person_id FROM speaker_links WHERE conference_id = $1")
            .bind(conference)
            .fetch_all(conn)
            .await
    })?;
    Ok(rows)
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct VolunteerSlot {
    pub id: i64,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

pub async fn add_slot(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    title: &str,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO volunteer_slots (conference_id, title, starts_at, ends_at, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id",
        )
        .bind(conference)
        .bind(title)
        .bind(starts_at)
        .bind(ends_at)
        .bind(now)
        .fetch_one(conn)
        .await
    })?;
    Ok(id)
}

pub async fn slots(tx: &mut Tx, conference: i64) -> anyhow::Result<Vec<VolunteerSlot>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, title, starts_at, ends_at FROM volunteer_slots WHERE conference_id = $1 ORDER BY starts_at, id",
        )
        .bind(conference)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Gives a shift to a person; `false` if they had it already.
pub async fn assign_slot(
    tx: &mut Tx,
    now: DateTime<Utc>,
    slot: i64,
    person: i64,
) -> anyhow::Result<bool> {
    let n = on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO volunteer_assignments (slot_id, person_id, assigned_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(slot)
        .bind(person)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}

/// (slot id, person id, person's name) of every assignment in a conference.
pub async fn assignments(tx: &mut Tx, conference: i64) -> anyhow::Result<Vec<(i64, i64, String)>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT a.slot_id, a.person_id, p.display_name FROM volunteer_assignments a \
             JOIN volunteer_slots s ON s.id = a.slot_id JOIN people p ON p.id = a.person_id \
             WHERE s.conference_id = $1 ORDER BY s.starts_at, p.display_name",
        )
        .bind(conference)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

pub async fn volunteer_minutes(tx: &mut Tx, conference: i64) -> anyhow::Result<i64> {
    let m = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT volunteer_reminder_minutes FROM conferences WHERE id = $1")
            .bind(conference)
            .fetch_one(conn)
            .await
    })?;
    Ok(m)
}

/// Replaces a person's feed token for a conference.
pub async fn set_feed_token(
    tx: &mut Tx,
    now: DateTime<Utc>,
    person: i64,
    conference: i64,
    token_hash: &str,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("DELETE FROM calendar_feeds WHERE person_id = $1 AND conference_id = $2")
            .bind(person)
            .bind(conference)
            .execute(&mut *conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    on_tx!(tx, |conn| {
        sqlx::query("INSERT INTO calendar_feeds (token_hash, person_id, conference_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(person)
            .bind(conference)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// (person, conference) of a feed token's hash.
pub async fn feed_owner(tx: &mut Tx, token_hash: &str) -> anyhow::Result<Option<(i64, i64)>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as("SELECT person_id, conference_id FROM calendar_feeds WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(conn)
            .await
    })?;
    Ok(row)
}

/// A conference whose schedule is fetched from a URL.
#[derive(Debug, Clone, FromRow)]
pub struct SyncSource {
    pub conference_id: i64,
    pub slug: String,
    pub url: String,
    pub minutes: i64,
    pub synced_at: Option<DateTime<Utc>>,
}

pub async fn set_schedule_url(tx: &mut Tx, conference: i64, url: &str) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE conferences SET schedule_url = $1, schedule_synced_at = NULL, schedule_sync_error = NULL WHERE id = $2",
        )
        .bind(url)
        .bind(conference)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Sources due for a sync at `now` (never synced, or last synced more than their interval ago).
pub async fn due_sync_sources(tx: &mut Tx, now: DateTime<Utc>) -> anyhow::Result<Vec<SyncSource>> {
    let rows: Vec<SyncSource> = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id AS conference_id, slug, schedule_url AS url, schedule_sync_minutes AS minutes, \
             schedule_synced_at AS synced_at FROM conferences WHERE schedule_url IS NOT NULL ORDER BY id",
        )
        .fetch_all(conn)
        .await
    })?;
    Ok(rows
        .into_iter()
        .filter(|s| {
            s.synced_at
                .is_none_or(|at| at + chrono::TimeDelta::minutes(s.minutes) <= now)
        })
        .collect())
}

pub async fn record_sync(
    tx: &mut Tx,
    conference: i64,
    at: DateTime<Utc>,
    error: Option<&str>,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE conferences SET schedule_synced_at = $1, schedule_sync_error = $2 WHERE id = $3")
            .bind(at)
            .bind(error)
            .bind(conference)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn sync_error(tx: &mut Tx, conference: i64) -> anyhow::Result<Option<String>> {
    let e = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT schedule_sync_error FROM conferences WHERE id = $1")
            .bind(conference)
            .fetch_one(conn)
            .await
    })?;
    Ok(e)
}
