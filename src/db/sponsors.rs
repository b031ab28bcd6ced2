//! Queries for sponsors.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Sponsor {
    pub id: i64,
    pub name: String,
    pub level: String,
    pub url: Option<String>,
    /// JSON: network → handle.
    pub handles: String,
}

/// Adds a sponsor or updates the one of that name.
pub async fn upsert(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    name: &str,
    level: &str,
    url: Option<&str>,
    handles: &serde_json::Value,
) -> anyhow::Result<()> {
    let handles = handles.to_string();
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO sponsors (conference_id, name, level, url, handles, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (conference_id, name) DO UPDATE SET level = $3, url = $4, handles = $5",
        )
        .bind(conference)
        .bind(name)
        .bind(level)
        .bind(url)
        .bind(&handles)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The conference's sponsors, by level then name.
pub async fn sponsors(tx: &mut Tx, conference: i64) -> anyhow::Result<Vec<Sponsor>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, name, level, url, handles FROM sponsors WHERE conference_id = $1 ORDER BY level, name",
        )
        .bind(conference)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Benefit {
    pub id: i64,
    pub conference_id: i64,
    pub level: String,
    pub name: String,
    pub template: Option<String>,
}

/// Adds a benefit (or finds the one of that level and name); returns its id.
pub async fn add_benefit(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    level: &str,
    name: &str,
) -> anyhow::Result<i64> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO benefits (conference_id, level, name, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (conference_id, level, name) DO NOTHING",
        )
        .bind(conference)
        .bind(level)
        .bind(name)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT id FROM benefits WHERE conference_id = $1 AND level = $2 AND name = $3",
        )
        .bind(conference)
        .bind(level)
        .bind(name)
        .fetch_one(conn)
        .await
    })?;
    Ok(id)
}

pub async fn set_benefit_template(tx: &mut Tx, id: i64, template: &str) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE benefits SET template = $2 WHERE id = $1")
            .bind(id)
            .bind(template)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn benefit(tx: &mut Tx, id: i64) -> anyhow::Result<Option<Benefit>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, conference_id, level, name, template FROM benefits WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

pub async fn benefits(tx: &mut Tx, conference: i64) -> anyhow::Result<Vec<Benefit>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, conference_id, level, name, template FROM benefits WHERE conference_id = $1 ORDER BY level, name",
        )
        .bind(conference)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}
