//! Shared by the benches.

use std::sync::Arc;

use herald::{
    clock::SystemClock,
    config::OutboxSection,
    db::Db,
    delivery::telegram,
    metrics::Metrics,
    outbox::{Outbox, Senders},
    telegram::TelegramSender,
};
use herald_bots::telegram::TelegramClient;
use sqlx::Connection;

/// An outbox worker on the system clock that sends Telegram messages for `token` to the Bot API at
/// `api_url` (a fake).
#[allow(dead_code)] // not every bench sends
pub fn telegram_worker(
    db: &Db,
    api_url: &url::Url,
    token: &str,
    settings: OutboxSection,
) -> Outbox {
    let client = TelegramClient::new(
        api_url.clone(),
        token,
        reqwest::Client::new(),
        settings.send_timeout(),
    );
    let mut senders = Senders::default();
    senders.insert(telegram::PLATFORM, TelegramSender::new(client, db.clone()));
    Outbox::new(
        db.clone(),
        Arc::new(SystemClock),
        senders,
        settings,
        Metrics::new(),
    )
}

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

/// The `p` quantile (0–1) of `sorted` values, nearest rank; NaN when there are none.
#[allow(dead_code)] // not every bench measures latencies
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted
        .get(i.min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(f64::NAN)
}

/// `ms` sorted, summed up as "over N: p50 …, p99 …, max …" (milliseconds).
#[allow(dead_code)] // not every bench measures latencies
pub fn latencies(ms: &mut [f64]) -> String {
    ms.sort_by(f64::total_cmp);
    format!(
        "over {}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms.len(),
        percentile(ms, 0.5),
        percentile(ms, 0.99),
        ms.last().copied().unwrap_or(f64::NAN)
    )
}
