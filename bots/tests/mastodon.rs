//! The Mastodon driver against an in-process fake instance.

#![allow(clippy::unwrap_used)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::{get, post},
};
use herald_bots::{
    Disposition,
    mastodon::{MastodonClient, MastodonError, NewStatus, Visibility},
};
use serde_json::{Value, json};

#[derive(Default)]
struct Fake {
    instance_calls: usize,
    statuses: Vec<(Option<String>, Value)>,
    by_key: HashMap<String, String>,
    fail_next: Option<u16>,
    media: Vec<String>,
}

type Shared = Arc<Mutex<Fake>>;

async fn instance(State(fake): State<Shared>) -> Json<Value> {
    fake.lock().unwrap().instance_calls += 1;
    Json(
        json!({ "domain": "fake.test", "configuration": { "statuses": { "max_characters": 1000 } } }),
    )
}

async fn statuses(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> impl IntoResponse {
    let mut fake = fake.lock().unwrap();
    if let Some(code) = fake.fail_next.take() {
        return (
            StatusCode::from_u16(code).unwrap(),
            Json(json!({ "error": "Validation failed: Text can't be blank" })),
        )
            .into_response();
    }
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap().to_owned());
    if let Some(existing) = key.as_ref().and_then(|k| fake.by_key.get(k)) {
        return Json(
            json!({ "id": existing, "url": format!("https://fake.test/@herald/{existing}") }),
        )
        .into_response();
    }
    let id = (fake.statuses.len() + 100).to_string();
    if let Some(k) = &key {
        fake.by_key.insert(k.clone(), id.clone());
    }
    fake.statuses.push((key, body));
    Json(json!({ "id": id, "url": format!("https://fake.test/@herald/{id}") })).into_response()
}

async fn media(State(fake): State<Shared>, body: axum::body::Bytes) -> Json<Value> {
    let text = String::from_utf8_lossy(&body).into_owned();
    let mut fake = fake.lock().unwrap();
    fake.media.push(text);
    Json(json!({ "id": format!("m{}", fake.media.len()), "type": "image" }))
}

async fn start() -> (MastodonClient, Shared) {
    let fake: Shared = Arc::default();
    let app = Router::new()
        .route("/api/v2/instance", get(instance))
        .route("/api/v1/statuses", post(statuses))
        .route("/api/v2/media", post(media))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (
        MastodonClient::new(url.parse().unwrap(), "secret-token", reqwest::Client::new()),
        fake,
    )
}

fn status(text: &str, key: &str) -> NewStatus {
    NewStatus {
        text: text.into(),
        in_reply_to_id: None,
        media_ids: Vec::new(),
        visibility: Visibility::Public,
        idempotency_key: key.into(),
    }
}

#[tokio::test]
async fn the_instance_limit_is_read_once() {
    let (client, fake) = start().await;
    assert_eq!(client.character_limit().await.unwrap(), 1000);
    assert_eq!(client.character_limit().await.unwrap(), 1000);
    assert_eq!(fake.lock().unwrap().instance_calls, 1);
}

#[tokio::test]
async fn a_retried_post_with_the_same_key_posts_once_and_replies_chain() {
    let (client, fake) = start().await;
    let first = client
        .post_status(&status("Hello FOSDEM", "post-1/mastodon:1"))
        .await
        .unwrap();
    let again = client
        .post_status(&status("Hello FOSDEM", "post-1/mastodon:1"))
        .await
        .unwrap();
    assert_eq!(first.id, again.id);
    let mut reply = status("second part", "post-1/mastodon:1#2");
    reply.in_reply_to_id = Some(first.id.clone());
    client.post_status(&reply).await.unwrap();
    let fake = fake.lock().unwrap();
    assert_eq!(fake.statuses.len(), 2);
    assert_eq!(fake.statuses[1].1["in_reply_to_id"], json!(first.id));
    assert_eq!(fake.statuses[0].0.as_deref(), Some("post-1/mastodon:1"));
}

#[tokio::test]
async fn media_carries_its_alt_text_and_errors_say_what_to_do() {
    let (client, fake) = start().await;
    let id = client
        .upload_media(
            b"\x89PNG fake".to_vec(),
            "image/png",
            "A crowded lecture hall",
        )
        .await
        .unwrap();
    assert_eq!(id, "m1");
    assert!(fake.lock().unwrap().media[0].contains("A crowded lecture hall"));

    fake.lock().unwrap().fail_next = Some(422);
    let err = client.post_status(&status("", "k")).await.unwrap_err();
    assert_eq!(err.disposition(), Disposition::Permanent);
    assert!(err.to_string().contains("Text can't be blank"), "{err}");
    fake.lock().unwrap().fail_next = Some(503);
    let err = client.post_status(&status("x", "k2")).await.unwrap_err();
    assert!(matches!(err, MastodonError::Server { code: 503, .. }));
    assert_eq!(err.disposition(), Disposition::Transient);
    assert!(!format!("{client:?}").contains("secret-token"));
}

/// Real statuses: mention markup from a Mastodon 4 server (Mastodon.py's recordings) and a cut link from
/// mastodon.social (the documentation's example).
#[test]
fn recorded_status_html_reads_as_plain_text() {
    let read = |name: &str| -> serde_json::Value {
        let path = format!(
            "{}/../tests/fixtures/mastodon/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let mention = read("notification-mention-single.json");
    assert_eq!(
        herald_bots::html::to_text(mention["status"]["content"].as_str().unwrap()),
        "@mastodonpy_test hello!"
    );
    let listed = read("notifications-list-types-mention.json");
    assert_eq!(
        herald_bots::html::to_text(listed[0]["status"]["content"].as_str().unwrap()),
        "@mastodonpy_test hello!"
    );
    let reply = read("status-post-reply.json");
    assert_eq!(
        herald_bots::html::to_text(reply["content"].as_str().unwrap()),
        "@mastodonpy_test_2 same!"
    );
    let status = read("docs-entity-Status-example.json");
    assert_eq!(
        herald_bots::html::to_text(status["content"].as_str().unwrap()),
        "\"I lost my inheritance with one wrong digit on my sort code\"\n\n\
         https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code"
    );
}
