//! Two `herald run` processes on one PostgreSQL database, against a fake Telegram that enforces its
//! limits: a fan-out is delivered once between them, the job that polls Telegram runs in one of them, and
//! when that process is killed with SIGKILL mid-way the other takes the job over and finishes the fan-out.
//!
//! PostgreSQL only (`TEST_DATABASE_URL`): SQLite is one process by design; the test then says so and
//! passes. Rates are measured by `FANOUT_PROCESSES=2 cargo bench --bench fanout`, not here.

#![allow(clippy::unwrap_used)]

mod support;

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use herald::{
    db::{Db, leases, outbox},
    delivery::telegram,
};
use herald_bots::telegram::OutgoingMessage;
use support::FakeTelegram;

const TOKEN: &str = "1:PAIR";

/// The process id in the name of the live holder of the lease `name`, if any holds it.
async fn holder_pid(db: &Db, name: &str) -> Option<u32> {
    leases::holder(db, chrono::Utc::now(), name)
        .await
        .expect("leases")?
        .rsplit('-')
        .nth(1)?
        .parse()
        .ok()
}

async fn eventually<T>(within: Duration, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(started.elapsed() < within, "not within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_processes_deliver_a_fan_out_once_and_one_takes_the_telegram_poller_over_when_the_other_is_killed()
 {
    if !std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        eprintln!("skipped: several processes need PostgreSQL (TEST_DATABASE_URL)");
        return;
    }
    let fake = FakeTelegram::start_enforcing().await;
    let (url, _dir) = support::fresh_database().await;
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    // 450 direct messages: 15 s at Telegram's 30 a second.
    let n = 450;
    let now = chrono::Utc::now();
    let mut tx = db.begin().await.unwrap();
    for chat in 1..=n {
        let m = telegram::message(
            chat,
            "announcement",
            &format!("pair:{chat}"),
            &OutgoingMessage::html(format!("hello {chat}")),
            now,
            None,
        )
        .unwrap();
        outbox::enqueue(&mut tx, now, &m).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut children = [
        fake.herald_process(&url, TOKEN),
        fake.herald_process(&url, TOKEN),
    ];
    let pids: Vec<u32> = children.iter().map(|c| c.id().unwrap()).collect();
    // One of them polls Telegram.
    let poller = eventually(Duration::from_secs(20), async || {
        holder_pid(&db, "telegram").await
    })
    .await;
    let (dead, alive) = if poller == pids[0] { (0, 1) } else { (1, 0) };
    assert_eq!(pids[dead], poller, "the poller is one of the two");

    // Killed mid-way, while both send.
    eventually(Duration::from_secs(60), async || {
        (fake.delivered().len() >= n as usize / 3).then_some(())
    })
    .await;
    children[dead].kill().await.unwrap();
    let killed = Instant::now();
    let accepted: std::collections::HashSet<i64> =
        fake.delivered().into_iter().map(|(chat, _)| chat).collect();
    let in_flight = outbox::list(&db)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.state == outbox::OutboxState::Sending)
        .filter(|r| r.target.parse().is_ok_and(|c: i64| accepted.contains(&c)))
        .count();

    // Each leased job moves to the survivor within 10 s of the kill (each standby asks every 2 s).
    for job in ["telegram", "listeners", "schedule-sync", "news"] {
        let took_over = eventually(Duration::from_secs(15), async || {
            (holder_pid(&db, job).await == Some(pids[alive])).then(|| killed.elapsed())
        })
        .await;
        assert!(
            took_over <= Duration::from_secs(10),
            "{job} runs in the surviving process {took_over:?} after the kill"
        );
    }

    eventually(Duration::from_secs(120), async || {
        let chats: std::collections::HashSet<i64> =
            fake.delivered().into_iter().map(|(chat, _)| chat).collect();
        (chats.len() >= n as usize).then_some(())
    })
    .await;
    let mut per_chat: HashMap<i64, usize> = HashMap::new();
    for (chat, _) in fake.delivered() {
        *per_chat.entry(chat).or_default() += 1;
    }
    let duplicated: usize = per_chat.values().map(|k| k - 1).sum();
    assert_eq!(per_chat.len(), n as usize, "every chat served");
    assert!(
        duplicated <= in_flight,
        "{duplicated} sent twice, {in_flight} were in flight at the kill"
    );
}
