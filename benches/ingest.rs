//! Telegram webhook ingest: a burst of updates posted to Herald's webhook by many connections at once,
//! while the inbox worker handles them (each a `/help` from its own user, answered through the outbox).
//!
//! cargo bench --bench ingest                             # 20,000 updates, 64 connections, SQLite
//! INGEST_N=50000 INGEST_CONNECTIONS=128 cargo bench --bench ingest
//! BENCH_DATABASE_URL=postgres://… cargo bench --bench ingest   # and PostgreSQL (a fresh schema)
//! INGEST_IMPORT=100000 cargo bench --bench ingest        # and a 100,000-event ICS imported meanwhile
//!
//! Reported: updates accepted per second and the latency of the webhook's answers (p50, p99), that every
//! update answered 200 is stored once, and how long after the burst the inbox had handled them all; with
//! an import, how long it took, the answers that were not 200 and the latency while it ran.

mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use herald::{
    app::Application,
    config::{Config, Secret, SecretUrl, TelegramMode},
    db::{inbox, system},
    telegram::updates::WEBHOOK_SECRET_KEY,
};
use tokio_util::sync::CancellationToken;

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn update(n: i64) -> serde_json::Value {
    let user = 1_000_000 + n;
    serde_json::json!({
        "update_id": n,
        "message": {
            "message_id": n, "date": 1_798_000_000,
            "chat": { "id": user, "type": "private", "first_name": "Load" },
            "from": { "id": user, "is_bot": false, "first_name": "Load" },
            "text": "/help"
        }
    })
}

/// An ICS file of `n` events: 20 rooms, 30-minute slots over the conference's days.
fn schedule(n: usize) -> String {
    let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n");
    for i in 0..n {
        let slot = i / 20;
        let start = chrono::NaiveDate::from_ymd_opt(2027, 2, 6)
            .and_then(|d| d.and_hms_opt(8, 0, 0))
            .expect("date")
            + chrono::TimeDelta::minutes(30 * slot as i64);
        let end = start + chrono::TimeDelta::minutes(25);
        ics.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:load-{i}@bench\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:{}Z\r\nDTEND:{}Z\r\nSUMMARY:Talk {i}\r\nLOCATION:Room {}\r\nEND:VEVENT\r\n",
            start.format("%Y%m%dT%H%M%S"),
            end.format("%Y%m%dT%H%M%S"),
            i % 20
        ));
    }
    ics.push_str("END:VCALENDAR\r\n");
    ics
}

