//! Queries for public posts: the posts themselves, their own texts per provider, their audit trail and
//! the state of their moderation and delivery messages.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

/// A campaign post's time, providers and campaign.
pub async fn set_campaign_fields(
    tx: &mut Tx,
    post: i64,
    scheduled_at: DateTime<Utc>,
    provider_ids: &[i64],
    campaign: i64,
) -> anyhow::Result<()> {
    let ids = serde_json::to_string(provider_ids)?;
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE posts SET scheduled_at = $2, provider_ids = $3, campaign_id = $4 WHERE id = $1",
        )
        .bind(post)
        .bind(scheduled_at)
        .bind(&ids)
        .bind(campaign)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Makes a post the answer to a mention.
pub async fn set_reply_to(tx: &mut Tx, post: i64, mention: i64) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE posts SET reply_to_mention_id = $2 WHERE id = $1")
            .bind(post)
            .bind(mention)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Post {
    pub id: i64,
    pub conference_id: i64,
    pub author_id: Option<i64>,
    /// Where the post came from: `telegram` or `web` for people, anything else (`campaign`, `news`,
    /// `webhook`) for automatic posts.
    pub source: String,
    pub state: String,
    pub text: String,
    pub allow_split: bool,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// An answer to this mention: it goes to the mention's network only, as a reply.
    pub reply_to_mention_id: Option<i64>,
    /// The providers it goes to (JSON list of ids); `None`: every provider broadcasting for the conference.
    pub provider_ids: Option<String>,
}

impl Post {
    /// Whether a person wrote this post (from any surface they talk to Herald on: Telegram, the web,
    /// a Mastodon direct message), as opposed to a campaign, a news feed or a sponsor benefit.
    pub fn is_manual(&self) -> bool {
        !matches!(self.source.as_str(), "campaign" | "news" | "benefit")
    }
}

macro_rules! post_columns {
    () => {
        "id, conference_id, author_id, source, state, text, allow_split, scheduled_at, created_at, reply_to_mention_id, provider_ids"
    };
}

pub async fn create_post(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    author: Option<i64>,
    source: &str,
    state: &str,
    text: &str,
) -> anyhow::Result<i64> {
    let id = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO posts (conference_id, author_id, source, state, text, allow_split, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, TRUE, $6, $6) RETURNING id",
        )
        .bind(conference)
        .bind(author)
        .bind(source)
        .bind(state)
        .bind(text)
        .bind(now)
        .fetch_one(conn)
        .await
    })?;
    Ok(id)
}

pub async fn post(tx: &mut Tx, id: i64) -> anyhow::Result<Option<Post>> {
    let row = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            post_columns!(),
            " FROM posts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row)
}

pub async fn posts_in(tx: &mut Tx, conference: i64) -> anyhow::Result<Vec<Post>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            post_columns!(),
            " FROM posts WHERE conference_id = $1 AND state IN ('pending', 'approved', 'sending') ORDER BY id"
        ))
        .bind(conference)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// The posts of a campaign still waiting for approval, in the order they were made.
pub async fn pending_in_campaign(tx: &mut Tx, campaign: i64) -> anyhow::Result<Vec<Post>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            post_columns!(),
            " FROM posts WHERE campaign_id = $1 AND state = 'pending' ORDER BY id"
        ))
        .bind(campaign)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Whether a post answers `mention`.
pub async fn answered(tx: &mut Tx, mention: i64) -> anyhow::Result<bool> {
    let found: Option<i64> = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT id FROM posts WHERE reply_to_mention_id = $1 LIMIT 1")
            .bind(mention)
            .fetch_optional(conn)
            .await
    })?;
    Ok(found.is_some())
}

/// Whether `author` wrote the same text since `since` (the duplicate guard).
pub async fn recent_duplicate(
    tx: &mut Tx,
    author: i64,
    text: &str,
    since: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let n: i64 = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM posts WHERE author_id = $1 AND text = $2 AND created_at >= $3 AND state <> 'cancelled'",
        )
        .bind(author)
        .bind(text)
        .bind(since)
        .fetch_one(conn)
        .await
    })?;
    Ok(n > 0)
}

