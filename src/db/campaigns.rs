//! Queries for campaigns: drafts, and once created, whether moderators asked to review them one by one.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

#[derive(Debug, Clone, FromRow)]
pub struct Campaign {
    pub id: i64,
    pub conference_id: i64,
    pub kind: String,
    pub filters: String,
    pub options: String,
    pub template: Option<String>,
    pub seed: i64,
    pub state: String,
    pub created_by: Option<i64>,
    /// When someone asked for its posts one by one (each then has its own moderation message).
    pub reviewed_at: Option<DateTime<Utc>>,
}

/// A new draft: what it covers (JSON filters and options), its jitter seed, who asked.
#[derive(Debug, Clone)]
pub struct NewCampaign<'a> {
    pub conference: i64,
    pub kind: &'a str,
    pub filters: &'a str,
    pub options: &'a str,
    pub seed: i64,
    pub by: Option<i64>,
}

pub async fn create(tx: &mut Tx, now: DateTime<Utc>, c: &NewCampaign<'_>) -> anyhow::Result<i64> {
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO campaigns (conference_id, kind, filters, options, seed, state, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $7) RETURNING id",
        )
        .bind(c.conference)
        .bind(c.kind)
        .bind(c.filters)
        .bind(c.options)
        .bind(c.seed)
        .bind(c.by)
        .bind(now)
        .fetch_one(conn)
        .await
    })?;
    Ok(id)
}

pub async fn campaign(tx: &mut Tx, id: i64) -> anyhow::Result<Option<Campaign>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, conference_id, kind, filters, options, template, seed, state, created_by, reviewed_at \
             FROM campaigns WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

pub async fn set_template(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: i64,
    template: &str,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE campaigns SET template = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(template)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Moves a draft to `state` (created, cancelled); false when it was not a draft any more.
pub async fn finish(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: i64,
    state: &str,
    posts: i64,
) -> anyhow::Result<bool> {
    let changed = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE campaigns SET state = $2, posts_created = $3, updated_at = $4 WHERE id = $1 AND state = 'draft'",
        )
        .bind(id)
        .bind(state)
        .bind(posts)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(changed == 1)
}

/// Records that the campaign's posts were shown one by one.
pub async fn set_reviewed(tx: &mut Tx, now: DateTime<Utc>, id: i64) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE campaigns SET reviewed_at = $2, updated_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}