async fn run(database_url: String, label: &str) {
    let n: i64 = env("INGEST_N").unwrap_or(20_000);
    let connections: usize = env("INGEST_CONNECTIONS").unwrap_or(64);
    let mut config = Config {
        database_url: SecretUrl::new(database_url),
        listen: "127.0.0.1:0".parse().expect("addr"),
        log: "warn".into(),
        public_url: Some("http://127.0.0.1:1/".parse().expect("url")),
        ..Config::default()
    };
    config.telegram.token = Some(Secret::new("1:BENCH"));
    // Nothing is sent: replies wait in the outbox.
    config.telegram.api_url = Some("http://127.0.0.1:9/".parse().expect("url"));
    config.telegram.mode = Some(TelegramMode::Webhook);
    let mut app = Application::build(config).await.expect("application");
    let secret = {
        let mut tx = app.db.begin().await.expect("begin");
        let s = system::get_system(&mut tx, WEBHOOK_SECRET_KEY)
            .await
            .expect("secret");
        tx.commit().await.expect("commit");
        s.expect("webhook mode made a secret")
    };
    let url = format!("http://{}/telegram/webhook", app.local_addr());
    let _web = app.spawn_web().expect("web");
    let shutdown = CancellationToken::new();
    let worker = tokio::spawn(
        app.inbox
            .clone()
            .run(shutdown.clone(), app.health.register("inbox")),
    );

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .expect("client");
    let started = Instant::now();
    // With INGEST_IMPORT, a large schedule is imported half a second into the burst, as `/import` would.
    let import = env::<usize>("INGEST_IMPORT").map(|events| {
        let (db, clock, templates) = (app.db.clone(), app.clock.clone(), app.templates.clone());
        let text = schedule(events);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let from = started.elapsed().as_secs_f64();
            let (_, summary) = herald::schedule::source::import_schedule(
                &db,
                &clock,
                &templates,
                "load-2027",
                &text,
                Some("Europe/Brussels"),
            )
            .await
            .expect("import");
            (from, started.elapsed().as_secs_f64(), summary.added)
        })
    });
    let latencies: Vec<(u16, f64, f64)> = futures::stream::iter(1..=n)
        .map(|i| {
            let (http, url, secret) = (http.clone(), url.clone(), secret.clone());
            async move {
                let sent = Instant::now();
                let status = http
                    .post(&url)
                    .header("X-Telegram-Bot-Api-Secret-Token", &secret)
                    .json(&update(i))
                    .send()
                    .await
                    .map_or(0, |r| r.status().as_u16());
                let at = sent.duration_since(started).as_secs_f64();
                (status, at, sent.elapsed().as_secs_f64())
            }
        })
        .buffer_unordered(connections)
        .collect()
        .await;
    let burst = started.elapsed().as_secs_f64();
    let accepted = latencies.iter().filter(|(s, ..)| *s == 200).count();
    let mut ms: Vec<f64> = latencies.iter().map(|(.., l)| l * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    if let Some(import) = import {
        let (from, to, added) = import.await.expect("import task");
        let during: Vec<&(u16, f64, f64)> = latencies
            .iter()
            .filter(|(_, at, l)| *at <= to && at + l >= from)
            .collect();
        let refused = during.iter().filter(|(s, ..)| *s != 200).count();
        let mut during_ms: Vec<f64> = during.iter().map(|(.., l)| l * 1000.0).collect();
        during_ms.sort_by(f64::total_cmp);
        println!(
            "import: {added} sessions in {:.1} s (from {from:.1} s into the burst{}); {} webhook answers overlapped it: {refused} not 200, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            to - from,
            if to > burst { ", ending after it" } else { "" },
            during.len(),
            support::percentile(&during_ms, 0.5),
            support::percentile(&during_ms, 0.99),
            during_ms.last().copied().unwrap_or(f64::NAN)
        );
    }
    let handled_during = inbox::counts(&app.db)
        .await
        .expect("counts")
        .into_iter()
        .filter(|(state, _)| state == "done")
        .map(|(_, n)| n)
        .sum::<i64>();
    // The backlog after the burst: until every stored update is handled.
    let after = Instant::now();
    loop {
        let pending: i64 = inbox::backlog(&app.db)
            .await
            .expect("backlog")
            .into_iter()
            .map(|(_, n)| n)
            .sum();
        if pending == 0 || after.elapsed() > Duration::from_secs(600) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drained = after.elapsed().as_secs_f64();
    let stored = inbox::list(&app.db).await.expect("list").len();
    shutdown.cancel();
    worker.await.expect("inbox worker");
    println!("== webhook ingest on {label}: {n} updates over {connections} connections");
    println!(
        "accepted: {accepted} of {n} ({:.0} updates/s); answers p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        accepted as f64 / burst,
        support::percentile(&ms, 0.5),
        support::percentile(&ms, 0.99),
        ms.last().copied().unwrap_or(f64::NAN)
    );
    println!("stored: {stored} (each update once)");
    println!(
        "inbox: {handled_during} handled during the {burst:.1} s burst ({:.0}/s); the rest {drained:.1} s after it",
        handled_during as f64 / burst
    );
    assert_eq!(stored, n as usize, "every update stored once");
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = format!("sqlite://{}", dir.path().join("ingest.db").display());
    run(sqlite, "SQLite").await;
    if let Ok(base) = std::env::var("BENCH_DATABASE_URL") {
        let url = support::postgres_schema(&base).await;
        run(url, "PostgreSQL").await;
    }
}