pub async fn set_state(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: i64,
    state: &str,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE posts SET state = $1, updated_at = $2 WHERE id = $3")
            .bind(state)
            .bind(now)
            .bind(id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn set_text(tx: &mut Tx, now: DateTime<Utc>, id: i64, text: &str) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE posts SET text = $1, updated_at = $2 WHERE id = $3")
            .bind(text)
            .bind(now)
            .bind(id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Sets (or with `None` drops) the post's own text for one provider.
pub async fn set_variant(
    tx: &mut Tx,
    post: i64,
    provider: i64,
    text: Option<&str>,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        match text {
            Some(text) => {
                sqlx::query(
                    "INSERT INTO post_variants (post_id, provider_id, text) VALUES ($1, $2, $3) \
                     ON CONFLICT (post_id, provider_id) DO UPDATE SET text = excluded.text",
                )
                .bind(post)
                .bind(provider)
                .bind(text)
                .execute(conn)
                .await
            }
            None => {
                sqlx::query("DELETE FROM post_variants WHERE post_id = $1 AND provider_id = $2")
                    .bind(post)
                    .bind(provider)
                    .execute(conn)
                    .await
            }
        }
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The post's own texts per provider, keyed by provider id.
pub async fn variants(
    tx: &mut Tx,
    post: i64,
) -> anyhow::Result<std::collections::HashMap<i64, String>> {
    let rows: Vec<(i64, String)> = on_tx!(tx, |conn| {
        sqlx::query_as("SELECT provider_id, text FROM post_variants WHERE post_id = $1")
            .bind(post)
            .fetch_all(conn)
            .await
    })?;
    Ok(rows.into_iter().collect())
}

/// Whether the post may go out as a thread where it is too long for a network.
pub async fn set_allow_split(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: i64,
    allow: bool,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE posts SET allow_split = $1, updated_at = $2 WHERE id = $3")
            .bind(allow)
            .bind(now)
            .bind(id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// One line of a post's audit trail.
#[allow(clippy::too_many_arguments)]
pub async fn audit(
    tx: &mut Tx,
    now: DateTime<Utc>,
    post: i64,
    actor: Option<i64>,
    action: &str,
    surface: &str,
    detail: Option<&str>,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("INSERT INTO post_events (post_id, actor_id, action, surface, detail, at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(post)
            .bind(actor)
            .bind(action)
            .bind(surface)
            .bind(detail)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// (action, actor name, surface, detail, at) of a post's trail, oldest first.
pub async fn trail(
    tx: &mut Tx,
    post: i64,
) -> anyhow::Result<
    Vec<(
        String,
        Option<String>,
        String,
        Option<String>,
        DateTime<Utc>,
    )>,
> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT e.action, p.display_name, e.surface, e.detail, e.at FROM post_events e \
             LEFT JOIN people p ON p.id = e.actor_id WHERE e.post_id = $1 ORDER BY e.id",
        )
        .bind(post)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Posts that failed on every network or on some (`failed`, `partial`), oldest first: what `/queue` shows
/// until someone retries or cancels them.
pub async fn posts_failed(tx: &mut Tx, conference: i64) -> anyhow::Result<Vec<Post>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(concat!(
            "SELECT ",
            post_columns!(),
            " FROM posts WHERE conference_id = $1 AND state IN ('failed', 'partial') ORDER BY id"
        ))
        .bind(conference)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// One network's delivery of a post, as the outbox has it.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct DeliveryOutcome {
    pub platform: String,
    pub state: String,
    pub last_error: Option<String>,
}

/// The deliveries of a post (outbox keys `post:<id>:…`), in the order they were written.
pub async fn deliveries(tx: &mut Tx, post: i64) -> anyhow::Result<Vec<DeliveryOutcome>> {
    let pattern = format!("post:{post}:%");
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT platform, state, last_error FROM outbox WHERE idempotency_key LIKE $1 ORDER BY id",
        )
        .bind(&pattern)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// States of a post's delivery rows (outbox keys `post:<id>:…`).
pub async fn delivery_states(tx: &mut Tx, post: i64) -> anyhow::Result<Vec<String>> {
    let pattern = format!("post:{post}:%");
    let rows = on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT state FROM outbox WHERE idempotency_key LIKE $1")
            .bind(&pattern)
            .fetch_all(conn)
            .await
    })?;
    Ok(rows)
}

/// Where the moderation message of a post went and the platform's id for it (platform, chat, message id),
/// once sent: one per moderation chat.
pub async fn moderation_message(
    tx: &mut Tx,
    post: i64,
) -> anyhow::Result<Vec<(String, String, String)>> {
    super::outbox::sent_messages(tx, &format!("moderate:{post}")).await
}
