//! Queries for provider accounts on the social networks: their credentials, limits and per-conference
//! messaging switches.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Db, Tx, on_db, on_tx};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Provider {
    pub id: i64,
    pub series_id: i64,
    pub kind: String,
    pub internal_name: String,
    pub public_name: String,
    pub base_url: Option<String>,
    pub active: bool,
    /// The network's text limit as last read from it (Mastodon instances differ).
    pub max_characters: Option<i64>,
}

macro_rules! provider_columns {
    () => {
        "id, series_id, kind, internal_name, public_name, base_url, active, max_characters"
    };
}

/// Adds an inactive provider without credentials; `None` if the name is taken in the series.
pub async fn add_provider(
    tx: &mut Tx,
    now: DateTime<Utc>,
    series: i64,
    kind: &str,
    name: &str,
    base_url: Option<&str>,
) -> anyhow::Result<Option<i64>> {
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO providers (series_id, kind, internal_name, public_name, base_url, active, credentials, created_at, updated_at) \
             VALUES ($1, $2, $3, $3, $4, FALSE, '{}', $5, $5) ON CONFLICT (series_id, internal_name) DO NOTHING RETURNING id",
        )
        .bind(series)
        .bind(kind)
        .bind(name)
        .bind(base_url)
        .bind(now)
        .fetch_optional(conn)
        .await
    })?;
    Ok(id)
}

pub async fn providers(tx: &mut Tx, series: i64) -> anyhow::Result<Vec<Provider>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            provider_columns!(),
            " FROM providers WHERE series_id = $1 ORDER BY internal_name"
        ))
        .bind(series)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// The series' provider called `name` (its internal name).
pub async fn provider_by_name(
    tx: &mut Tx,
    series: i64,
    name: &str,
) -> anyhow::Result<Option<Provider>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            provider_columns!(),
            " FROM providers WHERE series_id = $1 AND internal_name = $2"
        ))
        .bind(series)
        .bind(name)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

pub async fn provider_by_id(tx: &mut Tx, id: i64) -> anyhow::Result<Option<Provider>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            provider_columns!(),
            " FROM providers WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// The provider's credentials (a JSON object; a secret: never log it).
pub async fn credentials(tx: &mut Tx, id: i64) -> anyhow::Result<serde_json::Value> {
    let text: String = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT credentials FROM providers WHERE id = $1")
            .bind(id)
            .fetch_one(conn)
            .await
    })?;
    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// Holds provider `id`'s row until the transaction ends, so credentials read and rewritten in it (a
/// single-use refresh token spent and its successor stored) are one process's at a time. SQLite's write
/// transaction holds the whole database already; PostgreSQL locks the row.
pub async fn lock(tx: &mut Tx, id: i64) -> anyhow::Result<()> {
    if tx.backend() == super::Backend::Postgres {
        on_tx!(tx, |conn| {
            sqlx::query("SELECT id FROM providers WHERE id = $1 FOR UPDATE")
                .bind(id)
                .execute(conn)
                .await
                .map(drop)
        })?;
    }
    Ok(())
}

