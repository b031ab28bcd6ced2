//! The store itself: the two migration folders stay twins; values round-trip on both backends.

#![allow(clippy::unwrap_used)]

mod support;

use std::{collections::BTreeSet, path::Path};

use chrono::TimeDelta;
use herald::db::{Db, outbox};

fn stems(dir: &str) -> BTreeSet<String> {
    std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn both_backends_have_the_same_migrations() {
    let sqlite = stems("migrations/sqlite");
    let postgres = stems("migrations/postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "every migration must be written for both backends under the same stem"
    );
}

#[tokio::test]
async fn migrations_apply_twice_without_harm() {
    let (url, _dir) = support::fresh_database().await;
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    db.migrate().await.unwrap();
    db.ping().await.unwrap();
}

#[tokio::test]
async fn timestamps_round_trip_and_order_as_times_on_both_backends() {
    let app = support::TestApp::spawn().await;
    // Sub-second due times, some with and some without fractions: text order must still be time order.
    let base = app.now();
    let offsets = [
        TimeDelta::milliseconds(1500),
        TimeDelta::seconds(1),
        TimeDelta::microseconds(1_000_001),
    ];
    let mut ids = Vec::new();
    for (n, offset) in offsets.iter().enumerate() {
        ids.push(
            app.enqueue_at(n as i64 + 1, "x", &format!("k{n}"), base + *offset, None)
                .await,
        );
    }
    for (id, offset) in ids.iter().zip(offsets) {
        assert_eq!(app.row(*id).await.due_at, base + offset);
    }
    assert_eq!(
        outbox::next_wake(app.db()).await.unwrap(),
        Some(base + TimeDelta::seconds(1))
    );
    app.advance(TimeDelta::microseconds(1_000_001));
    let report = app.drain_outbox().await;
    assert_eq!(
        report.sent, 2,
        "the 1.0 s and 1.000001 s rows are due, the 1.5 s row is not"
    );
}

#[tokio::test]
async fn a_bad_database_url_is_a_clear_error() {
    let err = Db::connect("mysql://localhost/herald").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("expected sqlite://… or postgres://…"),
        "{err}"
    );
}

#[test]
fn the_readme_lists_exactly_the_command_catalog() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("<!-- catalog:start -->\n")
        .expect("catalog markers")
        + "<!-- catalog:start -->\n".len();
    let end = readme
        .find("\n<!-- catalog:end -->")
        .expect("catalog end marker");
    assert_eq!(
        readme[start..end].trim(),
        herald_commands::catalog_markdown().trim(),
        "regenerate with `cargo run -p herald-commands --example catalog_markdown`"
    );
}

/// A job run under a lease by one of two "processes" (two connections to one database): what it records
/// is the name of the process running it, while it runs.
fn lease_job(
    db: &Db,
    name: &str,
    running: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    shutdown: &tokio_util::sync::CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let clock: herald::clock::SharedClock = std::sync::Arc::new(herald::clock::SystemClock);
    let singletons = herald::singleton::Singletons::new(db.clone(), clock, name);
    let health = herald::health::Health::default().register("job");
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        singletons
            .run("the-job", &health, &shutdown, |stop| {
                let (running, me) = (running.clone(), singletons.holder().to_owned());
                async move {
                    running.lock().unwrap().push(me.clone());
                    stop.cancelled().await;
                    running.lock().unwrap().retain(|r| *r != me);
                }
            })
            .await;
    })
}

