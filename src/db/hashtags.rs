//! Queries for a conference's hashtags.

use sqlx::FromRow;

use super::{Tx, on_tx};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Hashtag {
    pub tag: String,
    pub auto_add: bool,
    pub sort_key: i64,
}

pub async fn set_hashtag(
    tx: &mut Tx,
    conference: i64,
    tag: &str,
    auto_add: bool,
    sort_key: i64,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO hashtags (conference_id, tag, auto_add, sort_key) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (conference_id, tag) DO UPDATE SET auto_add = $3, sort_key = $4",
        )
        .bind(conference)
        .bind(tag)
        .bind(auto_add)
        .bind(sort_key)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn remove_hashtag(tx: &mut Tx, conference: i64, tag: &str) -> anyhow::Result<bool> {
    let n = on_tx!(tx, |conn| {
        sqlx::query("DELETE FROM hashtags WHERE conference_id = $1 AND tag = $2")
            .bind(conference)
            .bind(tag)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}

/// The conference's hashtags in sort-key order.
pub async fn hashtags(tx: &mut Tx, conference: i64) -> anyhow::Result<Vec<Hashtag>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as("SELECT tag, auto_add, sort_key FROM hashtags WHERE conference_id = $1 ORDER BY sort_key, tag")
            .bind(conference)
            .fetch_all(conn)
            .await
    })?;
    Ok(rows)
}