/// Provider `id`'s kind and credentials, read outside any transaction: a request that must answer while
/// a write is open (X's CRC check during `/provider webhook on`, on SQLite's one writer) does not wait for
/// it.
pub async fn kind_and_credentials(
    db: &Db,
    id: i64,
) -> anyhow::Result<Option<(String, serde_json::Value)>> {
    let row: Option<(String, String)> = on_db!(db, |pool| {
        sqlx::query_as("SELECT kind, credentials FROM providers WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.map(|(kind, text)| {
        (
            kind,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }))
}

pub async fn set_credentials(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: i64,
    credentials: &serde_json::Value,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE providers SET credentials = $1, updated_at = $2, credentials_set_at = $2, \
             refused_at = NULL, refused_reason = NULL WHERE id = $3",
        )
        .bind(credentials.to_string())
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn set_limit(tx: &mut Tx, id: i64, max_characters: i64) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE providers SET max_characters = $1 WHERE id = $2")
            .bind(max_characters)
            .bind(id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn set_active(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: i64,
    active: bool,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE providers SET active = $1, updated_at = $2 WHERE id = $3")
            .bind(active)
            .bind(now)
            .bind(id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Sets one messaging switch of a provider for a conference.
pub async fn set_switch(
    tx: &mut Tx,
    conference: i64,
    provider: i64,
    column: &'static str,
    on: bool,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO conference_provider_switches (conference_id, provider_id) VALUES ($1, $2) \
             ON CONFLICT (conference_id, provider_id) DO NOTHING",
        )
        .bind(conference)
        .bind(provider)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    let sql: &'static str = match column {
        "public_broadcast" => {
            "UPDATE conference_provider_switches SET public_broadcast = $1 WHERE conference_id = $2 AND provider_id = $3"
        }
        "attendee_broadcast" => {
            "UPDATE conference_provider_switches SET attendee_broadcast = $1 WHERE conference_id = $2 AND provider_id = $3"
        }
        "private_notifications" => {
            "UPDATE conference_provider_switches SET private_notifications = $1 WHERE conference_id = $2 AND provider_id = $3"
        }
        "organiser_notifications" => {
            "UPDATE conference_provider_switches SET organiser_notifications = $1 WHERE conference_id = $2 AND provider_id = $3"
        }
        "social_management" => {
            "UPDATE conference_provider_switches SET social_management = $1 WHERE conference_id = $2 AND provider_id = $3"
        }
        other => anyhow::bail!("unknown switch {other}"),
    };
    on_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(on)
            .bind(conference)
            .bind(provider)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Active providers whose public broadcasting is on for `conference`.
pub async fn broadcasting_providers(tx: &mut Tx, conference: i64) -> anyhow::Result<Vec<Provider>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT p.id, p.series_id, p.kind, p.internal_name, p.public_name, p.base_url, p.active, p.max_characters \
             FROM providers p \
             JOIN conference_provider_switches s ON s.provider_id = p.id \
             WHERE s.conference_id = $1 AND s.public_broadcast AND p.active ORDER BY p.internal_name",
        )
        .bind(conference)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Records that the network refused provider `id`'s credentials; `true` when this starts a refusal
/// (it was not already refused), so the organisers are told once.
pub async fn credentials_refused(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: i64,
    reason: &str,
) -> anyhow::Result<bool> {
    let started = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE providers SET refused_at = $1, refused_reason = $2 WHERE id = $3 AND refused_at IS NULL",
        )
        .bind(now)
        .bind(reason)
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(started > 0)
}

/// Provider `id`'s credentials work (a send went through, a check passed, new ones were saved): a later
/// refusal is news again.
pub async fn credentials_work(tx: &mut Tx, id: i64) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE providers SET refused_at = NULL, refused_reason = NULL WHERE id = $1 AND refused_at IS NOT NULL",
        )
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Since when and why provider `id`'s credentials are refused, if they are.
pub async fn refusal(tx: &mut Tx, id: i64) -> anyhow::Result<Option<(DateTime<Utc>, String)>> {
    let row: Option<(Option<DateTime<Utc>>, Option<String>)> = on_tx!(tx, |conn| {
        sqlx::query_as("SELECT refused_at, refused_reason FROM providers WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await
    })?;
    Ok(row.and_then(|(at, reason)| Some((at?, reason.unwrap_or_default()))))
}

/// The active providers of network `kind`, of every series.
pub async fn active_of_kind(tx: &mut Tx, kind: &str) -> anyhow::Result<Vec<Provider>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            provider_columns!(),
            " FROM providers WHERE kind = $1 AND active ORDER BY id"
        ))
        .bind(kind)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// The conferences with any switch on for provider `id`: those its failures concern.
pub async fn conferences_using(tx: &mut Tx, id: i64) -> anyhow::Result<Vec<i64>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT conference_id FROM conference_provider_switches WHERE provider_id = $1 \
             AND (public_broadcast OR attendee_broadcast OR private_notifications \
                  OR organiser_notifications OR social_management) ORDER BY conference_id",
        )
        .bind(id)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}
