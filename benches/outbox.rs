//! Outbox delivery rate against an unlimited fake Telegram on loopback, next to a bare reqwest loop
//! sending the same requests to the same fake.
//!
//! cargo bench --bench outbox                       # SQLite only
//! BENCH_DATABASE_URL=postgres://… cargo bench --bench outbox   # and PostgreSQL (a fresh schema)
//! BENCH_MESSAGES=20000 cargo bench --bench outbox  # more messages (default 10000)
//!
//! Every message goes to its own chat, as announcements to attendees do, and the platform's rate limits
//! are switched off: this measures Herald's overhead (claim, send, record), not Telegram's limits.

#[path = "../tests/support/fake_telegram.rs"]
mod fake_telegram;

mod support;

use std::{sync::Arc, time::Instant};
use support::postgres_schema;

use futures::StreamExt;
use herald::{
    clock::{SharedClock, SystemClock},
    config::{OutboxSection, RateLimitOverrides},
    db::{Db, outbox},
    delivery::telegram,
};
use herald_bots::{Rate, telegram::OutgoingMessage};

const TOKEN: &str = "1:BENCH";

fn settings() -> OutboxSection {
    let mut s = OutboxSection::default();
    s.rate_limits.insert(
        "telegram".into(),
        RateLimitOverrides {
            per_provider: Some(Rate::Unlimited),
            per_private_chat: Some(Rate::Unlimited),
            per_group_chat: Some(Rate::Unlimited),
        },
    );
    s
}

fn payload(chat: i64) -> serde_json::Value {
    serde_json::json!({ "chat_id": chat, "text": format!("Rust in Space starts in 10 minutes in Room A ({chat})"), "parse_mode": "HTML" })
}

/// Runs on a runtime worker thread, as the outbox worker does, not on the main thread.
async fn bare_loop(fake: &fake_telegram::FakeTelegram, n: usize, concurrency: usize) -> f64 {
    let url = fake.url.clone();
    tokio::spawn(async move { bare_loop_inner(url, n, concurrency).await })
        .await
        .expect("bare loop")
}

async fn bare_loop_inner(base: url::Url, n: usize, concurrency: usize) -> f64 {
    let http = reqwest::Client::new();
    let url = format!("{base}bot{TOKEN}/sendMessage");
    let started = Instant::now();
    futures::stream::iter(0..n)
        .map(|i| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                let response = http
                    .post(&url)
                    .json(&payload(i as i64 + 1))
                    .send()
                    .await
                    .expect("send");
                let body: serde_json::Value = response.json().await.expect("json");
                assert_eq!(body["ok"], true);
            }
        })
        .buffer_unordered(concurrency)
        .collect::<()>()
        .await;
    n as f64 / started.elapsed().as_secs_f64()
}

async fn outbox_run(fake: &fake_telegram::FakeTelegram, url: &str, n: usize) -> (f64, f64) {
    let db = Db::connect(url).await.expect("database");
    db.migrate().await.expect("migrate");
    let clock: SharedClock = Arc::new(SystemClock);
    let settings = settings();
    let worker = support::telegram_worker(&db, &fake.url, TOKEN, settings);

    let started = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut tx = db.begin().await.expect("begin");
        for i in chunk {
            let chat = *i as i64 + 1;
            let text = payload(chat)["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let m = telegram::message(
                chat,
                "bench",
                "bench",
                &OutgoingMessage::html(text),
                clock.now(),
                None,
            )
            .expect("message");
            outbox::enqueue(&mut tx, clock.now(), &m)
                .await
                .expect("enqueue");
        }
        tx.commit().await.expect("commit");
    }
    let enqueue_rate = n as f64 / started.elapsed().as_secs_f64();

    // The production worker loop, stopped once the fake has seen every message and the last round is
    // recorded.
    let before = fake.arrivals();
    let started = Instant::now();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let health = herald::health::Health::default();
    let running = tokio::spawn(worker.run(shutdown.clone(), health.register("outbox")));
    assert!(
        fake.wait_for_arrivals(before + n, std::time::Duration::from_secs(300))
            .await,
        "all delivered"
    );
    shutdown.cancel();
    running.await.expect("worker");
    let rate = n as f64 / started.elapsed().as_secs_f64();
    let sent = outbox::counts(&db).await.expect("counts");
    assert_eq!(
        sent,
        [("sent".to_owned(), n as i64)],
        "every message recorded as sent"
    );
    db.close().await;
    (enqueue_rate, rate)
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let concurrency = settings().concurrency as usize;
    let fake = fake_telegram::FakeTelegram::start().await;

    // Warm up connections and the fake.
    bare_loop(&fake, 500, concurrency).await;

    let sequential = bare_loop(&fake, n, 1).await;
    let parallel = bare_loop(&fake, n, concurrency).await;
    println!("messages: {n}");
    println!("bare reqwest loop, one at a time:      {sequential:>9.0} msg/s");
    println!("bare reqwest loop, {concurrency} in flight:        {parallel:>9.0} msg/s");

    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    let (enqueue, rate) = outbox_run(&fake, &sqlite, n).await;
    println!(
        "outbox on SQLite:                      {rate:>9.0} msg/s  ({:.0} % of the parallel bare loop; enqueue {enqueue:.0} msg/s)",
        100.0 * rate / parallel
    );

    if let Ok(base) = std::env::var("BENCH_DATABASE_URL") {
        let url = postgres_schema(&base).await;
        let (enqueue, rate) = outbox_run(&fake, &url, n).await;
        println!(
            "outbox on PostgreSQL:                  {rate:>9.0} msg/s  ({:.0} % of the parallel bare loop; enqueue {enqueue:.0} msg/s)",
            100.0 * rate / parallel
        );
    }
    let delivered = fake.delivered().len();
    assert!(delivered >= 2 * n, "the fake saw {delivered} messages");
}
