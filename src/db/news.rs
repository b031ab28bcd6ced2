//! Queries for news: a conference's feed and the items posted.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

/// Sets (or clears) a conference's news feed; a new feed is read fresh (primed again).
pub async fn set_feed(tx: &mut Tx, conference: i64, url: Option<&str>) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE conferences SET news_feed_url = $2, news_checked_at = NULL, news_error = NULL, news_primed = FALSE \
             WHERE id = $1",
        )
        .bind(conference)
        .bind(url)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct Feed {
    pub conference_id: i64,
    pub url: String,
    pub primed: bool,
}

/// Feeds not read since `before`.
pub async fn due_feeds(tx: &mut Tx, before: DateTime<Utc>) -> anyhow::Result<Vec<Feed>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id AS conference_id, news_feed_url AS url, news_primed AS primed FROM conferences \
             WHERE news_feed_url IS NOT NULL AND (news_checked_at IS NULL OR news_checked_at < $1) ORDER BY id",
        )
        .bind(before)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Records a read of the feed: when, whether it failed, and that it is primed after a success.
pub async fn record_check(
    tx: &mut Tx,
    conference: i64,
    now: DateTime<Utc>,
    error: Option<&str>,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE conferences SET news_checked_at = $2, news_error = $3, \
             news_primed = (news_primed OR $3 IS NULL) WHERE id = $1",
        )
        .bind(conference)
        .bind(now)
        .bind(error)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Remembers an item; `None` when it was seen before.
pub async fn insert_item(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    guid: &str,
    title: &str,
    url: Option<&str>,
) -> anyhow::Result<Option<i64>> {
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO news_items (conference_id, guid, title, url, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (conference_id, guid) DO NOTHING RETURNING id",
        )
        .bind(conference)
        .bind(guid)
        .bind(title)
        .bind(url)
        .bind(now)
        .fetch_optional(conn)
        .await
    })?;
    Ok(id)
}

pub async fn set_item_post(tx: &mut Tx, item: i64, post: i64) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE news_items SET post_id = $2 WHERE id = $1")
            .bind(item)
            .bind(post)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}
