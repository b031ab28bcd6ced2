//! The web server and the running application.

#![allow(clippy::unwrap_used)]

mod support;

use herald::Application;
use serde_json::Value;
use support::TestApp;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn healthz_reports_the_database_and_each_component() {
    let app = TestApp::spawn_with(|c| c.telegram = Default::default(), Default::default()).await;
    app.enqueue(42, "queued", "k").await;

    let response = app
        .http
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["state"], "ok");
    let expected_backend = if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(body["database"]["backend"], expected_backend);
    assert_eq!(body["components"]["telegram"]["state"], "disabled");
    assert_eq!(
        body["components"]["telegram"]["detail"],
        "HERALD_TELEGRAM_TOKEN is not set"
    );
    assert_eq!(body["queues"]["outbox"]["pending"], 1);
}

#[tokio::test]
async fn a_failing_component_makes_the_service_degraded_with_its_error() {
    let app = TestApp::spawn().await;
    let reporter = app.app.health.register("listener.mastodon");
    reporter.failing(app.now(), &anyhow::anyhow!("connection refused"));
    let body: Value = app
        .http
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["components"]["listener.mastodon"]["state"], "failing");
    assert_eq!(
        body["components"]["listener.mastodon"]["last_error"],
        "connection refused"
    );
}

#[tokio::test]
async fn run_serves_until_shutdown_and_then_stops_cleanly() {
    let fake = support::FakeTelegram::start().await;
    let (config, _dir) = support::test_config(&fake).await;
    let app = Application::build(config).await.unwrap();
    let url = format!("http://{}/healthz", app.local_addr());
    let db = app.db.clone();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(app.run(shutdown.clone()));

    // Written while running: the worker sends it without being asked.
    let message = herald::delivery::telegram::message(
        7,
        "test",
        "k",
        &herald_bots::telegram::OutgoingMessage::html("hi"),
        chrono::Utc::now(),
        None,
    )
    .unwrap();
    let mut tx = db.begin().await.unwrap();
    herald::db::outbox::enqueue(&mut tx, chrono::Utc::now(), &message)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        fake.wait_for_delivered(1, std::time::Duration::from_secs(5))
            .await
    );

    let body: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    assert_eq!(body["status"], "ok");
    for component in ["outbox", "inbox"] {
        // Listed from the start; "starting" until its first round completes, then "running".
        let state = body["components"][component]["state"]
            .as_str()
            .unwrap_or_default();
        assert!(
            ["starting", "running"].contains(&state),
            "{component}: {body}"
        );
    }

    shutdown.cancel();
    running.await.unwrap().unwrap();
    assert!(reqwest::get(&url).await.is_err(), "no longer listening");
}
