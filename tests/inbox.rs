//! The inbox: stored once, handled once, one bad event never blocks the next.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::TimeDelta;
use herald::{
    db::{
        Tx,
        inbox::{self as store, InboxEvent, InboxState, NewEvent},
        outbox,
    },
    delivery::telegram,
    inbox::{self, Handlers, InboxHandler, Received},
};
use herald_bots::telegram::OutgoingMessage;
use support::TestApp;

/// Answers each event with a Telegram message, written in the event's transaction — unless the payload
/// asks it to fail or panic, after writing.
#[derive(Debug)]
struct Echo;

#[async_trait]
impl InboxHandler for Echo {
    async fn handle(&self, mut tx: Tx, event: &InboxEvent) -> anyhow::Result<Tx> {
        let message = telegram::message(
            42,
            "echo",
            &format!("echo:{}:{}", event.provider, event.event_id),
            &OutgoingMessage::html(event.payload.clone()),
            support::start_time(),
            None,
        )?;
        outbox::enqueue(&mut tx, support::start_time(), &message).await?;
        match event.payload.as_str() {
            "fail" => anyhow::bail!("this payload is not understood"),
            "panic" => panic!("handler bug"),
            _ => Ok(tx),
        }
    }
}

async fn app_with_echo() -> TestApp {
    let mut handlers = Handlers::default();
    handlers.insert("test.echo", Arc::new(Echo));
    TestApp::spawn_with(|_| {}, handlers).await
}

fn event(id: &str, payload: &str) -> NewEvent {
    NewEvent {
        provider: "test".into(),
        event_id: id.into(),
        kind: "test.echo".into(),
        payload: payload.into(),
    }
}

async fn receive(app: &TestApp, e: &NewEvent) -> Received {
    let clock: herald::clock::SharedClock = app.clock.clone();
    inbox::receive(app.db(), &clock, e).await.expect("stored")
}

#[tokio::test]
async fn an_event_delivered_twice_is_stored_and_handled_once() {
    let app = app_with_echo().await;
    assert!(matches!(
        receive(&app, &event("u1", "hello")).await,
        Received::Stored(_)
    ));
    assert_eq!(
        receive(&app, &event("u1", "hello again")).await,
        Received::Duplicate
    );
    // The same id from another provider is another event.
    let other = NewEvent {
        provider: "other".into(),
        ..event("u1", "hi")
    };
    assert!(matches!(receive(&app, &other).await, Received::Stored(_)));

    let report = app.app.inbox.drain().await.unwrap();
    assert_eq!((report.done, report.failed), (2, 0));
    let texts: Vec<String> = outbox::list(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.body)
        .collect();
    assert_eq!(texts.len(), 2);
    assert!(
        texts[0].contains("\"hello\""),
        "the first arrival is the one kept: {texts:?}"
    );
}

#[tokio::test]
async fn a_failing_handler_marks_its_event_failed_and_the_next_ones_proceed() {
    let app = app_with_echo().await;
    for (id, payload) in [("1", "first"), ("2", "fail"), ("3", "panic"), ("4", "last")] {
        receive(&app, &event(id, payload)).await;
    }

    let report = app.app.inbox.drain().await.unwrap();
    assert_eq!((report.done, report.failed), (2, 2));

    let events = store::list(app.db()).await.unwrap();
    let states: Vec<_> = events
        .iter()
        .map(|e| (e.event_id.as_str(), e.state))
        .collect();
    assert_eq!(
        states,
        [
            ("1", InboxState::Done),
            ("2", InboxState::Failed),
            ("3", InboxState::Failed),
            ("4", InboxState::Done)
        ]
    );
    assert!(
        events[1]
            .last_error
            .as_deref()
            .unwrap()
            .contains("this payload is not understood")
    );
    assert!(
        events[2]
            .last_error
            .as_deref()
            .unwrap()
            .contains("handler panicked: handler bug")
    );

    // What the failed handlers wrote before failing was rolled back with them.
    let bodies: Vec<String> = outbox::list(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.idempotency_key)
        .collect();
    assert_eq!(
        bodies,
        ["echo:test:1/telegram:42", "echo:test:4/telegram:42"]
    );
}

#[tokio::test]
async fn a_malformed_body_is_kept_with_its_error_and_loses_nothing() {
    let app = app_with_echo().await;
    let raw = "{not json at all";
    receive(
        &app,
        &NewEvent {
            kind: "test.unknown".into(),
            ..event("x", raw)
        },
    )
    .await;
    app.app.inbox.drain().await.unwrap();
    let stored = &store::list(app.db()).await.unwrap()[0];
    assert_eq!(stored.payload, raw);
    assert_eq!(stored.state, InboxState::Failed);
    assert!(
        stored
            .last_error
            .as_deref()
            .unwrap()
            .contains("no handler for inbound events of kind \"test.unknown\"")
    );
}

#[tokio::test]
async fn processing_is_idempotent_and_survives_a_crash_mid_way() {
    let app = app_with_echo().await;
    receive(&app, &event("1", "one")).await;
    receive(&app, &event("2", "two")).await;

    // A processor claims both and dies.
    let lease = app.now() + TimeDelta::seconds(60);
    assert_eq!(
        store::claim(app.db(), app.now(), "dead", lease, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        app.app.inbox.drain().await.unwrap().done,
        0,
        "leased events are left alone"
    );

    app.advance(TimeDelta::seconds(61));
    assert_eq!(app.app.inbox.drain().await.unwrap().done, 2);
    assert_eq!(
        app.app.inbox.drain().await.unwrap().done,
        0,
        "done events are not handled again"
    );
    assert_eq!(outbox::list(app.db()).await.unwrap().len(), 2);

    // The dead processor cannot mark them any more.
    let mut tx = app.db().begin().await.unwrap();
    let events = store::list(app.db()).await.unwrap();
    assert!(
        !store::mark_done(&mut tx, app.now(), events[0].id, "dead")
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
}
