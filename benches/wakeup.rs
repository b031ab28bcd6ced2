//! Wake-up latency across processes on PostgreSQL: one database handle commits an outbox row, another —
//! with its own pool and its own wake-up relay, as a second Herald process has — is woken by the commit's
//! NOTIFY. Both handles live in this one process, but the notice travels as between two processes: from
//! the writer's connection through the PostgreSQL server to the relay's dedicated connection.
//!
//! BENCH_DATABASE_URL=postgres://… cargo bench --bench wakeup     # a fresh schema; skipped without it
//! WAKEUP_N=500 …                                                 # samples per measure (default 200)
//!
//! Reported (p50, p99, max): from just before the writer's commit to the other handle's worker signal;
//! and from just before the commit to the fake Telegram accepting the row from the other handle's outbox
//! worker, whose poll is set to a minute (so only the wake-up can explain a fast send).

#[path = "../tests/support/fake_telegram.rs"]
mod fake_telegram;

mod support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::TimeDelta;
use herald::{
    clock::{SharedClock, SystemClock},
    config::OutboxSection,
    db::{Db, outbox},
    delivery::telegram,
    health::Health,
};
use herald_bots::telegram::OutgoingMessage;
use tokio_util::sync::CancellationToken;

/// Commits one row for `chat`, due `after` from now; returns when the commit began.
async fn write(db: &Db, clock: &SharedClock, chat: i64, key: &str, after: TimeDelta) -> Instant {
    let now = clock.now();
    let message = telegram::message(
        chat,
        "test",
        key,
        &OutgoingMessage::html("wake up"),
        now + after,
        None,
    )
    .expect("message");
    let mut tx = db.begin().await.expect("begin");
    outbox::enqueue(&mut tx, now, &message)
        .await
        .expect("enqueue");
    let started = Instant::now();
    tx.commit().await.expect("commit");
    started
}

#[tokio::main]
async fn main() {
    let Ok(base) = std::env::var("BENCH_DATABASE_URL") else {
        println!("wakeup: skipped (set BENCH_DATABASE_URL=postgres://… to measure)");
        return;
    };
    let n: i64 = std::env::var("WAKEUP_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let url = support::postgres_schema(&base).await;
    let clock: SharedClock = Arc::new(SystemClock);
    let writer = Db::connect(&url).await.expect("writer");
    writer.migrate().await.expect("migrate");
    let other = Db::connect(&url).await.expect("the other process's handle");
    let health = Health::default();
    let shutdown = CancellationToken::new();
    tokio::spawn(other.clone().relay_wakeups(
        clock.clone(),
        health.register("wakeups"),
        shutdown.clone(),
    ));
    let signal = other.outbox_signal();
    // The relay wakes the workers once when it starts listening: that wake-up means it is ready.
    tokio::time::timeout(Duration::from_secs(10), signal.notified())
        .await
        .expect("the relay listens");

    // 1. Commit → the other handle's signal (rows due tomorrow: the worker below leaves them alone).
    let mut woken = Vec::with_capacity(n as usize);
    for i in 0..n {
        let notified = signal.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let started = write(
            &writer,
            &clock,
            1_000_000 + i,
            &format!("signal:{i}"),
            TimeDelta::days(1),
        )
        .await;
        tokio::time::timeout(Duration::from_secs(5), notified)
            .await
            .expect("woken within 5 s");
        woken.push(started.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "commit → other process woken, {}",
        support::latencies(&mut woken)
    );

    // 2. Commit → sent by the other handle's outbox worker (poll: a minute).
    let fake = fake_telegram::FakeTelegram::start().await;
    let settings = OutboxSection {
        poll_interval_ms: 60_000,
        ..OutboxSection::default()
    };
    let worker = support::telegram_worker(&other, &fake.url, "1:BENCH", settings);
    tokio::spawn(worker.run(shutdown.clone(), health.register("outbox")));
    let mut sent = Vec::with_capacity(n as usize);
    for i in 0..n {
        let started = write(
            &writer,
            &clock,
            2_000_000 + i,
            &format!("send:{i}"),
            TimeDelta::zero(),
        )
        .await;
        assert!(
            fake.wait_for_delivered(i as usize + 1, Duration::from_secs(5))
                .await,
            "row {i} not sent within 5 s"
        );
        sent.push(started.elapsed().as_secs_f64() * 1e3);
        // Past the account's paced slot (30/s), so pacing does not show in the figure.
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    println!(
        "commit → sent by the other process, {}",
        support::latencies(&mut sent)
    );
    shutdown.cancel();
}
