//! Queries for calendar invitations: one row per (session or shift, person) holding the invitation's UID,
//! its SEQUENCE and the event as last mailed, so an import can tell which calendars are out of date.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, email::PLATFORM, on_tx};

/// An invitation as last mailed.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct Invitation {
    pub id: i64,
    pub person_id: i64,
    pub subject: String,
    pub subject_id: i64,
    pub origin: String,
    pub address: String,
    pub uid: String,
    pub sequence: i64,
    pub state: String,
    pub title: String,
    pub location: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// The event an invitation describes, as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub title: String,
    pub location: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl Invitation {
    /// The event as last mailed.
    pub fn event(&self) -> Event {
        Event {
            title: self.title.clone(),
            location: self.location.clone(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
        }
    }
}

macro_rules! columns {
    () => {
        "id, person_id, subject, subject_id, origin, address, uid, sequence, state, title, location, \
         starts_at, ends_at"
    };
}

/// A conference's invitations (only `person`'s when given).
pub async fn of_conference(
    tx: &mut Tx,
    conference: i64,
    person: Option<i64>,
) -> anyhow::Result<Vec<Invitation>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM calendar_invitations WHERE conference_id = $1 \
             AND ($2 IS NULL OR person_id = $2) ORDER BY id"
        ))
        .bind(conference)
        .bind(person)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// One person's invitation to one session or shift.
pub async fn find(
    tx: &mut Tx,
    subject: &str,
    subject_id: i64,
    person: i64,
) -> anyhow::Result<Option<Invitation>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM calendar_invitations WHERE subject = $1 AND subject_id = $2 AND person_id = $3"
        ))
        .bind(subject)
        .bind(subject_id)
        .bind(person)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// What a new invitation is for.
#[derive(Debug, Clone)]
pub struct NewInvitation<'a> {
    pub conference: i64,
    pub person: i64,
    pub subject: &'a str,
    pub subject_id: i64,
    pub origin: &'a str,
    pub address: &'a str,
    pub uid: &'a str,
}

/// Records a new invitation at SEQUENCE 0; returns its id.
pub async fn create(
    tx: &mut Tx,
    now: DateTime<Utc>,
    new: &NewInvitation<'_>,
    event: &Event,
) -> anyhow::Result<i64> {
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO calendar_invitations (conference_id, person_id, subject, subject_id, origin, \
             address, uid, title, location, starts_at, ends_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
        )
        .bind(new.conference)
        .bind(new.person)
        .bind(new.subject)
        .bind(new.subject_id)
        .bind(new.origin)
        .bind(new.address)
        .bind(new.uid)
        .bind(&event.title)
        .bind(&event.location)
        .bind(event.starts_at)
        .bind(event.ends_at)
        .bind(now)
        .fetch_one(conn)
        .await
    })?;
    Ok(id)
}

/// Records an update or cancellation mailed as `sequence`: the event as mailed and the state.
pub async fn revise(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: i64,
    sequence: i64,
    state: &str,
    origin: &str,
    event: &Event,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE calendar_invitations SET sequence = $1, state = $2, origin = $3, title = $4, \
             location = $5, starts_at = $6, ends_at = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(sequence)
        .bind(state)
        .bind(origin)
        .bind(&event.title)
        .bind(&event.location)
        .bind(event.starts_at)
        .bind(event.ends_at)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Per person (`person` only, or everyone): their confirmed e-mail address (the first linked) that is
/// reachable and takes direct mail — an invitation is direct mail, and its one-click link stops it.
pub async fn addresses(
    tx: &mut Tx,
    person: Option<i64>,
) -> anyhow::Result<std::collections::HashMap<i64, String>> {
    let rows: Vec<(i64, String)> = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT person_id, platform_user_id FROM person_accounts \
             WHERE platform = $1 AND unreachable_at IS NULL AND direct = TRUE \
             AND ($2 IS NULL OR person_id = $2) \
             ORDER BY linked_at DESC",
        )
        .bind(PLATFORM)
        .bind(person)
        .fetch_all(conn)
        .await
    })?;
    // Ordered newest first: the oldest address, inserted last, wins.
    Ok(rows.into_iter().collect())
}

/// Keeps the hash of the token in the Accept / Decline links of the invitation's latest mail; an update
/// of the event clears the answer given to the one before.
pub async fn set_answer_token(
    tx: &mut Tx,
    id: i64,
    token_hash: &str,
    clear_answer: bool,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE calendar_invitations SET answer_token_hash = $1, \
             answer = CASE WHEN $2 THEN NULL ELSE answer END, \
             answered_at = CASE WHEN $2 THEN NULL ELSE answered_at END WHERE id = $3",
        )
        .bind(token_hash)
        .bind(clear_answer)
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The invitation whose latest mail holds the token hashed `token_hash`, with its conference's name.
pub async fn by_answer_token(
    tx: &mut Tx,
    token_hash: &str,
) -> anyhow::Result<Option<(Invitation, String)>> {
    let row: Option<Invitation> = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM calendar_invitations WHERE answer_token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(conn)
        .await
    })?;
    let Some(row) = row else { return Ok(None) };
    let conference: String = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT c.name FROM conferences c JOIN calendar_invitations i ON i.conference_id = c.id \
             WHERE i.id = $1",
        )
        .bind(row.id)
        .fetch_one(conn)
        .await
    })?;
    Ok(Some((row, conference)))
}

/// Records a person's answer (`accepted` or `declined`).
pub async fn record_answer(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: i64,
    answer: &str,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE calendar_invitations SET answer = $1, answered_at = $2 WHERE id = $3")
            .bind(answer)
            .bind(now)
            .bind(id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Who holds a standing invitation to session `session`, for organisers: (name, origin, answer).
pub async fn answers_for_session(
    tx: &mut Tx,
    session: i64,
) -> anyhow::Result<Vec<(String, String, Option<String>)>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT p.display_name, i.origin, i.answer FROM calendar_invitations i \
             JOIN people p ON p.id = i.person_id \
             WHERE i.subject = 'session' AND i.subject_id = $1 AND i.state = 'active' \
             ORDER BY p.display_name",
        )
        .bind(session)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}
