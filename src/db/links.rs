//! Queries for one-time link tokens: the store side of [`crate::links`]. All run inside the caller's
//! transaction.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

#[derive(Debug, Clone, FromRow)]
pub struct LinkToken {
    pub id: i64,
    pub token_hash: String,
    pub purpose: String,
    pub conference_id: Option<i64>,
    pub role: Option<String>,
    pub slot: Option<String>,
    pub label: Option<String>,
    pub created_by: Option<i64>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// For an invitation mailed to someone: the address it went to.
    pub email: Option<String>,
    /// For an invitation: the language its reader reads, when the organiser knew it.
    pub language: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewLinkToken<'a> {
    pub purpose: &'a str,
    pub token_hash: &'a str,
    pub conference_id: Option<i64>,
    pub role: Option<&'a str>,
    pub slot: Option<&'a str>,
    pub label: Option<&'a str>,
    pub created_by: Option<i64>,
    pub expires_at: DateTime<Utc>,
    pub email: Option<&'a str>,
    pub language: Option<&'a str>,
}

pub async fn create_link_token(
    tx: &mut Tx,
    now: DateTime<Utc>,
    t: &NewLinkToken<'_>,
) -> anyhow::Result<i64> {
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO link_tokens (purpose, token_hash, conference_id, role, slot, label, created_by, created_at, expires_at, email, language) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(t.purpose)
        .bind(t.token_hash)
        .bind(t.conference_id)
        .bind(t.role)
        .bind(t.slot)
        .bind(t.label)
        .bind(t.created_by)
        .bind(now)
        .bind(t.expires_at)
        .bind(t.email)
        .bind(t.language)
        .fetch_one(conn)
        .await
    })?;
    Ok(id)
}

pub async fn link_token_by_hash(
    tx: &mut Tx,
    token_hash: &str,
) -> anyhow::Result<Option<LinkToken>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, token_hash, purpose, conference_id, role, slot, label, created_by, expires_at, used_at, email, language \
             FROM link_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

/// Who used the token with this digest, once used.
pub async fn link_used_by(tx: &mut Tx, token_hash: &str) -> anyhow::Result<Option<i64>> {
    let row: Option<Option<i64>> = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT used_by FROM link_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(conn)
            .await
    })?;
    Ok(row.flatten())
}

/// Marks a token used; `false` if someone else used it first.
pub async fn use_link_token(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: i64,
    by: Option<i64>,
) -> anyhow::Result<bool> {
    let n = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE link_tokens SET used_at = $1, used_by = $2 WHERE id = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Retires unused owner links, so only the newest one works.
pub async fn retire_owner_links(tx: &mut Tx, now: DateTime<Utc>) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE link_tokens SET expires_at = $1 WHERE purpose = 'owner' AND used_at IS NULL AND expires_at > $1")
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}
