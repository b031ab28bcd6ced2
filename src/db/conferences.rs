//! Queries for conferences and their series: creation, lookup, posting policy and window. All run
//! inside the caller's transaction.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Conference {
    pub id: i64,
    pub series_id: i64,
    pub slug: String,
    pub name: String,
    pub time_zone: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub posting_window_start: Option<NaiveTime>,
    pub posting_window_end: Option<NaiveTime>,
    pub posting_policy: i64,
}

impl Conference {
    /// A time in the conference's time zone, for the templates' `datetime` filter to show in the
    /// reader's language: RFC 3339 with the zone's offset (`2026-12-28T10:00:00+01:00`).
    pub fn local(&self, at: DateTime<Utc>) -> String {
        let tz: chrono_tz::Tz = self.time_zone.parse().unwrap_or(chrono_tz::UTC);
        at.with_timezone(&tz).to_rfc3339()
    }
}

macro_rules! conference_columns {
    () => {
        "id, series_id, slug, name, time_zone, starts_on, ends_on, posting_window_start, posting_window_end, posting_policy"
    };
}

#[derive(Debug, Clone)]
pub struct NewConference<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub time_zone: &'a str,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// The series a conference slug belongs to: the slug without a trailing year ("fosdem-2027" → "fosdem").
pub fn series_slug(conference_slug: &str) -> &str {
    let trimmed = conference_slug
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .trim_end_matches('-');
    if trimmed.is_empty() {
        conference_slug
    } else {
        trimmed
    }
}

/// Creates a conference (and its series if new). `None` if the slug is taken.
pub async fn create_conference(
    tx: &mut Tx,
    now: DateTime<Utc>,
    c: &NewConference<'_>,
) -> anyhow::Result<Option<i64>> {
    let series = series_slug(c.slug);
    on_tx!(tx, |conn| {
        sqlx::query("INSERT INTO series (slug, name, created_at) VALUES ($1, $1, $2) ON CONFLICT (slug) DO NOTHING")
            .bind(series)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO conferences (series_id, slug, name, time_zone, starts_on, ends_on, posting_policy, created_at, updated_at) \
             SELECT id, $1, $2, $3, $4, $5, 0, $6, $6 FROM series WHERE slug = $7 \
             ON CONFLICT (slug) DO NOTHING RETURNING id",
        )
        .bind(c.slug)
        .bind(c.name)
        .bind(c.time_zone)
        .bind(c.starts_on)
        .bind(c.ends_on)
        .bind(now)
        .bind(series)
        .fetch_optional(conn)
        .await
    })?;
    Ok(id)
}

pub async fn conference_by_slug(tx: &mut Tx, slug: &str) -> anyhow::Result<Option<Conference>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            conference_columns!(),
            " FROM conferences WHERE slug = $1"
        ))
        .bind(slug)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

pub async fn conference_by_id(tx: &mut Tx, id: i64) -> anyhow::Result<Option<Conference>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            conference_columns!(),
            " FROM conferences WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

pub async fn conferences(tx: &mut Tx) -> anyhow::Result<Vec<Conference>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            conference_columns!(),
            " FROM conferences ORDER BY starts_on, slug"
        ))
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// The conference a chat is about: the one chosen there (`/conference use`), or else the only one there
/// is; `None` when none was chosen among several. One query, as every chat event asks it.
pub async fn of_chat(
    tx: &mut Tx,
    platform: &str,
    chat: &str,
) -> anyhow::Result<Option<Conference>> {
    let rows: Vec<Conference> = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            conference_columns!(),
            " FROM conferences WHERE id = COALESCE((SELECT conference_id FROM chat_state \
             WHERE platform = $1 AND chat_id = $2), id) ORDER BY starts_on, slug LIMIT 2"
        ))
        .bind(platform)
        .bind(chat)
        .fetch_all(conn)
        .await
    })?;
    Ok(match <[Conference; 1]>::try_from(rows) {
        Ok([only]) => Some(only),
        Err(_) => None,
    })
}

pub async fn set_policy(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    policy: i64,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE conferences SET posting_policy = $1, updated_at = $2 WHERE id = $3")
            .bind(policy)
            .bind(now)
            .bind(conference)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn set_window(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    window: Option<(NaiveTime, NaiveTime)>,
) -> anyhow::Result<()> {
    let (start, end) = window.map_or((None, None), |(s, e)| (Some(s), Some(e)));
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE conferences SET posting_window_start = $1, posting_window_end = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(start)
        .bind(end)
        .bind(now)
        .bind(conference)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn set_conference_fields(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    name: Option<&str>,
    time_zone: Option<&str>,
    dates: Option<(NaiveDate, NaiveDate)>,
) -> anyhow::Result<()> {
    let (starts, ends) = dates.map_or((None, None), |(s, e)| (Some(s), Some(e)));
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE conferences SET name = COALESCE($1, name), time_zone = COALESCE($2, time_zone), \
             starts_on = COALESCE($3, starts_on), ends_on = COALESCE($4, ends_on), updated_at = $5 WHERE id = $6",
        )
        .bind(name)
        .bind(time_zone)
        .bind(starts)
        .bind(ends)
        .bind(now)
        .bind(conference)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Sets (or, with `None`, clears) the address organiser notices are mirrored to.
pub async fn set_notify_email(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    address: Option<&str>,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE conferences SET notify_email = $1, updated_at = $2 WHERE id = $3")
            .bind(address)
            .bind(now)
            .bind(conference)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The address organiser notices are mirrored to, when one is set.
pub async fn notify_email(tx: &mut Tx, conference: i64) -> anyhow::Result<Option<String>> {
    let address: Option<Option<String>> = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT notify_email FROM conferences WHERE id = $1")
            .bind(conference)
            .fetch_optional(conn)
            .await
    })?;
    Ok(address.flatten())
}

/// One mail of the organisers' mirror: the notices of one kind it gathers (their HTML).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailBatch {
    pub id: i64,
    pub due_at: DateTime<Utc>,
    pub items: String,
}

/// The latest mirror mail of `kind` for `conference`.
pub async fn latest_batch(
    tx: &mut Tx,
    conference: i64,
    kind: &str,
) -> anyhow::Result<Option<MailBatch>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, due_at, items FROM organiser_mail_batches \
             WHERE conference_id = $1 AND kind = $2 ORDER BY due_at DESC, id DESC LIMIT 1",
        )
        .bind(conference)
        .bind(kind)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// Starts a mirror mail of `kind` due at `due` with its first notice; returns its id.
pub async fn create_batch(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    kind: &str,
    due: DateTime<Utc>,
    items: &str,
) -> anyhow::Result<i64> {
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO organiser_mail_batches (conference_id, kind, due_at, items, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(conference)
        .bind(kind)
        .bind(due)
        .bind(items)
        .bind(now)
        .fetch_one(conn)
        .await
    })?;
    Ok(id)
}

/// Replaces the notices a mirror mail gathers.
pub async fn set_batch_items(tx: &mut Tx, id: i64, items: &str) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE organiser_mail_batches SET items = $1 WHERE id = $2")
            .bind(items)
            .bind(id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}
