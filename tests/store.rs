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

#[tokio::test]
async fn only_one_process_holds_a_singleton_job_at_a_time() {
    let (url, _dir) = support::fresh_database().await;
    let first = Db::connect(&url).await.unwrap();
    let second = Db::connect(&url).await.unwrap();
    first.migrate().await.unwrap();
    let held = first.try_singleton(42).await.unwrap();
    assert!(held.is_some());
    let other = second.try_singleton(42).await.unwrap();
    match first.backend() {
        herald::db::Backend::Postgres => {
            assert!(other.is_none(), "a second process must wait");
            held.unwrap().release(42).await.unwrap();
            assert!(
                second.try_singleton(42).await.unwrap().is_some(),
                "free once released"
            );
        }
        herald::db::Backend::Sqlite => assert!(other.is_some(), "SQLite is one process by design"),
    }
}
