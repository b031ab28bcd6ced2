//! Queries for public posts, providers and the per-conference messaging switches.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

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

pub async fn set_credentials(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: i64,
    credentials: &serde_json::Value,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE providers SET credentials = $1, updated_at = $2, credentials_set_at = $2 WHERE id = $3",
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
    let pattern = format!("moderate:{post}/%");
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT platform, target, platform_message_id FROM outbox WHERE idempotency_key LIKE $1 \
             AND platform_message_id IS NOT NULL ORDER BY id",
        )
        .bind(&pattern)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

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

/// An image of a post, without its bytes.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct PostImage {
    pub id: i64,
    pub position: i64,
    pub content_type: String,
    pub alt_text: String,
    pub telegram_file_id: Option<String>,
    pub byte_size: Option<i64>,
}

/// Adds a picture known by its Telegram file id (the bytes are fetched when a delivery needs them) at the
/// next position; returns its position (1-based).
pub async fn add_telegram_image(
    tx: &mut Tx,
    post: i64,
    file_id: &str,
    content_type: &str,
    byte_size: Option<i64>,
    alt_text: &str,
) -> anyhow::Result<i64> {
    let position = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO post_images (post_id, position, content_type, data, alt_text, telegram_file_id, byte_size) \
             SELECT $1, COALESCE(MAX(position), 0) + 1, $2, $3, $4, $5, $6 FROM post_images WHERE post_id = $1 \
             RETURNING position",
        )
        .bind(post)
        .bind(content_type)
        .bind(Vec::<u8>::new())
        .bind(alt_text)
        .bind(file_id)
        .bind(byte_size)
        .fetch_one(conn)
        .await
    })?;
    Ok(position)
}

/// A picture uploaded from the web page, bytes and all; it joins the post after the ones it has.
pub async fn add_uploaded_image(
    tx: &mut Tx,
    post: i64,
    content_type: &str,
    data: &[u8],
    alt_text: &str,
) -> anyhow::Result<i64> {
    let position = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO post_images (post_id, position, content_type, data, alt_text, byte_size) \
             SELECT $1, COALESCE(MAX(position), 0) + 1, $2, $3, $4, $5 FROM post_images WHERE post_id = $1 \
             RETURNING position",
        )
        .bind(post)
        .bind(content_type)
        .bind(data)
        .bind(alt_text)
        .bind(i64::try_from(data.len()).unwrap_or(i64::MAX))
        .fetch_one(conn)
        .await
    })?;
    Ok(position)
}

/// The post's images in order.
pub async fn images(tx: &mut Tx, post: i64) -> anyhow::Result<Vec<PostImage>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, position, content_type, alt_text, telegram_file_id, byte_size FROM post_images \
             WHERE post_id = $1 ORDER BY position",
        )
        .bind(post)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

/// Keeps an image's bytes once fetched.
pub async fn set_image_data(tx: &mut Tx, image: i64, data: &[u8]) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE post_images SET data = $2, byte_size = $3 WHERE id = $1")
            .bind(image)
            .bind(data)
            .bind(i64::try_from(data.len()).unwrap_or(i64::MAX))
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// One image with its bytes as stored (empty when not fetched yet).
pub async fn image_by_id(tx: &mut Tx, image: i64) -> anyhow::Result<Option<(PostImage, Vec<u8>)>> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        image: PostImage,
        data: Vec<u8>,
    }
    let row: Option<Row> = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, position, content_type, alt_text, telegram_file_id, byte_size, data FROM post_images WHERE id = $1",
        )
        .bind(image)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row.map(|r| (r.image, r.data)))
}
