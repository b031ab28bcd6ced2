//! Schedule import times for the real 39C3 (215 sessions) and FOSDEM 2024 (674 sessions) exports:
//! parsing alone, and a whole import into a fresh database (one transaction, reminders included).
//!
//! cargo bench --bench import                        # SQLite
//! BENCH_DATABASE_URL=postgres://… cargo bench --bench import   # and PostgreSQL

mod support;

use std::{sync::Arc, time::Instant};
use support::postgres_schema;

use herald::{
    clock::{SharedClock, SystemClock},
    db::Db,
    schedule,
    templates::Templates,
};

const FILES: &[(&str, &str, Option<&str>)] = &[
    ("39c3", "39c3-schedule-20251206.xml", None),
    (
        "fosdem-2024",
        "fosdem-2024-schedule.xml",
        Some("Europe/Brussels"),
    ),
];

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock: SharedClock = Arc::new(SystemClock);
    let templates = Templates::new();
    for (slug, file, tz) in FILES {
        let path = format!(
            "{}/tests/fixtures/schedules/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).expect("fixture");
        let zone = tz.map(|t| t.parse().expect("tz"));
        let started = Instant::now();
        let runs = 20;
        for _ in 0..runs {
            schedule::parse(&text, zone).expect("parses");
        }
        let parse_ms = started.elapsed().as_secs_f64() * 1000.0 / f64::from(runs);

        let mut urls = vec![(
            "SQLite",
            format!(
                "sqlite://{}",
                dir.path().join(format!("{slug}.db")).display()
            ),
        )];
        if let Ok(base) = std::env::var("BENCH_DATABASE_URL") {
            urls.push(("PostgreSQL", postgres_schema(&base).await));
        }
        for (backend, url) in urls {
            let db = Db::connect(&url).await.expect("db");
            db.migrate().await.expect("migrate");
            let started = Instant::now();
            let (_, summary) = herald::schedule::source::import_schedule(
                &db, &clock, &templates, slug, &text, *tz,
            )
            .await
            .expect("import");
            let first = started.elapsed().as_secs_f64() * 1000.0;
            let started = Instant::now();
            herald::schedule::source::import_schedule(&db, &clock, &templates, slug, &text, *tz)
                .await
                .expect("reimport");
            let again = started.elapsed().as_secs_f64() * 1000.0;
            println!(
                "{file:<28} {backend:<10} {:>4} sessions  parse {parse_ms:>6.1} ms  first import {first:>7.1} ms  re-import {again:>7.1} ms",
                summary.added
            );
            db.close().await;
        }
    }
}
