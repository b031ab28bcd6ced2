//! One announcement fanned out to many attendees through the running outbox worker, against a fake
//! Telegram that enforces Telegram's limits exactly (30 messages a second per bot, one a second per
//! private chat, sliding windows; 429 with `retry_after` beyond them). While it runs, a reply to a command
//! and a reminder fall due every few seconds: they must not wait behind the fan-out.
//!
//! cargo bench --bench fanout                            # 10,000 attendees on SQLite
//! FANOUT_N=3000 cargo bench --bench fanout              # fewer
//! FANOUT_CRASH_AT=60 cargo bench --bench fanout         # the worker dies (aborted mid-send) after 60 s
//!                                                       # and a new one starts
//! FANOUT_KILL_AT=60 cargo bench --bench fanout          # Herald runs as its own process (`herald run`),
//!                                                       # is killed with SIGKILL after 60 s and started again
//! FANOUT_PROCESSES=2 BENCH_DATABASE_URL=postgres://… cargo bench --bench fanout
//!                                                       # two `herald run` processes share the fan-out and
//!                                                       # the bot's limit (PostgreSQL only; with
//!                                                       # FANOUT_KILL_AT the first of them is killed)
//! FANOUT_FAULTS=1 FANOUT_N=1000 cargo bench --bench fanout   # faults: 10 % of chats answer 429 once
//!                                                       # (retry_after 1–3 s), 5 % a 500, 2 % have blocked
//!                                                       # the bot, 0.5 % stall past the send timeout
//! BENCH_DATABASE_URL=postgres://… cargo bench --bench fanout   # on PostgreSQL (a fresh schema)
//!
//! Reported: time and rate against the cap, requests answered 429, messages lost and duplicated, CPU
//! seconds and bytes written by the process (Herald and the fake together), and the latency of the
//! replies and reminders written during the fan-out (from commit to arrival at the fake).

#[path = "../tests/support/fake_telegram.rs"]
mod fake_telegram;

mod support;

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use herald::{
    clock::{SharedClock, SystemClock},
    config::OutboxSection,
    db::{Db, outbox},
    delivery::telegram,
    health::Health,
    outbox::Outbox,
};
use herald_bots::telegram::OutgoingMessage;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "1:BENCH";
/// Chats of the probes: replies from 10,000,000 on, reminders from 20,000,000 on.
const REPLIES: i64 = 10_000_000;
const REMINDERS: i64 = 20_000_000;

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// What delivers the fan-out: the outbox worker in this process, or Herald as a process of its own.
enum Running {
    Task(tokio::task::JoinHandle<()>),
    Processes(Vec<tokio::process::Child>),
}

/// CPU seconds (user + system) this process used so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the 14th, stime the 15th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Bytes this process caused to be written to storage so far.
fn bytes_written() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("write_bytes: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn worker(db: &Db, fake: &fake_telegram::FakeTelegram) -> Outbox {
    support::telegram_worker(db, &fake.url, TOKEN, OutboxSection::default())
}

async fn write(db: &Db, rows: &[(i64, &str, String)]) -> DateTime<Utc> {
    let clock: SharedClock = Arc::new(SystemClock);
    let mut tx = db.begin().await.expect("begin");
    for (chat, kind, key) in rows {
        let m = telegram::message(
            *chat,
            kind,
            key,
            &OutgoingMessage::html(format!("{kind} for {chat}")),
            clock.now(),
            None,
        )
        .expect("message");
        outbox::enqueue(&mut tx, clock.now(), &m)
            .await
            .expect("enqueue");
    }
    tx.commit().await.expect("commit");
    Utc::now()
}

