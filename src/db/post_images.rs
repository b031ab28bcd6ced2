//! Queries for the images of posts: their metadata and, once fetched or uploaded, their bytes.

use sqlx::FromRow;

use super::{Tx, on_tx};

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
