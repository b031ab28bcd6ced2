//! Graceful shutdown: sends in flight finish and are recorded; what cannot finish is handed back.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use herald::{
    Application,
    db::{Db, outbox, outbox::OutboxState},
};
use herald_bots::telegram::OutgoingMessage;
use support::{FakeTelegram, Fault};
use tokio_util::sync::CancellationToken;

/// Runs the whole application with one message queued whose send is slow, and stops it mid-send.
async fn stop_during_a_slow_send(
    grace_secs: u64,
    slowness: Duration,
) -> (outbox::OutboxRow, FakeTelegram) {
    let fake = FakeTelegram::start().await;
    fake.fail_next_to(42, Fault::Slow(slowness));
    let (mut config, _dir) = support::test_config(&fake).await;
    config.outbox.shutdown_grace_secs = grace_secs;
    config.outbox.send_timeout_ms = 10_000;
    let url = config.database_url.expose().to_owned();
    let app = Application::build(config).await.unwrap();

    let now = chrono::Utc::now();
    let message = herald::delivery::telegram::message(
        42,
        "test",
        "slow",
        &OutgoingMessage::html("slow"),
        now,
        None,
    )
    .unwrap();
    let mut tx = app.db.begin().await.unwrap();
    let id = outbox::enqueue(&mut tx, now, &message).await.unwrap().id();
    tx.commit().await.unwrap();

    let shutdown = CancellationToken::new();
    let running = tokio::spawn(app.run(shutdown.clone()));
    assert!(
        fake.wait_for_method("sendMessage", Duration::from_secs(5))
            .await,
        "the send started"
    );
    shutdown.cancel();
    running.await.unwrap().unwrap();

    // The application closed its pool on the way out; look with a fresh one.
    let db = Db::connect(&url).await.unwrap();
    let row = outbox::get(&db, id).await.unwrap().unwrap();
    db.close().await;
    (row, fake)
}

#[tokio::test]
async fn a_send_in_flight_at_shutdown_finishes_and_is_recorded() {
    let (row, fake) = stop_during_a_slow_send(10, Duration::from_millis(300)).await;
    assert_eq!(row.state, OutboxState::Sent);
    assert_eq!(fake.delivered(), [(42, "slow".to_owned())]);
}

#[tokio::test]
async fn a_send_that_outlasts_the_grace_period_is_handed_back_with_the_reason() {
    let (row, _fake) = stop_during_a_slow_send(0, Duration::from_secs(3)).await;
    assert_eq!(
        row.state,
        OutboxState::Pending,
        "queued again for the next start, not lost"
    );
    assert_eq!(row.lease_owner, None);
    assert!(row.last_error.unwrap().contains("interrupted by shutdown"));
}
