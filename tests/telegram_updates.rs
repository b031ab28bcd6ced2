//! Updates in: long polling acknowledges an offset only after the batch is stored; the webhook checks
//! its secret and answers 200 only once the update is stored.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use herald::{
    clock::SharedClock,
    db::inbox::{self, InboxState},
    telegram::updates::{ALLOWED_UPDATES, poll_once},
};
use serde_json::json;
use support::{ADA, TestApp};

#[tokio::test]
async fn polling_acknowledges_the_offset_only_after_the_batch_is_stored() {
    let app = TestApp::spawn().await;
    let client = app.app.telegram.clone().unwrap();
    let clock: SharedClock = app.clock.clone();
    for id in [10, 11, 12] {
        let mut update = app.message_update(&ADA, ADA.id, "/start");
        update["update_id"] = json!(id);
        app.telegram.push_update(update);
    }

    // A process fetches the batch and dies before storing it.
    let fetched = client
        .get_updates(None, Duration::ZERO, ALLOWED_UPDATES)
        .await
        .unwrap();
    assert_eq!(fetched.len(), 3);

    // The next poll asks from the stored offset (none), so Telegram sends the batch again.
    assert_eq!(
        poll_once(&client, app.db(), &clock, Duration::ZERO)
            .await
            .unwrap(),
        3
    );
    // Now the offset moves past the stored batch, and nothing comes twice.
    assert_eq!(
        poll_once(&client, app.db(), &clock, Duration::ZERO)
            .await
            .unwrap(),
        0
    );
    assert_eq!(app.telegram.get_updates_offsets(), [None, None, Some(13)]);

    let events = inbox::list(app.db()).await.unwrap();
    let ids: Vec<_> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids, ["10", "11", "12"]);

    // Stored twice by accident (a webhook retry, say): still one event.
    let again = herald::telegram::updates::store_updates(app.db(), &clock, &fetched)
        .await
        .unwrap();
    assert_eq!(again, 0);
}

async fn webhook_app() -> TestApp {
    TestApp::spawn_with(
        |c| {
            c.public_url = Some("https://herald.example.org/".parse().unwrap());
            c.telegram.mode = Some(herald::config::TelegramMode::Webhook);
        },
        Default::default(),
    )
    .await
}

#[tokio::test]
async fn the_webhook_refuses_a_wrong_secret_and_stores_before_answering() {
    let app = webhook_app().await;
    let url = format!("{}/telegram/webhook", app.base_url);
    let update = app.message_update(&ADA, ADA.id, "/help");

    let response = app.http.post(&url).json(&update).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let response = app
        .http
        .post(&url)
        .header("X-Telegram-Bot-Api-Secret-Token", "guess")
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(inbox::list(app.db()).await.unwrap().is_empty());

    let secret = {
        let mut tx = app.db().begin().await.unwrap();
        let s =
            herald::db::system::get_system(&mut tx, herald::telegram::updates::WEBHOOK_SECRET_KEY)
                .await
                .unwrap();
        tx.commit().await.unwrap();
        s.unwrap()
    };
    let response = app
        .http
        .post(&url)
        .header("X-Telegram-Bot-Api-Secret-Token", &secret)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        inbox::list(app.db()).await.unwrap().len(),
        1,
        "stored by the time 200 was answered"
    );
    let offset = {
        let mut tx = app.db().begin().await.unwrap();
        let o = herald::db::system::get_system(&mut tx, herald::telegram::updates::OFFSET_KEY)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        o
    };
    assert_eq!(offset, None, "the webhook writes no shared row");

    // A body that is not an update is kept (and fails visibly), and the caller is told.
    let response = app
        .http
        .post(&url)
        .header("X-Telegram-Bot-Api-Secret-Token", &secret)
        .body("{\"hello\": true}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    app.app.inbox.drain().await.unwrap();
    let events = inbox::list(app.db()).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].state, InboxState::Done);
    assert_eq!(events[1].state, InboxState::Failed);
    assert!(
        events[1]
            .last_error
            .as_deref()
            .unwrap()
            .contains("update without update_id"),
        "{events:?}"
    );
}

#[tokio::test]
async fn without_webhook_mode_the_route_says_so() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .post(format!("{}/telegram/webhook", app.base_url))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_nul_in_a_name_or_a_text_is_stored_as_a_replacement_character() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let token = app.invite("attendee").await;
    let mut update = app.message_update(&ADA, ADA.id, &format!("/start {token}"));
    update["message"]["from"]["first_name"] = json!("Ada\u{0}");
    let before = app.telegram.texts_to(ADA.id).len();
    // `deliver` fails the test when the inbox could not handle the update.
    app.deliver(&[update]).await;
    let welcome = app.telegram.texts_to(ADA.id).split_off(before).join("\n");
    assert!(welcome.contains("Welcome, Ada\u{fffd}!"), "{welcome}");
    let mut update = app.message_update(&ADA, ADA.id, "/whoami");
    update["message"]["text"] = json!("free text with a \u{0} in it");
    app.deliver(&[update]).await;
}