async fn wait_for(
    running: &std::sync::Mutex<Vec<String>>,
    want: &[&str],
    within: std::time::Duration,
) -> std::time::Duration {
    let started = std::time::Instant::now();
    loop {
        if *running.lock().unwrap() == want {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "expected {want:?} within {within:?}, running: {:?}",
            running.lock().unwrap()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_singleton_job_runs_in_one_process_and_moves_when_that_process_dies_or_stops() {
    use std::time::Duration;
    let (url, _dir) = support::fresh_database().await;
    let (first, second) = (
        Db::connect(&url).await.unwrap(),
        Db::connect(&url).await.unwrap(),
    );
    first.migrate().await.unwrap();
    let running = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (a_stop, b_stop) = (
        tokio_util::sync::CancellationToken::new(),
        tokio_util::sync::CancellationToken::new(),
    );
    let a = lease_job(&first, "a", running.clone(), &a_stop);
    wait_for(&running, &["a"], Duration::from_secs(2)).await;
    let b = lease_job(&second, "b", running.clone(), &b_stop);
    // Two renewals later the job still runs in one process only.
    tokio::time::sleep(herald::singleton::RENEW * 2).await;
    assert_eq!(*running.lock().unwrap(), ["a"]);

    // "a" dies without a word (its lease is left behind): "b" takes over once the lease runs out.
    a.abort();
    let _ = a.await;
    running.lock().unwrap().clear();
    let took = wait_for(
        &running,
        &["b"],
        herald::singleton::TTL + herald::singleton::RENEW * 2,
    )
    .await;
    assert!(took <= Duration::from_secs(10), "taken over in {took:?}");

    // A process that stops gives the job up at once: the next one takes it at its next ask.
    let c_stop = tokio_util::sync::CancellationToken::new();
    let c = lease_job(&first, "c", running.clone(), &c_stop);
    b_stop.cancel();
    b.await.unwrap();
    wait_for(
        &running,
        &["c"],
        herald::singleton::RENEW + Duration::from_secs(1),
    )
    .await;
    c_stop.cancel();
    c.await.unwrap();
    let held = herald::db::leases::list(&first).await.unwrap();
    assert!(held.is_empty(), "given up on shutdown: {held:?}");
}

#[tokio::test]
async fn rows_held_by_a_worker_whose_heartbeat_stopped_are_due_again_at_once() {
    let app = support::TestApp::spawn().await;
    let now = app.now();
    for chat in 1..=3 {
        app.enqueue_at(chat, "x", &format!("k{chat}"), now, None)
            .await;
    }
    let lease = now + TimeDelta::seconds(60);
    // "alive" beats; "dead" stopped beating (its process died) while holding a row.
    herald::db::leases::acquire(app.db(), now, "alive", "alive", now + TimeDelta::seconds(6))
        .await
        .unwrap();
    let lanes = outbox::Lane::ALL;
    assert_eq!(
        outbox::claim(app.db(), now, "alive", lease, 1, &lanes)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        outbox::claim(app.db(), now, "dead", lease, 1, &lanes)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        herald::db::leases::reclaim_orphans(app.db(), now, "me", herald::db::leases::Queue::Outbox)
            .await
            .unwrap(),
        1,
        "only the dead worker's row"
    );
    let mine = outbox::claim(app.db(), now, "me", lease, 10, &lanes)
        .await
        .unwrap();
    assert_eq!(
        mine.len(),
        2,
        "the dead worker's row and the one never claimed; not the live worker's"
    );
    assert_eq!(
        herald::db::leases::reclaim_orphans(app.db(), now, "me", herald::db::leases::Queue::Outbox)
            .await
            .unwrap(),
        0,
        "never the asking worker's own rows"
    );
}

#[tokio::test]
async fn only_workers_with_a_live_heartbeat_count_as_sharing_a_queue() {
    use herald::db::leases::{self, Queue};
    let app = support::TestApp::spawn().await;
    let now = app.now();
    let live = now + TimeDelta::seconds(6);
    leases::acquire(app.db(), now, "outbox-a", "outbox-a", live)
        .await
        .unwrap();
    leases::acquire(app.db(), now, "outbox-b", "outbox-b", live)
        .await
        .unwrap();
    leases::acquire(app.db(), now, "inbox-a", "inbox-a", live)
        .await
        .unwrap();
    leases::acquire(
        app.db(),
        now - TimeDelta::seconds(60),
        "outbox-dead",
        "outbox-dead",
        now - TimeDelta::seconds(54),
    )
    .await
    .unwrap();
    assert_eq!(
        leases::live_workers(app.db(), now, Queue::Outbox)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        leases::live_workers(app.db(), now, Queue::Inbox)
            .await
            .unwrap(),
        1
    );
}
