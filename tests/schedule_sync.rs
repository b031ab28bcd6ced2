//! Schedules at a URL: `/import <url>` and the re-sync on an interval.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::{Arc, Mutex};

use axum::{Router, extract::State, http::StatusCode, routing::get};
use chrono::TimeDelta;
use herald::{clock::SharedClock, schedule::sync::sync_once, templates::Templates};
use support::{OWNER, TestApp, schedule_json};

/// A schedule server whose answer the test changes: `Ok(body)` or `Err(status)`.
type Answer = Arc<Mutex<Result<String, u16>>>;

async fn schedule_server(answer: Answer) -> String {
    async fn serve(State(answer): State<Answer>) -> (StatusCode, String) {
        match answer.lock().unwrap().clone() {
            Ok(body) => (StatusCode::OK, body),
            Err(code) => (StatusCode::from_u16(code).unwrap(), "oops".into()),
        }
    }
    let app = Router::new()
        .route("/schedule.json", get(serve))
        .with_state(answer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/schedule.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn an_imported_url_is_fetched_and_kept_in_sync_with_failures_reported_once() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    // An organisers' chat to hear about it.
    let replies = app.say(&OWNER, "/bind organisers").await;
    let code = support::code_in(&replies[0]);
    let organisers = -100_321;
    app.say_in(&OWNER, organisers, &code).await;

    let t0 = support::start_time();
    let first = schedule_json(&[(
        "a",
        "Keynote",
        "Janson",
        t0 + TimeDelta::days(1),
        60,
        "confirmed",
    )]);
    let answer: Answer = Arc::new(Mutex::new(Ok(first)));
    let url = schedule_server(answer.clone()).await;

    let replies = app.say(&OWNER, &format!("/import {url}")).await;
    assert!(replies[0].contains("within a minute"), "{replies:?}");
    let clock: SharedClock = app.clock.clone();
    let templates = Templates::new();
    assert_eq!(sync_once(app.db(), &clock, &templates).await.unwrap(), 1);
    app.send_everything().await;
    let notices = app.telegram.texts_to(organisers);
    assert!(
        notices.last().unwrap().contains("imported: 1 added"),
        "{notices:?}"
    );

    // Not due again before the interval.
    assert_eq!(sync_once(app.db(), &clock, &templates).await.unwrap(), 0);

    // The source moves the keynote; the next sync picks it up.
    *answer.lock().unwrap() = Ok(schedule_json(&[(
        "a",
        "Keynote",
        "Janson",
        t0 + TimeDelta::days(1) + TimeDelta::hours(1),
        60,
        "confirmed",
    )]));
    app.advance(TimeDelta::minutes(15));
    assert_eq!(sync_once(app.db(), &clock, &templates).await.unwrap(), 1);
    app.send_everything().await;
    assert!(
        app.telegram
            .texts_to(organisers)
            .last()
            .unwrap()
            .contains("1 moved")
    );

    // The source breaks: nothing changes, the organisers hear once.
    *answer.lock().unwrap() = Err(500);
    for _ in 0..2 {
        app.advance(TimeDelta::minutes(15));
        sync_once(app.db(), &clock, &templates).await.unwrap();
        app.send_everything().await;
    }
    let failures: Vec<_> = app
        .telegram
        .texts_to(organisers)
        .into_iter()
        .filter(|t| t.contains("could not be updated"))
        .collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("500"), "{failures:?}");
    let rows = herald::cli::import::schedule_rows(app.db(), "fosdem-2027")
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, "confirmed");
}

#[tokio::test]
async fn import_refuses_what_is_not_a_web_address() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let replies = app.say(&OWNER, "/import ftp://example.org/x").await;
    assert!(
        replies[0].contains("http:// or https:// address"),
        "{replies:?}"
    );
}
