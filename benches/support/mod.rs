//! Shared by the benches.

use sqlx::Connection;

/// A fresh schema in the PostgreSQL database at `base`, and the URL that uses it.
pub async fn postgres_schema(base: &str) -> String {
    let schema = format!("bench_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::PgConnection::connect(base).await.expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut conn)
        .await
        .expect("schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}