async fn run(url: &str, label: &str) {
    let n: i64 = env("FANOUT_N").unwrap_or(10_000);
    let crash_at: Option<u64> = env("FANOUT_CRASH_AT");
    let kill_at: Option<u64> = env("FANOUT_KILL_AT");
    let processes: usize = env("FANOUT_PROCESSES").unwrap_or(1);
    if processes > 1 && url.starts_with("sqlite:") {
        println!("== fan-out on {label}: skipped (several processes need PostgreSQL)");
        return;
    }
    let fake = fake_telegram::FakeTelegram::start_enforcing().await;
    let mut blocked = std::collections::HashSet::new();
    if env::<u8>("FANOUT_FAULTS").is_some_and(|f| f > 0) {
        for chat in 1..=n {
            // A fixed spread over the chats, the same on every run.
            let roll = (chat.wrapping_mul(2_654_435_761) % 1_000) as u64;
            let fault = match roll {
                0..100 => fake_telegram::Fault::RetryAfter(1 + roll % 3),
                100..150 => fake_telegram::Fault::ServerError,
                150..170 => {
                    blocked.insert(chat);
                    fake_telegram::Fault::blocked()
                }
                170..175 => fake_telegram::Fault::Timeout(Duration::from_secs(40)),
                _ => continue,
            };
            fake.fail_next_to(chat, fault);
        }
    }
    let db = Db::connect(url).await.expect("database");
    db.migrate().await.expect("migrate");

    // The fan-out, written as /announce writes it: one transaction.
    let announcement: Vec<(i64, &str, String)> = (1..=n)
        .map(|chat| (chat, "announcement", format!("announce:1/{chat}")))
        .collect();
    write(&db, &announcement).await;

    let cpu = cpu_seconds();
    let written = bytes_written();
    let started = Instant::now();
    let shutdown = CancellationToken::new();
    let health = Health::default();
    let mut running = if kill_at.is_some() || processes > 1 {
        Running::Processes(
            (0..processes)
                .map(|_| fake.herald_process(url, TOKEN))
                .collect(),
        )
    } else {
        Running::Task(tokio::spawn(
            worker(&db, &fake).run(shutdown.clone(), health.register("outbox")),
        ))
    };

    // Probes: a reply and a reminder every `every`, about 100 of each during the fan-out.
    let every = Duration::from_secs_f64((n as f64 / 30.0 / 110.0).max(0.2));
    let probes = {
        let db = db.clone();
        tokio::spawn(async move {
            let mut written: HashMap<i64, DateTime<Utc>> = HashMap::new();
            for i in 0..100 {
                tokio::time::sleep(every).await;
                let at = write(&db, &[(REPLIES + i, "message", format!("reply:{i}"))]).await;
                written.insert(REPLIES + i, at);
                let at = write(&db, &[(REMINDERS + i, "reminder", format!("reminder:{i}"))]).await;
                written.insert(REMINDERS + i, at);
            }
            written
        })
    };

    if let (Some(secs), Running::Task(task)) = (crash_at, &running) {
        tokio::time::sleep(Duration::from_secs(secs)).await;
        // Dies mid-send: nothing it held is handed back, outcomes not yet recorded are lost.
        task.abort();
        let at_crash = fake.delivered().len();
        let restarted = Instant::now();
        running = Running::Task(tokio::spawn(
            worker(&db, &fake).run(shutdown.clone(), health.register("outbox")),
        ));
        // Resumed: the first message accepted after the restart.
        while fake.delivered().len() == at_crash {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        println!(
            "restart: first message accepted {:.2} s after the new worker started",
            restarted.elapsed().as_secs_f64()
        );
    }

    if let (Some(secs), Running::Processes(children)) = (kill_at, &mut running) {
        tokio::time::sleep(Duration::from_secs(secs)).await;
        children[0].kill().await.expect("kill -9");
        let at_kill = fake.delivered();
        // Sends in flight: rows the dead process held whose message Telegram had already accepted —
        // their outcome was never recorded, so they are the ones that may go twice.
        let accepted: std::collections::HashSet<i64> =
            at_kill.iter().map(|(chat, _)| *chat).collect();
        let held: Vec<i64> = outbox::list(&db)
            .await
            .expect("rows")
            .iter()
            .filter(|r| r.state == outbox::OutboxState::Sending)
            .filter_map(|r| r.target.parse().ok())
            .collect();
        let in_flight = held.iter().filter(|c| accepted.contains(c)).count();
        println!(
            "kill -9 after {secs} s: {} messages accepted, {} rows held (by the dead process, or any with several), {in_flight} of them accepted (sends in flight)",
            at_kill.len(),
            held.len()
        );
        let restarted = Instant::now();
        children[0] = fake.herald_process(url, TOKEN);
        while fake.delivered().len() == at_kill.len() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        println!(
            "restart: first message accepted {:.2} s after the new process started",
            restarted.elapsed().as_secs_f64()
        );
    }

    let probes = probes.await.expect("probes");
    let total = n as usize + probes.len();
    let deadline = Instant::now() + Duration::from_secs(3_600);
    loop {
        let delivered: std::collections::HashSet<i64> =
            fake.delivered().into_iter().map(|(chat, _)| chat).collect();
        if delivered.len() + blocked.len() >= total || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let written = bytes_written() - written;
    shutdown.cancel();
    match running {
        Running::Task(task) => task.await.expect("worker"),
        Running::Processes(children) => {
            for mut child in children {
                child.kill().await.expect("stop herald");
            }
        }
    }

    let delivered = fake.delivered();
    let mut per_chat: HashMap<i64, usize> = HashMap::new();
    for (chat, _) in &delivered {
        *per_chat.entry(*chat).or_default() += 1;
    }
    let fanned: Vec<&(i64, String)> = delivered.iter().filter(|(c, _)| *c <= n).collect();
    let lost = (1..=n)
        .filter(|c| !blocked.contains(c) && !per_chat.contains_key(c))
        .count();
    let duplicated: usize = per_chat.values().map(|k| k.saturating_sub(1)).sum();
    let requests = fake.calls_of("sendMessage").len();
    let refused = fake.refused();
    // Latency of the probes: arrival at the fake minus commit.
    let arrivals: HashMap<i64, DateTime<Utc>> = fake
        .calls_of("sendMessage")
        .into_iter()
        .filter(|c| c.message_id.is_some())
        .filter_map(|c| c.chat_id().map(|chat| (chat, c.at)))
        .collect();
    let latency = |base: i64| {
        let mut l: Vec<f64> = probes
            .iter()
            .filter(|(chat, _)| (base..base + 1_000).contains(*chat))
            .filter_map(|(chat, at)| arrivals.get(chat).map(|a| (*a - *at).as_seconds_f64()))
            .collect();
        l.sort_by(f64::total_cmp);
        l
    };
    let (replies, reminders) = (latency(REPLIES), latency(REMINDERS));
    let fanout_done = fake
        .calls_of("sendMessage")
        .into_iter()
        .filter(|c| c.message_id.is_some() && c.chat_id().is_some_and(|chat| chat <= n))
        .map(|c| c.at)
        .max();
    let first = fake.calls().first().map(|c| c.at);
    let fanout_secs = fanout_done
        .zip(first)
        .map_or(elapsed, |(last, first)| (last - first).as_seconds_f64());
    let rate = (fanned.len() + probes.len()) as f64 / fanout_secs;
    println!(
        "== fan-out on {label}: {n} attendees, {} probes",
        probes.len()
    );
    println!(
        "fan-out: {fanout_secs:.1} s, {rate:.1} msg/s = {:.3} of the cap (30/s)",
        rate / 30.0
    );
    println!(
        "requests: {requests}, answered 429: {refused} ({:.2} %)",
        100.0 * refused as f64 / requests.max(1) as f64
    );
    println!("lost: {lost}, duplicated: {duplicated}");
    if !blocked.is_empty() {
        let gone = outbox::list(&db)
            .await
            .expect("rows")
            .iter()
            .filter(|r| {
                r.state == outbox::OutboxState::GivenUp
                    && r.target.parse().is_ok_and(|c: i64| blocked.contains(&c))
            })
            .count();
        println!(
            "blocked: {} chats, {gone} recorded as given up (their accounts marked unreachable)",
            blocked.len()
        );
    }
    if kill_at.is_none() {
        println!(
            "process: {cpu:.1} CPU-seconds, {:.1} MB written",
            written as f64 / 1e6
        );
    }
    for (name, l) in [("reply", &replies), ("reminder", &reminders)] {
        println!(
            "{name} latency over {}: p50 {:.3} s, p99 {:.3} s, max {:.3} s",
            l.len(),
            support::percentile(l, 0.5),
            support::percentile(l, 0.99),
            l.last().copied().unwrap_or(f64::NAN)
        );
    }
    db.close().await;
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = format!("sqlite://{}", dir.path().join("fanout.db").display());
    run(&sqlite, "SQLite").await;
    if let Ok(base) = std::env::var("BENCH_DATABASE_URL") {
        let url = support::postgres_schema(&base).await;
        run(&url, "PostgreSQL").await;
    }
}
