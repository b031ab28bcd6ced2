//! Queries for files waiting to be read as text.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Tx, on_tx};

#[derive(Debug, Clone, FromRow)]
pub struct DocumentRead {
    pub id: i64,
    pub chat_id: String,
    pub user_id: String,
    pub user_name: String,
    pub file_id: String,
}

pub async fn request(
    tx: &mut Tx,
    now: DateTime<Utc>,
    chat_id: &str,
    user_id: &str,
    user_name: &str,
    file_id: &str,
) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO document_reads (chat_id, user_id, user_name, file_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(chat_id)
        .bind(user_id)
        .bind(user_name)
        .bind(file_id)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn pending(tx: &mut Tx) -> anyhow::Result<Vec<DocumentRead>> {
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, chat_id, user_id, user_name, file_id FROM document_reads WHERE state = 'pending' ORDER BY id LIMIT 20",
        )
        .fetch_all(conn)
        .await
    })?;
    Ok(rows)
}

pub async fn finish(tx: &mut Tx, id: i64, error: Option<&str>) -> anyhow::Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE document_reads SET state = $2, error = $3 WHERE id = $1")
            .bind(id)
            .bind(if error.is_some() { "failed" } else { "done" })
            .bind(error)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}
