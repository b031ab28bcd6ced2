//! Reminder lateness: 1,000 reminders due within one minute across 200 chats, delivered by the real
//! outbox worker through the fake Telegram with Telegram's documented limits (30 messages/s per bot,
//! 1/s per private chat, 20/min per group).
//!
//! cargo bench --bench reminders                    # SQLite
//! BENCH_DATABASE_URL=postgres://… cargo bench --bench reminders   # and PostgreSQL
//!
//! Two shapes: due times spread over the minute (what a schedule with many parallel rooms gives), and all
//! due at the same second (the worst case: the per-bot limit alone needs 1000/30 ≈ 33 s). Lateness is the
//! time the fake received a message minus its due time; a reminder that could not go before its deadline
//! (10 minutes after the due time) would be counted as expired.

#[path = "../tests/support/fake_telegram.rs"]
mod fake_telegram;

mod support;

use std::time::Duration;
use support::postgres_schema;

use chrono::{TimeDelta, Utc};
use herald::{
    config::OutboxSection,
    db::{Db, outbox},
    delivery::telegram,
    health::Health,
};
use herald_bots::telegram::OutgoingMessage;

const REMINDERS: usize = 1000;
const CHATS: i64 = 200;

async fn run(url: &str, spread: bool) -> (Vec<f64>, usize) {
    let fake = fake_telegram::FakeTelegram::start().await;
    let db = Db::connect(url).await.expect("db");
    db.migrate().await.expect("migrate");
    let settings = OutboxSection::default();
    let worker = support::telegram_worker(&db, &fake.url, "1:BENCH", settings);

    let base = Utc::now() + TimeDelta::seconds(2);
    let mut due = Vec::with_capacity(REMINDERS);
    let mut tx = db.begin().await.expect("begin");
    for i in 0..REMINDERS {
        // Half the chats are private (positive ids), half groups or channels (negative ids).
        let n = (i as i64) % CHATS;
        let chat = if n % 2 == 0 {
            10_000 + n
        } else {
            -1_000_000 - n
        };
        let at = if spread {
            base + TimeDelta::milliseconds((i as i64 * 60_000) / REMINDERS as i64)
        } else {
            base
        };
        let text = format!("Session {i} starts in 10 minutes");
        let m = telegram::message(
            chat,
            "reminder",
            &format!("bench:{i}"),
            &OutgoingMessage::html(text),
            at,
            Some(at + TimeDelta::minutes(10)),
        )
        .expect("message");
        outbox::enqueue(&mut tx, Utc::now(), &m)
            .await
            .expect("enqueue");
        due.push(at);
    }
    tx.commit().await.expect("commit");

    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone(), Health::default().register("outbox")));
    let delivered = fake
        .wait_for_delivered(REMINDERS, Duration::from_secs(700))
        .await;
    shutdown.cancel();
    running.await.expect("worker");
    assert!(delivered, "not all delivered");

    let mut lateness: Vec<f64> = fake
        .calls()
        .iter()
        .filter(|c| c.message_id.is_some())
        .filter_map(|c| {
            let text = c.text()?;
            let i: usize = text.split_whitespace().nth(1)?.parse().ok()?;
            Some((c.at - due[i]).num_microseconds()? as f64 / 1e6)
        })
        .collect();
    lateness.sort_by(f64::total_cmp);
    let expired = outbox::counts(&db)
        .await
        .expect("counts")
        .into_iter()
        .filter(|(s, _)| s == "expired")
        .map(|(_, n)| n as usize)
        .sum();
    db.close().await;
    (lateness, expired)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

fn report(backend: &str, shape: &str, (lateness, expired): (Vec<f64>, usize)) {
    println!(
        "{backend:<10} {shape:<24} sent {:>4}  lateness p50 {:>6.3} s  p99 {:>6.3} s  max {:>6.3} s  expired {expired}",
        lateness.len(),
        pct(&lateness, 0.50),
        pct(&lateness, 0.99),
        lateness.last().copied().unwrap_or(f64::NAN),
    );
}

#[tokio::main]
async fn main() {
    println!(
        "{REMINDERS} reminders across {CHATS} chats, Telegram's limits: 30/s per bot, 1/s per private chat, 20/min per group"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    for (shape, spread) in [
        ("spread over one minute", true),
        ("all due the same second", false),
    ] {
        let url = format!(
            "sqlite://{}",
            dir.path().join(format!("r{spread}.db")).display()
        );
        report("SQLite", shape, run(&url, spread).await);
        if let Ok(base) = std::env::var("BENCH_DATABASE_URL") {
            let url = postgres_schema(&base).await;
            report("PostgreSQL", shape, run(&url, spread).await);
        }
    }
}
